import type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { SecurityCode } from './e2ee/securityCode.js';
import type { LinkState } from './PeerLink.js';
import type { ConnectionState } from './signalTypes.js';
import type { PathStats, PeerStatsSnapshot } from './stats/statsReducer.js';

/**
 * What the call layer reports, as typed events (as LiveKit's `Room` emits `RoomEvent`s). The call
 * objects never touch app state: the store's binder maps these events into the call slice, so the
 * store depends on these types and never the other way round.
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
  /** The selected path, as the latest statistics sample classified it. */
  path: PathStats | null;
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
  /**
   * The connection's security code (from both DTLS fingerprints), to compare out loud; `changed`: it
   * differs from the one shown before for this person (they came back on a new connection).
   */
  securityCode: (SecurityCode & { changed: boolean }) | null;
  /** With frame encryption: whether this peer's frames open here (null: not known yet, or not encrypted). */
  decryptable: boolean | null;
}

/** A peer as first heard of: no connection yet, and assumed to send both until it says otherwise. */
export function newPeerView(peerId: string, name = 'Someone'): PeerView {
  return { peerId, name, link: 'waiting', path: null, encryption: null, media: { audio: true, video: true, screen: false }, speaking: false, stream: null, away: false, quality: null, stats: null, securityCode: null, decryptable: null };
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
  /** A device in use went away and another took its place: what to tell the user. */
  deviceNotice?: string | null;
}

export const initialLocalView: LocalView = {
  stream: null,
  media: { audio: true, video: true, screen: false },
  devices: [],
  selected: { audioinput: null, videoinput: null, audiooutput: null },
  level: 0,
  speaking: false,
  error: null,
};

export enum CallEvent {
  /** The session's phase: connecting, in the call, or failed (with what to tell the user). */
  PhaseChanged = 'phaseChanged',
  /** The server gave us our peer id (welcome). */
  Joined = 'joined',
  SignalingChanged = 'signalingChanged',
  /** A peer's whole view, after any change to it. */
  PeerUpdated = 'peerUpdated',
  PeerRemoved = 'peerRemoved',
  /** Plain-language news about the network or a peer; null clears it. */
  Notice = 'notice',
  /** Camera, microphone, devices, level: the changed fields of the local view. */
  LocalChanged = 'localChanged',
  /** The pre-join screen opened for a room, with the policy the call will use. */
  Prejoin = 'prejoin',
  PolicyChanged = 'policyChanged',
  StartTogglesChanged = 'startTogglesChanged',
  /** The screen-share picker was answered (or cancelled). */
  ScreenSourcesAnswered = 'screenSourcesAnswered',
  /** The call and its pre-join are over: back to nothing. */
  Ended = 'ended',
}

export interface CallSessionEvents {
  [CallEvent.PhaseChanged]: { phase: 'connecting' | 'in-call' | 'failed'; failure: string | null };
  [CallEvent.Joined]: { selfId: string };
  [CallEvent.SignalingChanged]: { state: ConnectionState };
  [CallEvent.PeerUpdated]: PeerView;
  [CallEvent.PeerRemoved]: { peerId: string };
  [CallEvent.Notice]: { message: string | null };
}

export interface LocalMediaEvents {
  [CallEvent.LocalChanged]: Partial<LocalView>;
}

export interface CallControllerEvents extends CallSessionEvents, LocalMediaEvents {
  [CallEvent.Prejoin]: { roomId: string; policy: NetworkPolicy };
  [CallEvent.PolicyChanged]: { policy: NetworkPolicy };
  [CallEvent.StartTogglesChanged]: { startMuted: boolean; startCameraOff: boolean };
  [CallEvent.ScreenSourcesAnswered]: Record<string, never>;
  [CallEvent.Ended]: Record<string, never>;
}
