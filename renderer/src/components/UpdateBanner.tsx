import { useEffect, useState } from 'react';
import type { UpdateStatus } from '../../../shared/ipc/shellServices.js';
import { desktopClient } from '../desktop.js';

/**
 * "Restart to update", once an update is downloaded and verified. Never shown during a call (main
 * would refuse the restart then anyway); an update not installed by hand installs when the app quits.
 */
export function UpdateBanner() {
  const [status, setStatus] = useState<UpdateStatus | null>(null);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    const client = desktopClient();
    let live = true;
    const off = client.onUpdateStatus((s) => setStatus(s));
    client
      .updateStatus()
      .then((s) => live && setStatus((current) => current ?? s))
      .catch(() => undefined); // no banner: updates are not the page's business when main cannot answer
    return () => {
      live = false;
      off();
    };
  }, []);

  if (status?.state !== 'ready' || status.inCall) return null;
  const restart = () => {
    setProblem('');
    desktopClient()
      .restartToUpdate()
      .catch((err: Error) => setProblem(err.message));
  };
  return (
    <div className="notice notice-info update-banner" role="status">
      <p>
        ZeroRange {status.version} is ready to install. It installs when you quit, or now with a restart.
        {problem && ` ${problem}`}
      </p>
      <button type="button" onClick={restart}>
        Restart to update
      </button>
    </div>
  );
}
