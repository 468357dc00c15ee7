import { CLOSE_CODE, ErrorCode, type IceServer, type PeerInfo, type ServerMessage, type SignalData } from '../../../shared/protocol/index.js';

export enum ConnectionState {
  Disconnected = 'disconnected',
  Connecting = 'connecting',
  Connected = 'connected',
  Reconnecting = 'reconnecting',
  Closed = 'closed',
}

export enum SignalEvent {
  StateChanged = 'stateChanged',
  Welcome = 'welcome',
  PeerJoined = 'peerJoined',
  PeerLeft = 'peerLeft',
  Signal = 'signal',
  IceServers = 'iceServers',
  Error = 'error',
}

export type SignalErrorCode = ErrorCode | 'socket-closed' | 'timeout' | 'join-failed' | 'queue-overflow';

export interface SignalErrorOptions {
  closeCode?: number;
  /** For message-level errors (queue overflow, oversized message): the peer the message was for. */
  peerId?: string;
  droppedKind?: SignalData['kind'];
  cause?: unknown;
}

export class SignalError extends Error {
  override readonly name = 'SignalError';
  readonly closeCode?: number;
  readonly peerId?: string;
  readonly droppedKind?: SignalData['kind'];

  constructor(
    readonly code: SignalErrorCode,
    message: string,
    opts: SignalErrorOptions = {},
  ) {
    super(message, { cause: opts.cause });
    if (opts.closeCode !== undefined) this.closeCode = opts.closeCode;
    if (opts.peerId !== undefined) this.peerId = opts.peerId;
    if (opts.droppedKind !== undefined) this.droppedKind = opts.droppedKind;
  }
}

/** Maps a getJoin failure (or anything thrown) to a SignalError; an ErrorCode `code` maps to its close code so policies can act on it. */
export function toSignalError(err: unknown): SignalError {
  if (err instanceof SignalError) return err;
  const code = ErrorCode.safeParse((err as { code?: unknown } | null)?.code);
  if (code.success) {
    return new SignalError(code.data, `joining the room failed (${code.data})`, { closeCode: CLOSE_CODE[code.data], cause: err });
  }
  return new SignalError('join-failed', 'could not get a room token', { cause: err });
}

export interface WelcomeEvent {
  room: string;
  self: PeerInfo;
  peers: PeerInfo[];
  roomSizeLimit: number;
  /** From this connection's JoinResponse: the TURN credentials to use from now on. */
  iceServers: IceServer[];
  iceServersExpireAt: string;
  /** True after a signaling drop: keep the existing peer connections. */
  reconnected: boolean;
  /** Our peer id before this reconnect (the server gives every socket a new one). */
  previousSelfId: string | null;
}

export type PeerLeftReason = Extract<ServerMessage, { type: 'peer-left' }>['reason'];

export interface SignalEventPayloads {
  [SignalEvent.StateChanged]: { state: ConnectionState; previous: ConnectionState; error: SignalError | null };
  [SignalEvent.Welcome]: WelcomeEvent;
  [SignalEvent.PeerJoined]: PeerInfo;
  [SignalEvent.PeerLeft]: { peerId: string; reason: PeerLeftReason };
  [SignalEvent.Signal]: { from: string; data: SignalData };
  [SignalEvent.IceServers]: { iceServers: IceServer[]; expiresAt: string };
  [SignalEvent.Error]: SignalError;
}

/** What happened to a message handed to sendSignal. */
export type SendResult = 'sent' | 'queued' | 'dropped';
