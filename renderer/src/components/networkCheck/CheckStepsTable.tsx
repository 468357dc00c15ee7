import { formatMs, statusText, type CheckStep } from '../../call/networkCheck.js';

/** One row per step: what was checked, the result in words, its time, and what that means. */
export function CheckStepsTable({ steps }: { steps: CheckStep[] }) {
  return (
    <table className="check-table">
      <caption className="sr-only">Network check steps</caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Result</th>
          <th scope="col">Time</th>
          <th scope="col">What it means</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((step) => (
          <tr key={step.id} data-step={step.id} className={`check-row check-${step.status}${step.blocked ? ' check-blocked' : ''}`}>
            <th scope="row">{step.label}</th>
            <td className="check-status">{statusText(step)}</td>
            <td className="check-time">{formatMs(step.ms)}</td>
            <td>
              {step.verdict}
              {step.detail != null && (
                <details className="check-detail">
                  <summary>Details</summary>
                  <span className="mono">{step.detail}</span>
                </details>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
