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
  'server-shutdown',
  'not-found',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
