import { useEffect, useState } from 'react';
import { callController } from '../controllers/index.js';
import { leaveCall, run } from '../components/call/actions.js';
import { CameraPreview } from '../components/call/CameraPreview.js';
import { DeviceSelects } from '../components/call/DeviceSelects.js';
import { LevelMeter } from '../components/call/LevelMeter.js';
import { NetworkPolicyField } from '../components/call/NetworkPolicyField.js';
import { StartToggles } from '../components/call/StartToggles.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { selectCallPhase, useAppStore } from '../store/index.js';

interface PreJoinScreenProps {
  roomId: string;
  server: string;
  roomSizeLimit: number;
}

/** Before the call: see and hear yourself, pick devices and the network policy, then join. */
export function PreJoinScreen({ roomId, server, roomSizeLimit }: PreJoinScreenProps) {
  const phase = useAppStore(selectCallPhase);
  const navigate = useAppStore((s) => s.navigate);
  const [joining, setJoining] = useState(false);

  // Opens camera and microphone; the controller ignores a second call for the same room (StrictMode).
  useEffect(() => {
    if (phase === 'idle') run(callController().prepare(roomId), 'Opening the preview');
  }, [phase, roomId]);

  // The signaling socket opens while this screen shows, so Join call only sends `join`; it closes when the screen goes.
  useEffect(() => callController().warmUp(roomId), [roomId]);

  function joinCall() {
    setJoining(true);
    run(
      callController()
        .join()
        .finally(() => setJoining(false)),
      'Joining the call',
    );
  }

  return (
    <ScreenLayout title={`Room ${roomId}`}>
      <p role="status" className="status">
        Ready to join
      </p>
      <p className="hint">
        On <span className="mono">{server}</span>, for up to {roomSizeLimit} people.
      </p>
      <div className="columns prejoin">
        <section className="card" aria-labelledby="prejoin-you">
          <h2 id="prejoin-you">Preview</h2>
          <CameraPreview />
          <LevelMeter />
          <StartToggles />
        </section>
        <section className="card" aria-labelledby="prejoin-settings">
          <h2 id="prejoin-settings">Devices and network</h2>
          <DeviceSelects />
          <NetworkPolicyField />
          <button type="button" onClick={() => navigate('network-check')}>
            Check my network
          </button>
        </section>
      </div>
      <div className="actions prejoin-actions">
        <button type="button" className="primary" onClick={joinCall} disabled={phase !== 'prejoin' || joining} aria-busy={joining}>
          Join call
        </button>
        <button type="button" onClick={leaveCall}>
          Leave
        </button>
      </div>
    </ScreenLayout>
  );
}
