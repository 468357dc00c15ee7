import { useEffect } from 'react';
import { callController } from '../controllers/index.js';
import { selectCallPhase, selectRoomLimits, selectRoomTarget, useAppStore } from '../store/index.js';
import { CallScreen } from './CallScreen.js';
import { PreJoinScreen } from './PreJoinScreen.js';

/** A room main let us join: the pre-join screen until the call starts, then the call. */
export function RoomScreen() {
  const target = useAppStore(selectRoomTarget);
  const limits = useAppStore(selectRoomLimits);
  const phase = useAppStore(selectCallPhase);
  const callRoom = useAppStore((s) => s.call.roomId);
  const stale = target != null && callRoom != null && callRoom !== target.roomId;

  // A call left over from another room (that room was left without ending it): end it first.
  useEffect(() => {
    if (stale) callController().leave();
  }, [stale]);

  if (target == null || limits == null || stale) return null;
  if (phase === 'idle' || phase === 'prejoin') return <PreJoinScreen roomId={target.roomId} server={target.server} roomSizeLimit={limits.roomSizeLimit} />;
  return <CallScreen roomId={target.roomId} />;
}
