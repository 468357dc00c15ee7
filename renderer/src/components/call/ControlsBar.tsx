import { useMemo, useState } from 'react';
import { callController } from '../../controllers/index.js';
import { useAppStore } from '../../store/index.js';
import { leaveCall, run, toggleCamera, toggleMicrophone } from './actions.js';
import { DeviceMenu } from './DeviceMenu.js';
import { useCallShortcuts } from './useCallShortcuts.js';

/**
 * Mute, camera, screen share, devices, leave. Each toggle says what it will do and is pressed while
 * its "off" state holds (muted, camera off, sharing). Shortcuts: M and V.
 */
export function ControlsBar() {
  const media = useAppStore((s) => s.call.local.media);
  const statsOpen = useAppStore((s) => s.call.statsPanelOpen);
  const toggleStats = () => useAppStore.getState().callPatch({ statsPanelOpen: !useAppStore.getState().call.statsPanelOpen });
  // Said out loud after a shortcut, where focus (and so the button's new name) is elsewhere.
  const [announcement, setAnnouncement] = useState('');

  const shortcuts = useMemo(
    () => ({
      m: () => run(toggleMicrophone().then((on) => setAnnouncement(on ? 'Microphone on' : 'Microphone muted')), 'Toggling the microphone'),
      v: () => run(toggleCamera().then((on) => setAnnouncement(on ? 'Camera on' : 'Camera off')), 'Toggling the camera'),
      s: () => useAppStore.getState().callPatch({ statsPanelOpen: !useAppStore.getState().call.statsPanelOpen }),
    }),
    [],
  );
  useCallShortcuts(shortcuts);

  return (
    <section className="controls" aria-label="Call controls">
      <button
        type="button"
        aria-pressed={!media.audio}
        aria-keyshortcuts="M"
        title={media.audio ? 'Mute your microphone (M)' : 'Unmute your microphone (M)'}
        onClick={() => run(toggleMicrophone(), 'Toggling the microphone')}
      >
        {media.audio ? 'Mute' : 'Unmute'}
      </button>
      <button
        type="button"
        aria-pressed={!media.video}
        aria-keyshortcuts="V"
        title={media.video ? 'Turn your camera off (V)' : 'Turn your camera on (V)'}
        onClick={() => run(toggleCamera(), 'Toggling the camera')}
      >
        {media.video ? 'Turn camera off' : 'Turn camera on'}
      </button>
      <button
        type="button"
        aria-pressed={media.screen}
        title={media.screen ? 'Stop sharing your screen' : 'Share your screen or a window'}
        onClick={() => run(callController().toggleScreenShare(), 'Screen sharing')}
      >
        {media.screen ? 'Stop sharing' : 'Share screen'}
      </button>
      <DeviceMenu />
      <button type="button" aria-pressed={statsOpen} aria-keyshortcuts="S" title="Connection statistics (S)" onClick={toggleStats}>
        Stats
      </button>
      <button type="button" className="danger" onClick={leaveCall}>
        Leave call
      </button>
      <div className="sr-only" aria-live="polite">
        {announcement}
      </div>
    </section>
  );
}
