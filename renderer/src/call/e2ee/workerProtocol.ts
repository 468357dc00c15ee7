import type { MediaKind } from './frameCrypto.js';

/** What the frame worker is told (main → worker) and reports (worker → main). */

/** One encoded stream's job: seal our frames, or open a participant's. */
export type TransformJob = { operation: 'encrypt'; kind: MediaKind } | { operation: 'decrypt'; kind: MediaKind; participant: string };

export type WorkerCommand =
  | { type: 'send-key'; keyId: number; key: ArrayBuffer }
  | { type: 'receive-key'; participant: string; keyId: number; key: ArrayBuffer }
  | { type: 'remove-participant'; participant: string }
  /** A stream from `createEncodedStreams`, where RTCRtpScriptTransform is missing. */
  | { type: 'stream'; job: TransformJob; readable: ReadableStream; writable: WritableStream };

export type WorkerReport =
  /** Whether a participant's frames open, sent when that changes; why not, when they do not. */
  { type: 'decrypt-status'; participant: string; ok: boolean; reason?: 'malformed' | 'no-key' | 'rejected' };

/**
 * A participant is reported undecryptable after this long with frames and none opening: a few frames
 * that arrive before their key (at the start, around a key change) are normal.
 */
export const FAILING_AFTER_MS = 1000;
