import type { NetworkPolicy, ScreenSource } from '../../../shared/ipc/desktopApi.js';
import type { MediaPath } from '../call/networkPolicy.js';
import type { PeerStatsSnapshot } from '../call/stats/statsReducer.js';
import type { LinkState } from '../call/PeerLink.js';
import { ConnectionState } from '../call/signalTypes.js';
import type { AppState, SliceCreator } from './types.js';

/**
 * The call: what the call session (outside React) reports, for the screens to show. The session
 * writes through the `call*` setters below; screens read with the selectors and act through
 * `call/callController.ts`.
 */

export type CallPhase =
  | 'idle'
  | 'prejoin' // preview, devices, toggles; not connected
  | 'connecting' // signaling and first peer connections under way
  | 'in-call'
  | 'failed'; // could not connect; `failure` says why and what to do

export interface MediaFlags {
  audio: boolean;
  video: boolean;
  screen: boolean;
}

export interface PeerView {
  peerId: string;
  name: string;
  /** 'waiting': signaling knows the peer, no peer connection yet. */
  link: LinkState | 'waiting';
  path: MediaPath | null;
  /** "Encrypted (DTLS-SRTP, <cipher>)" once DTLS is connected. */
  encryption: string | null;
  /** What the peer says it sends. */
  media: MediaFlags;
  speaking: boolean;
  stream: MediaStream | null;
  /** The peer's signaling dropped; its media may still flow while it comes back. */
  away: boolean;
  /** Call quality 1–5 with the reasons it is lower (null until media statistics exist). */
  quality: { score: number; reasons: string[] } | null;
  /** The latest statistics snapshot (small and typed), for the stats panel. */
  stats: PeerStatsSnapshot | null;
}

export interface DeviceOption {
  deviceId: string;
  kind: 'audioinput' | 'videoinput' | 'audiooutput';
  label: string;
}

export interface LocalView {
  stream: MediaStream | null;
  /** Microphone and camera on (not muted); screen being shared. */
  media: MediaFlags;
  devices: DeviceOption[];
  selected: { audioinput: string | null; videoinput: string | null; audiooutput: string | null };
  /** Microphone level, 0–1, for the meter. */
  level: number;
  speaking: boolean;
  /** Camera/microphone could not be opened (permission, no device): what to tell the user. */
  error: string | null;
}

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

const noMedia: MediaFlags = { audio: false, video: false, screen: false };

export const initialLocalView: LocalView = {
  stream: null,
  media: { audio: true, video: true, screen: false },
  devices: [],
  selected: { audioinput: null, videoinput: null, audiooutput: null },
  level: 0,
  speaking: false,
  error: null,
};

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
      const peer: PeerView = existing
        ? { ...existing, ...patch }
        : { peerId, name: patch.name ?? 'Someone', link: 'waiting', path: null, encryption: null, media: { ...noMedia, audio: true, video: true }, speaking: false, stream: null, away: false, quality: null, stats: null, ...patch };
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

export const selectCall = (s: AppState) => s.call;
export const selectCallPhase = (s: AppState) => s.call.phase;
export const selectPeerOrder = (s: AppState) => s.call.order;
export const selectPeer = (peerId: string) => (s: AppState) => s.call.peers[peerId];
export const selectLocal = (s: AppState) => s.call.local;
export const selectCallNotice = (s: AppState) => s.call.notice;
export const selectCallFailure = (s: AppState) => s.call.failure;
export const selectCallPolicy = (s: AppState) => s.call.policy;
export const selectSignalingState = (s: AppState) => s.call.signaling;
export const selectScreenSources = (s: AppState) => s.call.screenSources;
