import { z } from 'zod';

/** Stable error codes shared by the HTTP API and the signaling socket. */
export const ErrorCode = z.enum([
  'bad-request', // malformed JSON or a frame that is not text
  'invalid-message', // JSON that does not match the protocol
  'unsupported-version',
  'message-too-large',
  'rate-limited',
  'unauthorized', // missing, invalid or expired token
  'forbidden', // authenticated, but the room policy does not allow it
  'token-replayed',
  'room-full',
  'invalid-room',
  'not-joined',
  'already-joined',
  'join-timeout',
  'unknown-peer',
  'origin-not-allowed',
  'too-many-connections',
  'slow-consumer',
  'session-replaced', // the same call reconnected on another socket
  'server-shutdown',
  // a dependency the server needs for new work (shared state) does not answer; try again shortly
  'service-unavailable',
  'not-found',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** WebSocket close code the server uses after a fatal error, so clients can tell why without parsing text. */
export const CLOSE_CODE: Partial<Record<ErrorCode, number>> = {
  'bad-request': 4400,
  'invalid-message': 4400,
  'already-joined': 4400,
  unauthorized: 4401,
  forbidden: 4403,
  'join-timeout': 4408,
  'token-replayed': 4409,
  'room-full': 4410,
  'unsupported-version': 4426,
  'rate-limited': 4429,
  'slow-consumer': 4430,
  'session-replaced': 4412,
  'message-too-large': 1009,
  'server-shutdown': 1001,
  'service-unavailable': 4503,
  internal: 1011,
};

/**
 * Close codes after which reconnecting is pointless: no fresh room token changes the answer. A replayed
 * token (4409) is not one of them: the next connect fetches a new token, which is not replayed.
 */
export const TERMINAL_CLOSE_CODES: readonly number[] = [4401, 4403, 4410, 4412, 4426];
