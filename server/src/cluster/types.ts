/**
 * What the signaling hub needs from shared state, whatever holds it: a room directory (who is in
 * which room, on which node) and a message bus (deliver to another node). The in-memory
 * implementation is one node in one process (the default); the Redis one spans nodes.
 */

/** A room member as the directory records it. */
export interface MemberRecord {
  peerId: string;
  name: string;
  /** The node whose socket serves this member. */
  node: string;
}

export type JoinOutcome =
  | {
      ok: true;
      /** The other members (the joiner excluded), on every node. */
      others: MemberRecord[];
      /** The node that served this peer id until now: the same call resuming (null for a new member). */
      replacedNode: string | null;
    }
  | { ok: false; reason: 'room-full' };

export interface HeartbeatOutcome {
  /** Shared state had forgotten this node (Redis restarted empty): re-register every live member. */
  stateLost: boolean;
  /** Rooms of this node that shared state no longer has: re-register their local members. */
  missingRooms: string[];
  /** Of the remote nodes asked about, those whose presence has expired. */
  deadNodes: string[];
}

/**
 * Membership across nodes. Joins and leaves announce themselves to the other nodes hosting members
 * of the room (the `announce` envelope, delivered through the bus in order with relays), in the
 * same atomic step as the change, so no node misses a change it must relay around.
 */
export interface RoomDirectory {
  /** Adds (or moves to this node) a member unless the room is full, counting every node's members. */
  join(room: string, member: MemberRecord, maxPeers: number, announce: string): Promise<JoinOutcome>;
  /** Removes a member if `node` still serves it; false when it was not (any longer) this node's. */
  leave(room: string, peerId: string, node: string, announce: string): Promise<boolean>;
  /** Removes a member of a node found dead, without announcing (every node finds that out itself). */
  forget(room: string, peerId: string, node: string): Promise<void>;
  /** Records members again (after shared state was lost). */
  register(room: string, members: MemberRecord[]): Promise<void>;
  /** Renews this node's presence and its rooms' lifetimes; reports what shared state has lost. */
  heartbeat(node: string, rooms: string[], remoteNodes: string[]): Promise<HeartbeatOutcome>;
  close(): Promise<void>;
}

/** Delivers envelopes to other nodes. Nothing is queued for a node that is gone. */
export interface MessageBus {
  /** Hands an envelope to `node`'s channel; false when that cannot be done now (shared state away). */
  send(node: string, envelope: string): boolean;
  /** Starts delivering this node's envelopes to the handler (again after every reconnect). */
  listen(node: string, handler: (envelope: string) => void): void;
  close(): Promise<void>;
}

/** Where shared state stands, for readiness and for refusing joins quickly. */
export type SharedStateStatus = 'ok' | 'connecting' | 'unreachable';

export interface SharedState {
  readonly directory: RoomDirectory;
  readonly bus: MessageBus;
  /** Whether members can be on other nodes (false for the in-memory state). */
  readonly distributed: boolean;
  status(): SharedStateStatus;
  /** Runs after every reconnect, so the node can re-register at once rather than at its next beat. */
  onReconnect(handler: () => void): void;
  close(): Promise<void>;
}
