import type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { FrameEncryptionOptions } from './e2ee/E2eeCall.js';
import type { MediaFlags } from './events.js';
import type { SignalClient } from './SignalClient.js';
import type { Clock } from './timers.js';
import type { WarmConnection } from './WarmConnection.js';

/** What a session sends: LocalMedia, or a stand-in in tests. */
export interface MediaSource {
  readonly stream: MediaStream;
  tracks(): MediaStreamTrack[];
  readonly flags: MediaFlags;
}

export type LevelMeterFactory = (stream: MediaStream, onLevel: (level: number, speaking: boolean) => void) => { close(): void };

export interface CallSessionDeps {
  signal: SignalClient;
  media: MediaSource;
  RTCPeerConnection: typeof RTCPeerConnection;
  policy: NetworkPolicy;
  rememberNetwork: (restrictive: boolean) => void;
  /** The first offer's connection, made on the pre-join screen; used if it fits, closed either way. */
  warm?: WarmConnection | null;
  /** Timers of the session's own decisions (grace periods, restarts, timeouts); tests drive a fake one. */
  clock?: Partial<Clock>;
  /** A level meter per remote stream (an AudioContext by default). */
  createMeter?: LevelMeterFactory;
  statsIntervalMs?: number;
  /** ICE `disconnected` this long means the path is gone: restart ICE. */
  disconnectedRestartMs?: number;
  /** A link not connected this long after it started is treated as failed (relay-only gathering can stall for ever). */
  connectTimeoutMs?: number;
  /** A peer whose signaling dropped keeps its peer connection this long, waiting for it to come back. */
  awayGraceMs?: number;
  /** End-to-end frame encryption (SFrame-style) on every connection; none: DTLS-SRTP only. */
  e2ee?: FrameEncryptionOptions;
}
