import type { Logger } from 'pino';
import type { PeerInfo } from '../../../shared/protocol/index.js';
import type { LeaveReason, Peer, Room } from '../hubPeer.js';
import type { MemberRecord, SharedState } from './types.js';

export type Reservation = { ok: true; others: MemberRecord[]; resumed: boolean } | { ok: false; code: 'room-full' | 'service-unavailable' };
export type RelayOutcome = 'sent' | 'unknown-peer' | 'unavailable';

export interface RouterDeps {
  node: string;
  state: SharedState;
  heartbeatMs: number;
  log: Logger;
  gauge: { set(value: number): void };
  /** Writes a serialized server message to a local socket. */
  deliver(peer: Peer, json: string): void;
  /** A relay from this local peer found nobody on the target's node. */
  unknownPeer(peer: Peer): void;
  /** The same call took this local socket's peer id over on another node. */
  replaced(peer: Peer): void;
  audit(event: string, fields: Record<string, unknown>): void;
  now?: () => number;
}

// Envelopes between nodes: a kind letter, then fields separated by newlines, free text last (room
// and peer ids, node ids never hold a newline). Cheaper to cut than JSON, and a relayed message's
// JSON goes through untouched.
const ENVELOPE_FIELDS = { S: 5, U: 3, J: 4, L: 3 } as const;

function cut(envelope: string, fields: number): string[] {
  const parts: string[] = [];
  let from = 2;
  for (let i = 0; i < fields; i++) {
    const at = i === fields - 1 ? envelope.length : envelope.indexOf('\n', from);
    if (at < 0) return [];
    parts.push(envelope.slice(from, at));
    from = at + 1;
  }
  return parts;
}

/** Most leaves kept for retry while shared state is away; beyond that the room's TTL cleans up. */
const MAX_PENDING_LEAVES = 100_000;

/**
 * This node's side of the rooms: a view of each room it serves members of (kept current by the
 * directory's answers and the other nodes' announcements), routing of relays to local sockets or
 * through the bus, and the heartbeat that renews presence, re-registers after shared state was
 * lost and drops the members of nodes that died. Per relayed message: no shared-state work for a
 * local target, one publish for a remote one.
 */
export class RoomRouter {
  private readonly rooms = new Map<string, Room>();
  /** Joins awaiting shared state, by room: announcements for those rooms are kept, not dropped. */
  private readonly reserving = new Map<string, number>();
  private readonly pendingLeaves = new Map<string, { room: string; peerId: string; announce: string }>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  /** Until then, missing node keys may be a Redis that restarted empty, not dead nodes. */
  private trustDeathsAfter = 0;
  private beating = false;

  constructor(private readonly deps: RouterDeps) {
    this.now = deps.now ?? Date.now;
    deps.state.bus.listen(deps.node, (envelope) => this.onEnvelope(envelope));
    deps.state.onReconnect(() => void this.heartbeat());
    this.timer = setInterval(() => void this.heartbeat(), deps.heartbeatMs);
    this.timer.unref();
  }

