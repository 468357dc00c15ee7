import { useState } from 'react';
import type { UpdateStatus } from '../../../shared/ipc/shellServices.js';
import { desktopClient } from '../desktop.js';
import { useUpdateStatus } from './useUpdateStatus.js';

/** Where updates are, in words. */
export function updateStatusText(status: UpdateStatus): string {
  switch (status.state) {
    case 'disabled':
      return status.message ?? 'Updates are off.';
    case 'idle':
      return 'No update is waiting. ZeroRange checks once a day.';
    case 'checking':
      return 'Checking for updates…';
    case 'deferred':
      return 'An update check waits for your call to end.';
    case 'downloading':
      return `Downloading ZeroRange ${status.version ?? ''}${status.percent != null ? ` (${status.percent}%)` : ''}…`;
    case 'ready':
      return status.inCall
        ? `ZeroRange ${status.version ?? ''} is ready: it installs after your call, when you restart or quit.`
        : `ZeroRange ${status.version ?? ''} is ready: it installs when you restart or quit.`;
    case 'error':
      return status.message ?? 'The last update check failed; ZeroRange tries again tomorrow.';
  }
}

/** Settings → Updates: where updates are, and a check on demand. */
export function UpdateSettings() {
  const { status, setStatus, loadError } = useUpdateStatus();
  const [problem, setProblem] = useState('');
  const check = () => {
    setProblem('');
    desktopClient()
      .checkForUpdates()
      .then(setStatus)
      .catch((err: Error) => setProblem(err.message));
  };
  const busy = status?.state === 'checking' || status?.state === 'downloading';
  return (
    <section className="card" aria-labelledby="settings-updates">
      <h2 id="settings-updates">Updates</h2>
      <p role="status">{problem || loadError || (status ? updateStatusText(status) : 'Loading…')}</p>
      {status != null && status.state !== 'disabled' && status.state !== 'ready' && (
        <button type="button" onClick={check} disabled={busy} aria-busy={busy}>
          Check for updates
        </button>
      )}
    </section>
  );
}
