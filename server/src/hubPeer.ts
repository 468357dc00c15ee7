import { createHmac } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { TokenBucket } from './rateLimit.js';
import type { RoomTokenClaims } from './RoomTokens.js';

export type LeaveReason = 'left' | 'disconnected' | 'timeout' | 'kicked';

/** One signaling socket and, once joined, its place in a room. */
export interface Peer {
  /** Connection id, for logs. */
  readonly conn: string;
  /** Peer id in the room: random, or stable across reconnects when the client names its call (clientId). */
  id: string;
  readonly ws: WebSocket;
  readonly ip: string;
  state: 'pending' | 'joining' | 'joined' | 'closed';
  /** Reconnected in place of an earlier socket of the same call (for logs). */
  resumed: boolean;
  /** When a pending socket that has not joined is dropped (ms since epoch). */
  joinBy: number;
  /** Runs once when the socket is gone. */
  readonly onClosed: (ip: string) => void;
  claims?: RoomTokenClaims;
  room?: Room;
  readonly bucket: TokenBucket;
  alive: boolean;
  /** When to push fresh TURN credentials (ms since epoch). */
  iceRefreshAt: number;
  /** Messages refused for rate since the last heartbeat; many in a row ends the connection. */
  refusedForRate: number;
  leaveReason: LeaveReason;
}

/** A member as this node knows it: served here (`peer`), or on another node. */
export interface RoomMember {
  name: string;
  node: string;
  peer?: Peer;
}

/** This node's view of a room with members here: every member, local or not. */
export interface Room {
  readonly id: string;
  readonly members: Map<string, RoomMember>;
  /** Members served by this node; the view is dropped when none is left. */
  local: number;
  /**
   * While a join here awaits shared state, the members announced meanwhile: gone (its answer may
   * still list them) and arrived (its answer may not list them yet).
   */
  changes?: { departed: Set<string>; arrived: Set<string> };
}

// The hub's state rides on the socket, so every socket shares one set of event handlers.
const PEER = Symbol('peer');
type PeerSocket = WebSocket & { [PEER]: Peer };
export const peerOf = (ws: WebSocket): Peer => (ws as PeerSocket)[PEER];
export const attachPeer = (ws: WebSocket, peer: Peer): void => {
  (ws as PeerSocket)[PEER] = peer;
};

/**
 * A client that names its call keeps one peer id across reconnects (and server restarts): the id is
 * derived from the room, the verified subject and that name, so nobody else can take it over.
 */
export function stablePeerId(key: string, room: string, sub: string, clientId: string): string {
  return createHmac('sha256', key).update(`peer-id\0${room}\0${sub}\0${clientId}`).digest().subarray(0, 16).toString('base64url');
}

/** Fields of a connection's log lines. */
export function peerLogFields(peer: Peer): Record<string, unknown> {
  return peer.claims
    ? { conn: peer.conn, room: peer.claims.room, sub: peer.claims.sub, peer: peer.id, resumed: peer.resumed }
    : { conn: peer.conn };
}
