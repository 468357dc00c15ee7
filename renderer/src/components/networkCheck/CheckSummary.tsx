import type { NetworkCheckState } from '../../store/index.js';

function progress(state: NetworkCheckState): string {
  switch (state.status) {
    case 'idle':
      return 'Not checked yet. The check takes up to about 15 seconds.';
    case 'preparing':
      return 'Getting test credentials from the server…';
    case 'running': {
      const steps = state.current?.steps ?? [];
      const done = steps.filter((s) => s.status !== 'pending' && s.status !== 'running').length;
      return `Checking… ${done} of ${steps.length} steps done.`;
    }
    case 'failed':
      return state.error?.message ?? 'The network check could not start.';
    case 'done':
      return '';
  }
}

/** The outcome (a live region): which paths work, the setting calls will use, and advice for an administrator. */
export function CheckSummary({ state }: { state: NetworkCheckState }) {
  const summary = state.status === 'done' ? state.current?.summary : null;
  return (
    <section className="card check-summary" role="status" aria-labelledby="check-summary-title">
      <h2 id="check-summary-title">Summary</h2>
      {summary == null ? (
        <p>{progress(state)}</p>
      ) : (
        <>
          <p className={`status check-outcome-${summary.outcome}`}>{summary.headline}</p>
          <ul className="check-paths">
            {summary.paths.map((path) => (
              <li key={path.name}>
                {path.name}: {path.works ? 'works' : 'blocked'}
              </li>
            ))}
          </ul>
          <p>{summary.policyText}</p>
          {summary.advice != null && (
            <p>
              <strong>For your network administrator:</strong> {summary.advice}
            </p>
          )}
        </>
      )}
    </section>
  );
}
