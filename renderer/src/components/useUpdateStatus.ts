import { useEffect, useState } from 'react';
import type { UpdateStatus } from '../../../shared/ipc/shellServices.js';
import { desktopClient } from '../desktop.js';

/**
 * Main's update status, kept current by its events. `loadError` says why the first read failed;
 * `setStatus` takes a status a call answered with.
 */
export function useUpdateStatus(): { status: UpdateStatus | null; setStatus: (status: UpdateStatus) => void; loadError: string } {
  const [status, setStatus] = useState<UpdateStatus | null>(null);
  const [loadError, setLoadError] = useState('');
  useEffect(() => {
    const client = desktopClient();
    let live = true;
    const off = client.onUpdateStatus((s) => setStatus(s));
    client
      .updateStatus()
      // An event that arrived meanwhile is newer than this answer.
      .then((s) => live && setStatus((current) => current ?? s))
      .catch((err: Error) => live && setLoadError(err.message));
    return () => {
      live = false;
      off();
    };
  }, []);
  return { status, setStatus, loadError };
}