  get(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  /** Members this node knows of (all of them for a room it serves members of). */
  size(roomId: string): number {
    return this.rooms.get(roomId)?.members.size ?? 0;
  }

  /** Takes a place in the room in shared state, counting every node's members against the limit. */
  async reserve(roomId: string, peerId: string, name: string, maxPeers: number): Promise<Reservation> {
    const { node, state } = this.deps;
    this.reserving.set(roomId, (this.reserving.get(roomId) ?? 0) + 1);
    let reservation: Reservation;
    try {
      const outcome = await state.directory.join(roomId, { peerId, name, node }, maxPeers, `J\n${roomId}\n${node}\n${peerId}\n${name}`);
      reservation = outcome.ok ? { ok: true, others: outcome.others, resumed: outcome.replacedNode !== null } : { ok: false, code: 'room-full' };
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, room: roomId }, 'join refused: shared state unreachable');
      reservation = { ok: false, code: 'service-unavailable' };
    }
    const left = this.reserving.get(roomId)! - 1;
    if (left > 0) this.reserving.set(roomId, left);
    else this.reserving.delete(roomId);
    // Admitted right after this (no I/O in between), or never: then a view kept for it goes.
    if (!reservation.ok) this.dropIfUnused(roomId);
    return reservation;
  }

  /** The view of a room to apply an announcement to: kept while a join here awaits shared state. */
  private viewFor(roomId: string): Room | undefined {
    const room = this.rooms.get(roomId);
    if (room || !this.reserving.has(roomId)) return room;
    const pending: Room = { id: roomId, members: new Map(), local: 0 };
    this.rooms.set(roomId, pending);
    return pending;
  }

  /** Where to note an announcement for joins still awaiting shared state (undefined: none waits). */
  private changesOf(room: Room): { departed: Set<string>; arrived: Set<string> } | undefined {
    if (!this.reserving.has(room.id)) return undefined;
    return (room.changes ??= { departed: new Set(), arrived: new Set() });
  }

  private dropIfUnused(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room || room.local > 0 || this.reserving.has(roomId)) return;
    this.rooms.delete(roomId);
    this.deps.gauge.set(this.rooms.size);
  }

  /** Gives back a reservation whose socket closed before it was admitted. */
  release(roomId: string, peerId: string): void {
    this.dropFromDirectory(roomId, peerId, 'disconnected');
    this.dropIfUnused(roomId);
  }

  /**
   * Seats a reserved peer in this node's view and tells the local members. Returns the socket
   * this one replaces (the same call's earlier connection on this node), detached from the room.
   */
  admit(peer: Peer, roomId: string, name: string, others: MemberRecord[]): { room: Room; replaced: Peer | undefined; peers: PeerInfo[] } {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { id: roomId, members: new Map(), local: 0 };
      this.rooms.set(roomId, room);
    }
    this.deps.gauge.set(this.rooms.size);
    const peers: PeerInfo[] = [];
    for (const o of others) {
      if (room.changes?.departed.has(o.peerId)) continue;
      peers.push({ peerId: o.peerId, name: o.name });
      const known = room.members.get(o.peerId);
      if (!known || (!known.peer && known.node !== o.node)) room.members.set(o.peerId, { name: o.name, node: o.node });
    }
    for (const id of room.changes?.arrived ?? []) {
      const m = room.members.get(id);
      if (m && id !== peer.id && !others.some((o) => o.peerId === id)) peers.push({ peerId: id, name: m.name });
    }
    const replaced = room.members.get(peer.id)?.peer;
    if (replaced) {
      replaced.room = undefined;
      room.local -= 1;
    }
    room.members.set(peer.id, { name, node: this.deps.node, peer });
    room.local += 1;
    if (!this.reserving.has(roomId)) delete room.changes;
    peer.room = room;
    this.tellLocal(room, JSON.stringify({ type: 'peer-joined', peer: { peerId: peer.id, name } }), peer);
    return { room, replaced, peers };
  }

  /**
   * Takes a local peer out of its room: the room it left, or undefined when it was no (longer a)
   * member. While draining the directory keeps it: the call resumes on another node at once.
   */
  leave(peer: Peer, reason: LeaveReason, draining: boolean): Room | undefined {
    const room = peer.room;
    // Identity check: a replaced socket must not remove the connection that took over its id.
    if (!room || room.members.get(peer.id)?.peer !== peer) return undefined;
    room.members.delete(peer.id);
    room.local -= 1;
    peer.room = undefined;
    if (room.local === 0) {
      this.rooms.delete(room.id);
      this.deps.gauge.set(this.rooms.size);
    }
    if (!draining) {
      this.tellLocal(room, JSON.stringify({ type: 'peer-left', peerId: peer.id, reason }));
      this.dropFromDirectory(room.id, peer.id, reason);
    }
    return room;
  }

  /** Sends a signal message (already serialized) from a local peer to a member on any node. */
  relay(from: Peer, to: string, json: string): RelayOutcome {
    const room = from.room!;
    const target = room.members.get(to);
    if (!target || target.peer === from) return 'unknown-peer';
    if (target.peer) {
      this.deps.deliver(target.peer, json);
      return 'sent';
    }
    return this.deps.state.bus.send(target.node, `S\n${room.id}\n${to}\n${this.deps.node}\n${from.id}\n${json}`) ? 'sent' : 'unavailable';
  }

  counts(): { rooms: number; members: number } {
    let members = 0;
    for (const room of this.rooms.values()) members += room.local;
    return { rooms: this.rooms.size, members };
  }

  /** Stops the heartbeat and forgets the views (shutdown). */
  close(): void {
    clearInterval(this.timer);
    this.rooms.clear();
    this.deps.gauge.set(0);
  }

  private tellLocal(room: Room, json: string, except?: Peer): void {
    for (const m of room.members.values()) if (m.peer && m.peer !== except) this.deps.deliver(m.peer, json);
  }

  private dropFromDirectory(roomId: string, peerId: string, reason: string): void {
    const announce = `L\n${roomId}\n${peerId}\n${reason}`;
    this.deps.state.directory.leave(roomId, peerId, this.deps.node, announce).catch(() => {
      // Retried on the next heartbeat: a member left behind would count against the room's size.
      if (this.pendingLeaves.size < MAX_PENDING_LEAVES) this.pendingLeaves.set(`${roomId}\n${peerId}`, { room: roomId, peerId, announce });
    });
  }

  private onEnvelope(envelope: string): void {
    const kind = envelope[0] as keyof typeof ENVELOPE_FIELDS;
    const fields = ENVELOPE_FIELDS[kind] ? cut(envelope, ENVELOPE_FIELDS[kind]) : [];
    if (kind === 'S' && fields.length === 5) return this.onSignal(fields[0]!, fields[1]!, fields[2]!, fields[3]!, fields[4]!);
    if (kind === 'U' && fields.length === 3) {
      const sender = this.rooms.get(fields[0]!)?.members.get(fields[1]!)?.peer;
      if (sender) this.deps.unknownPeer(sender);
      return;
    }
    if (kind === 'J' && fields.length === 4) return this.onJoined(fields[0]!, fields[1]!, fields[2]!, fields[3]!);
    if (kind === 'L' && fields.length === 3) return this.onLeft(fields[0]!, fields[1]!, fields[2]! as LeaveReason);
    this.deps.log.warn({ kind }, 'malformed bus envelope dropped');
  }

  private onSignal(roomId: string, to: string, fromNode: string, fromPeer: string, json: string): void {
    const target = this.rooms.get(roomId)?.members.get(to)?.peer;
    if (target) this.deps.deliver(target, json);
    // Gone from here (left, or moved on): the sender is refused, as for a local target.
    else this.deps.state.bus.send(fromNode, `U\n${roomId}\n${fromPeer}\n${to}`);
  }

  private onJoined(roomId: string, node: string, peerId: string, name: string): void {
    const room = this.viewFor(roomId);
    if (!room) return;
    const changes = this.changesOf(room);
    changes?.departed.delete(peerId);
    changes?.arrived.add(peerId);
    const previous = room.members.get(peerId)?.peer;
    if (previous) {
      // The same call continued on another node: its socket here gives way without a peer-left.
      previous.room = undefined;
      room.local -= 1;
      this.deps.replaced(previous);
    }
    room.members.set(peerId, { name, node });
    this.tellLocal(room, JSON.stringify({ type: 'peer-joined', peer: { peerId, name } }));
    this.dropIfUnused(roomId);
  }

  private onLeft(roomId: string, peerId: string, reason: LeaveReason): void {
    const room = this.viewFor(roomId);
    const changes = room && this.changesOf(room);
    changes?.arrived.delete(peerId);
    changes?.departed.add(peerId);
    const member = room?.members.get(peerId);
    if (!room || !member || member.peer) return;
    room.members.delete(peerId);
    this.tellLocal(room, JSON.stringify({ type: 'peer-left', peerId, reason }));
  }

  /** Renews presence, re-registers what shared state lost, drops members of dead nodes. */
  async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      await this.beat();
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'heartbeat failed; shared state unreachable');
    } finally {
      this.beating = false;
    }
  }

  private async beat(): Promise<void> {
    const { node, state, heartbeatMs } = this.deps;
    const remote = new Set<string>();
    for (const room of this.rooms.values()) for (const m of room.members.values()) if (!m.peer && m.node !== node) remote.add(m.node);
    const outcome = await state.directory.heartbeat(node, [...this.rooms.keys()], [...remote]);
    if (outcome.stateLost) {
      // Every node re-registers within one beat: until 3 beats have passed, a missing node key
      // may be a node that has not beaten yet since shared state restarted.
      this.trustDeathsAfter = this.now() + heartbeatMs * 3;
      if (this.rooms.size > 0) this.deps.log.info({ rooms: this.rooms.size }, 'shared state lost this node; registering its members again');
    }
    await Promise.all((outcome.stateLost ? [...this.rooms.keys()] : outcome.missingRooms).map((id) => this.register(id)));
    if (this.now() >= this.trustDeathsAfter) for (const dead of outcome.deadNodes) this.dropNode(dead);
    for (const [key, p] of this.pendingLeaves) {
      await state.directory.leave(p.room, p.peerId, node, p.announce);
      this.pendingLeaves.delete(key);
    }
  }

  private register(roomId: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room) return Promise.resolve();
    const members: MemberRecord[] = [];
    for (const [peerId, m] of room.members) if (m.peer) members.push({ peerId, name: m.name, node: this.deps.node });
    return this.deps.state.directory.register(roomId, members);
  }

  /** A node's presence expired: its members are gone, unless they resumed elsewhere (then their node changed). */
  private dropNode(dead: string): void {
    let dropped = 0;
    for (const room of this.rooms.values()) {
      for (const [peerId, m] of room.members) {
        if (m.peer || m.node !== dead) continue;
        room.members.delete(peerId);
        dropped += 1;
        this.tellLocal(room, JSON.stringify({ type: 'peer-left', peerId, reason: 'timeout' }));
        this.deps.state.directory.forget(room.id, peerId, dead).catch(() => undefined);
      }
    }
    if (dropped > 0) this.deps.audit('node.gone', { node: dead, members: dropped });
  }
}
