import type { NetworkPolicy, ScreenSource } from '../../../shared/ipc/desktopApi.js';
import { initialLocalView, newPeerView, type CallPhase, type LocalView, type PeerView } from '../call/events.js';
import { ConnectionState } from '../call/signalTypes.js';
import type { AppState, SliceCreator } from './types.js';

/**
 * The call: what the call layer (outside React) reports, for the screens to show. Its events reach
 * these setters through `callBinder.ts` only; screens read with the selectors and act through the
 * call controller.
 */

export { initialLocalView, type CallPhase, type DeviceOption, type LocalView, type MediaFlags, type PeerView } from '../call/events.js';

export interface CallState {
  phase: CallPhase;
  roomId: string | null;
  selfId: string | null;
  peers: Record<string, PeerView>;
  /** Peer ids in join order, for a stable tile layout. */
  order: string[];
  local: LocalView;
  /** The policy this call uses (may be stricter than the setting after a fallback). */
  policy: NetworkPolicy;
  signaling: ConnectionState;
  /** Plain-language news about the network (e.g. UDP blocked, calls go over TLS 443). */
  notice: string | null;
  /** Why the call could not connect, what was tried, what to do. */
  failure: string | null;
  /** Pre-join toggles. */
  startMuted: boolean;
  startCameraOff: boolean;
  /** Screens and windows main offers to share (Electron), waiting for the user's pick. */
  screenSources: ScreenSource[] | null;
  /** The statistics panel is shown (button or S). */
  statsPanelOpen: boolean;
}

export interface CallActions {
  callPatch(patch: Partial<Omit<CallState, 'peers' | 'order' | 'local'>>): void;
  callPeerUpsert(peerId: string, patch: Partial<PeerView> & { name?: string }): void;
  callPeerRemove(peerId: string): void;
  callLocalPatch(patch: Partial<LocalView>): void;
  callReset(): void;
}

export interface CallSlice extends CallActions {
  call: CallState;
}

export const initialCallState: CallState = {
  phase: 'idle',
  roomId: null,
  selfId: null,
  peers: {},
  order: [],
  local: initialLocalView,
  policy: 'auto',
  signaling: ConnectionState.Disconnected,
  notice: null,
  failure: null,
  startMuted: false,
  startCameraOff: false,
  screenSources: null,
  statsPanelOpen: false,
};

export const createCallSlice = (): SliceCreator<CallSlice> => (set) => ({
  call: initialCallState,
  callPatch: (patch) => set((s) => ({ call: { ...s.call, ...patch } })),
  callPeerUpsert: (peerId, patch) =>
    set((s) => {
      const existing = s.call.peers[peerId];
      const peer: PeerView = { ...(existing ?? newPeerView(peerId)), ...patch };
      return {
        call: {
          ...s.call,
          peers: { ...s.call.peers, [peerId]: peer },
          order: existing ? s.call.order : [...s.call.order, peerId],
        },
      };
    }),
  callPeerRemove: (peerId) =>
    set((s) => {
      if (!s.call.peers[peerId]) return s;
      const { [peerId]: _gone, ...peers } = s.call.peers;
      return { call: { ...s.call, peers, order: s.call.order.filter((id) => id !== peerId) } };
    }),
  callLocalPatch: (patch) => set((s) => ({ call: { ...s.call, local: { ...s.call.local, ...patch } } })),
  callReset: () => set({ call: initialCallState }),
});

export const selectCallPhase = (s: AppState) => s.call.phase;
export const selectPeerOrder = (s: AppState) => s.call.order;
export const selectCallNotice = (s: AppState) => s.call.notice;
export const selectCallFailure = (s: AppState) => s.call.failure;
export const selectCallPolicy = (s: AppState) => s.call.policy;
export const selectSignalingState = (s: AppState) => s.call.signaling;
export const selectScreenSources = (s: AppState) => s.call.screenSources;
