import { BRIDGE_MISSING_MESSAGE } from '../desktop.js';
import { selectStartupError, useAppStore } from '../store/index.js';

export function StartingScreen() {
  return (
    <main className="screen screen-centered">
      <p role="status" className="status">
        Starting ZeroRange…
      </p>
    </main>
  );
}

/** Nothing works without main: say why plainly instead of showing a broken app. */
export function CannotStartScreen() {
  const error = useAppStore(selectStartupError);
  const bootstrap = useAppStore((s) => s.bootstrap);
  const bridgeMissing = error?.code === 'bridge-missing';
  return (
    <main className="screen screen-centered">
      <h1>ZeroRange cannot start</h1>
      {bridgeMissing ? (
        <p>{BRIDGE_MISSING_MESSAGE}</p>
      ) : (
        <>
          <p>The window could not get its state from the desktop app.</p>
          <p className="hint">{error?.message ?? 'Unknown error.'}</p>
        </>
      )}
      {!bridgeMissing && (
        <div className="actions">
          <button type="button" className="primary" onClick={() => void bootstrap()}>
            Try again
          </button>
        </div>
      )}
    </main>
  );
}
