import { ConnectionState } from '../../call/signalTypes.js';
import { selectCallFailure, selectCallNotice, selectCallPhase, selectSignalingState, useAppStore } from '../../store/index.js';
import { leaveCall, retryCall } from './actions.js';
import { CALL_CONNECTING, SIGNALING_RECONNECTING } from './callText.js';

/**
 * News above the grid. The live regions stay in the page (empty when there is nothing to say) so
 * that what appears in them is announced; the failure is an alert, which is announced as it appears.
 */
export function CallBanners() {
  const phase = useAppStore(selectCallPhase);
  const notice = useAppStore(selectCallNotice);
  const failure = useAppStore(selectCallFailure);
  const signaling = useAppStore(selectSignalingState);
  const deviceNotice = useAppStore((s) => s.call.local.deviceNotice ?? null);
  const progress =
    phase === 'failed' ? null : signaling === ConnectionState.Reconnecting ? SIGNALING_RECONNECTING : phase === 'connecting' ? CALL_CONNECTING : null;
  return (
    <div className="call-banners">
      <div role="status" className="call-live">
        {notice != null && <p className="notice notice-info">{notice}</p>}
        {deviceNotice != null && <p className="notice notice-info">{deviceNotice}</p>}
      </div>
      <div role="status" className="call-live">
        {progress != null && <p className="notice notice-progress">{progress}</p>}
      </div>
      {(failure != null || phase === 'failed') && (
        <div role="alert" className="notice notice-error call-failure">
          <p>{failure ?? 'The call could not connect.'}</p>
          <div className="actions">
            <button type="button" className="primary" onClick={retryCall}>
              Try again
            </button>
            <button type="button" onClick={leaveCall}>
              Leave
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
