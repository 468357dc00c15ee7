import type { HeartbeatOutcome, JoinOutcome, MemberRecord, MessageBus, RoomDirectory, SharedState } from './types.js';

/** Rooms of one node in process memory: the default, with nothing to run beside the server. */
export class MemoryRoomDirectory implements RoomDirectory {
  private readonly rooms = new Map<string, Map<string, MemberRecord>>();

  join(room: string, member: MemberRecord, maxPeers: number): Promise<JoinOutcome> {
    const members = this.rooms.get(room) ?? new Map<string, MemberRecord>();
    const previous = members.get(member.peerId);
    if (members.size - (previous ? 1 : 0) >= maxPeers) return Promise.resolve({ ok: false, reason: 'room-full' });
    const others = [...members.values()].filter((m) => m.peerId !== member.peerId);
    members.set(member.peerId, member);
    this.rooms.set(room, members);
    return Promise.resolve({ ok: true, others, replacedNode: previous?.node ?? null });
  }

  leave(room: string, peerId: string, node: string): Promise<boolean> {
    const members = this.rooms.get(room);
    if (members?.get(peerId)?.node !== node) return Promise.resolve(false);
    members.delete(peerId);
    if (members.size === 0) this.rooms.delete(room);
    return Promise.resolve(true);
  }

  async forget(room: string, peerId: string, node: string): Promise<void> {
    await this.leave(room, peerId, node);
  }

  register(room: string, members: MemberRecord[]): Promise<void> {
    const known = this.rooms.get(room) ?? new Map<string, MemberRecord>();
    for (const m of members) known.set(m.peerId, m);
    this.rooms.set(room, known);
    return Promise.resolve();
  }

  heartbeat(): Promise<HeartbeatOutcome> {
    return Promise.resolve({ stateLost: false, missingRooms: [], deadNodes: [] });
  }

  close(): Promise<void> {
    this.rooms.clear();
    return Promise.resolve();
  }
}

/** One node has nobody to send to: every member is local. */
export class MemoryMessageBus implements MessageBus {
  send(): boolean {
    return false;
  }

  listen(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function memorySharedState(): SharedState {
  return {
    directory: new MemoryRoomDirectory(),
    bus: new MemoryMessageBus(),
    distributed: false,
    status: () => 'ok',
    onReconnect: () => {},
    close: () => Promise.resolve(),
  };
}
