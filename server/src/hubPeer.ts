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

export interface Room {
  readonly id: string;
  readonly peers: Map<string, Peer>;
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

/** Rooms by id, each existing while it has members; keeps the rooms gauge. */
export class RoomDirectory {
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly gauge: { set(value: number): void }) {}

  get(id: string): Room | undefined {
    return this.rooms.get(id);
  }

  /** The room, made if nobody is in it yet. */
  open(id: string): Room {
    let room = this.rooms.get(id);
    if (!room) {
      room = { id, peers: new Map() };
      this.rooms.set(id, room);
      this.gauge.set(this.rooms.size);
    }
    return room;
  }

  /** Takes a peer out of its room: the room it left, or undefined when it was no (longer a) member. */
  leave(peer: Peer): Room | undefined {
    const room = peer.room;
    // Identity check: a replaced socket must not remove the connection that took over its id.
    if (!room || room.peers.get(peer.id) !== peer) return undefined;
    room.peers.delete(peer.id);
    peer.room = undefined;
    if (room.peers.size === 0) {
      this.rooms.delete(room.id);
      this.gauge.set(this.rooms.size);
    }
    return room;
  }

  counts(): { rooms: number; members: number } {
    let members = 0;
    for (const room of this.rooms.values()) members += room.peers.size;
    return { rooms: this.rooms.size, members };
  }

  clear(): void {
    this.rooms.clear();
    this.gauge.set(0);
  }
}
