import { useEffect, useRef } from 'react';
import { describeServer } from '../../../shared/links.js';
import { selectPendingServer, selectServerOrigin, useAppStore } from '../store/index.js';

/**
 * Asks before anything is sent to a server the user has not trusted yet. Modal: the rest of the
 * window is inert while it is open, and Escape cancels.
 */
export function UnknownServerDialog() {
  const pending = useAppStore(selectPendingServer);
  const current = useAppStore(selectServerOrigin);
  const confirmServer = useAppStore((s) => s.confirmServer);
  const cancelServer = useAppStore((s) => s.cancelServer);
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const el = dialog.current;
    if (pending == null || el == null) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!el.open) el.showModal();
    // The safe choice has focus.
    cancel.current?.focus();
    return () => {
      el.close();
      // The dialog leaves the DOM as it closes, so the browser cannot restore focus by itself.
      if (before?.isConnected) before.focus();
    };
  }, [pending]);

  if (pending == null) return null;
  const server = describeServer(pending.server);
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="unknown-server-title"
      aria-describedby="unknown-server-body"
      onCancel={(event) => {
        event.preventDefault();
        cancelServer();
      }}
    >
      <h2 id="unknown-server-title">Open a link to another server?</h2>
      <div id="unknown-server-body">
        <p>
          This link is for room <span className="mono">{pending.roomId}</span> on
        </p>
        <p className="server-origin mono">{server.display}</p>
        {server.display !== server.origin && (
          <p className="hint">
            Written in the link as <span className="mono">{server.origin}</span>
          </p>
        )}
        {server.warnings.map((warning) => (
          <p key={warning} className="notice notice-error" data-testid="server-warning">
            <strong>Warning:</strong> {warning}
          </p>
        ))}
        <p>
          ZeroRange has not connected to this server before{current != null ? ` (you use ${current})` : ''}. Nothing has been sent to
          it. Connect only if you trust it: you may be asked to sign in there.
        </p>
      </div>
      <div className="actions">
        <button type="button" ref={cancel} onClick={cancelServer}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={() => void confirmServer()}>
          Connect and join
        </button>
      </div>
    </dialog>
  );
}
