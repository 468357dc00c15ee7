import { selectAlertMessage, selectInfoNotice, useAppStore } from '../store/index.js';

/** The screen's one error (role="alert") and latest informational notice. */
export function AlertArea() {
  const message = useAppStore(selectAlertMessage);
  const info = useAppStore(selectInfoNotice);
  const dismissErrors = useAppStore((s) => s.dismissErrors);
  const dismissNotice = useAppStore((s) => s.dismissNotice);
  return (
    <>
      {message != null && (
        <div className="notice notice-error" role="alert">
          <p>{message}</p>
          <button type="button" className="quiet" onClick={dismissErrors}>
            Dismiss
          </button>
        </div>
      )}
      {info != null && (
        <div className="notice notice-info" role="status">
          <p>{info.message}</p>
          <button type="button" className="quiet" onClick={() => dismissNotice(info.id)}>
            Dismiss
          </button>
        </div>
      )}
    </>
  );
}
