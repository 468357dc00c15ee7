import { useEffect } from 'react';
import { networkCheckController } from '../controllers/index.js';
import { run } from '../components/call/actions.js';
import { ExportDiagnostics } from '../components/ExportDiagnostics.js';
import { CheckStepsTable } from '../components/networkCheck/CheckStepsTable.js';
import { CheckSummary } from '../components/networkCheck/CheckSummary.js';
import { PublicAddress } from '../components/networkCheck/PublicAddress.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { selectNetworkCheck, selectNetworkCheckRunning, selectServerOrigin, useAppStore } from '../store/index.js';

/** "Check my network": every way a call can reach the server from here, and what to do about the ones that fail. */
export function NetworkCheckScreen() {
  const state = useAppStore(selectNetworkCheck);
  const running = useAppStore(selectNetworkCheckRunning);
  const server = useAppStore(selectServerOrigin);
  const fromRoom = useAppStore((s) => s.room.status === 'joined');
  const navigate = useAppStore((s) => s.navigate);

  // Leaving the screen (Back, sign-out, another server) stops a check under way and closes its probes.
  useEffect(() => () => networkCheckController().stop(), []);

  function back() {
    networkCheckController().stop();
    navigate('main');
  }

  const result = state.current;
  return (
    <ScreenLayout
      title="Check my network"
      actions={
        <button type="button" onClick={back}>
          Back
        </button>
      }
    >
      <p className="hint">
        Tries each way a call can reach {server != null ? <span className="mono">{server}</span> : 'the server'} from this network:
        the server itself, STUN, and the relay (TURN) over UDP, TCP and TLS on port 443, then a short encrypted test call through
        the relay. Nothing is sent to anyone else{fromRoom ? ', and your call has not started yet' : ''}.
      </p>
      <div className="actions">
        <button type="button" className="primary" onClick={() => run(networkCheckController().run(), 'The network check')} disabled={running} aria-busy={running}>
          {state.latest != null ? 'Run again' : 'Run the check'}
        </button>
      </div>
      {result != null && (
        <section className="card" aria-labelledby="check-steps-title">
          <h2 id="check-steps-title">Steps</h2>
          <CheckStepsTable steps={result.steps} />
          {state.status === 'done' && state.publicAddress != null && <PublicAddress address={state.publicAddress} />}
        </section>
      )}
      <CheckSummary state={state} />
      {state.latest != null && !running && (
        <section className="card" aria-label="Diagnostics">
          <ExportDiagnostics />
        </section>
      )}
    </ScreenLayout>
  );
}
