import { ScreenLayout } from '../components/ScreenLayout.js';
import { selectJoinResponse, selectRoomTarget, useAppStore } from '../store/index.js';

/**
 * A room main let us join. Placeholder: the call UI (media, peers, signaling with join.roomToken)
 * replaces the body of this screen in a later issue.
 */
export function RoomScreen() {
  const target = useAppStore(selectRoomTarget);
  const join = useAppStore(selectJoinResponse);
  const leaveRoom = useAppStore((s) => s.leaveRoom);
  if (target == null || join == null) return null;
  return (
    <ScreenLayout title={`Room ${target.roomId}`}>
      <section className="card">
        <p role="status" className="status">
          Ready to join
        </p>
        <p className="hint">
          On <span className="mono">{target.server}</span>, for up to {join.roomSizeLimit} people.
        </p>
        <div className="actions">
          <button type="button" onClick={leaveRoom}>
            Leave
          </button>
        </div>
      </section>
    </ScreenLayout>
  );
}
