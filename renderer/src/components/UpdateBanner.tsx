import { useState } from 'react';
import { desktopClient } from '../desktop.js';
import { useUpdateStatus } from './useUpdateStatus.js';

/**
 * "Restart to update", once an update is downloaded and verified. Never shown during a call (main
 * would refuse the restart then anyway); an update not installed by hand installs when the app quits.
 */
export function UpdateBanner() {
  const { status } = useUpdateStatus();
  const [problem, setProblem] = useState('');
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
