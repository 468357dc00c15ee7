import { z } from 'zod';
import { ErrorCode } from './errors.js';
import { IceServers } from './ice.js';

/** Signaling protocol version; a client states it in `join`, the server in `welcome`. */
export const PROTOCOL_VERSION = 1;
/** Largest frame either end sends or accepts, in bytes. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export const PeerId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'not a peer id');
export type PeerId = z.infer<typeof PeerId>;

export const PeerInfo = z.object({
  peerId: PeerId,
  name: z.string().max(256),
});
export type PeerInfo = z.infer<typeof PeerInfo>;

const SessionDescription = z.object({
  type: z.enum(['offer', 'answer', 'pranswer', 'rollback']),
  sdp: z.string().max(60_000).optional(),
});

const Candidate = z.object({
  candidate: z.string().max(1024),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

/** Unpadded base64url of a length in characters. */
const base64Url = (min: number, max: number) =>
  z.string().min(min).max(max).regex(/^[A-Za-z0-9_-]*$/, 'not base64url');

/** What one peer sends another through the server; the server never reads it beyond its shape. */
export const SignalData = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('description'), description: SessionDescription }),
  // A null candidate marks the end of gathering.
  z.object({ kind: z.literal('candidate'), candidate: Candidate.nullable() }),
  // Asks the other side to restart ICE (the impolite peer then sends the new offer).
  z.object({ kind: z.literal('restart') }),
  z.object({
    kind: z.literal('media-state'),
    audio: z.boolean(),
    video: z.boolean(),
    screen: z.boolean(),
  }),
  // End-to-end media encryption: the sender's identity public key for this call (raw P-256 point).
  z.object({ kind: z.literal('e2ee-identity'), publicKey: base64Url(87, 87) }),
  // The sender's media key, sealed for this one receiver (ECDH -> HKDF -> AES-GCM).
  z.object({
    kind: z.literal('e2ee-key'),
    keyId: z.number().int().min(0).max(255),
    iv: base64Url(16, 16),
    sealed: base64Url(22, 128),
  }),
]);
export type SignalData = z.infer<typeof SignalData>;

// Client -> server

export const JoinMessage = z.object({
  type: z.literal('join'),
  v: z.number().int(),
  roomToken: z.string().min(1).max(4096),
  /**
   * A random name the client gives its call and reuses when it reconnects: the server then keeps its
   * peer id, so the other peers keep their peer connections to it.
   */
  clientId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'clientId is 16-64 base64url characters').optional(),
});
export const SignalToMessage = z.object({
  type: z.literal('signal'),
  to: PeerId,
  data: SignalData,
});
export const LeaveMessage = z.object({ type: z.literal('leave') });
/** Application-level ping: browsers cannot see WebSocket pings, so clients measure liveness this way. */
export const PingMessage = z.object({ type: z.literal('ping'), id: z.number().int().nonnegative() });

export const ClientMessage = z.discriminatedUnion('type', [
  JoinMessage,
  SignalToMessage,
  LeaveMessage,
  PingMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// Server -> client

export const WelcomeMessage = z.object({
  type: z.literal('welcome'),
  v: z.number().int(),
  room: z.string(),
  self: PeerInfo,
  peers: z.array(PeerInfo),
  roomSizeLimit: z.number().int().positive(),
});
export const PeerJoinedMessage = z.object({ type: z.literal('peer-joined'), peer: PeerInfo });
export const PeerLeftMessage = z.object({
  type: z.literal('peer-left'),
  peerId: PeerId,
  reason: z.enum(['left', 'disconnected', 'timeout', 'kicked']),
});
export const SignalFromMessage = z.object({
  type: z.literal('signal'),
  from: PeerId,
  data: SignalData,
});
export const IceServersMessage = z.object({
  type: z.literal('ice-servers'),
  iceServers: IceServers,
  expiresAt: z.string(),
});
export const PongMessage = z.object({ type: z.literal('pong'), id: z.number().int().nonnegative() });
export const ErrorMessage = z.object({
  type: z.literal('error'),
  code: ErrorCode,
  message: z.string(),
  /** The server closes the socket after a fatal error. */
  fatal: z.boolean(),
});

export const ServerMessage = z.discriminatedUnion('type', [
  WelcomeMessage,
  PeerJoinedMessage,
  PeerLeftMessage,
  SignalFromMessage,
  IceServersMessage,
  PongMessage,
  ErrorMessage,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

export type ParseResult<T> =
  | { ok: true; message: T }
  | { ok: false; code: 'bad-request' | 'invalid-message' | 'message-too-large'; reason: string };

function parseWith<T>(schema: z.ZodType<T>, raw: string): ParseResult<T> {
  if (raw.length > MAX_MESSAGE_BYTES) {
    return { ok: false, code: 'message-too-large', reason: `message exceeds ${MAX_MESSAGE_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'bad-request', reason: 'message is not valid JSON' };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return { ok: false, code: 'invalid-message', reason: `${issue?.message ?? 'invalid message'}${where}` };
  }
  return { ok: true, message: result.data };
}

/** Parses a frame received by the server. */
export function parseClientMessage(raw: string): ParseResult<ClientMessage> {
  return parseWith(ClientMessage, raw);
}

/** Parses a frame received by a client. */
export function parseServerMessage(raw: string): ParseResult<ServerMessage> {
  return parseWith(ServerMessage, raw);
}
