import type { Redis, Result } from 'ioredis';
import type { Logger } from 'pino';
import { openRedis, type RedisConfig } from './redis.js';
import { HEARTBEAT_LUA, JOIN_LUA, LEAVE_LUA } from './redisLua.js';
import type { HeartbeatOutcome, JoinOutcome, MemberRecord, MessageBus, RoomDirectory, SharedState, SharedStateStatus } from './types.js';

type JoinReply = ['full'] | ['ok', string, string[]];
type HeartbeatReply = [number, string[], string[]];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    zrJoin(room: string, peerId: string, node: string, name: string, max: number, ttlMs: number, prefix: string, announce: string): Result<JoinReply, Context>;
    zrLeave(room: string, peerId: string, node: string, prefix: string, announce: string): Result<number, Context>;
    zrHeartbeat(...args: (string | number)[]): Result<HeartbeatReply, Context>;
  }
}

const memberValue = (m: MemberRecord) => `${m.node}\n${m.name}`;

function parseMember(peerId: string, value: string): MemberRecord {
  const at = value.indexOf('\n');
  return { peerId, node: value.slice(0, at), name: value.slice(at + 1) };
}

/** Room membership in Redis hashes; every change is one Lua call (one round trip). */
/** Counts each command a node sends Redis (a round trip, pipelined or not), by operation. */
export type CommandCounter = (op: 'join' | 'leave' | 'heartbeat' | 'register' | 'publish') => void;

export class RedisRoomDirectory implements RoomDirectory {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly count: CommandCounter = () => {},
  ) {
    // ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT, so a Redis restarted empty works at once.
    redis.defineCommand('zrJoin', { numberOfKeys: 1, lua: JOIN_LUA });
    redis.defineCommand('zrLeave', { numberOfKeys: 1, lua: LEAVE_LUA });
    redis.defineCommand('zrHeartbeat', { numberOfKeys: 0, lua: HEARTBEAT_LUA });
  }

  private key(room: string): string {
    return `${this.prefix}room:${room}`;
  }

  async join(room: string, member: MemberRecord, maxPeers: number, announce: string): Promise<JoinOutcome> {
    this.count('join');
    const reply = await this.redis.zrJoin(this.key(room), member.peerId, member.node, member.name, maxPeers, this.ttlMs, this.prefix, announce);
    if (reply[0] === 'full') return { ok: false, reason: 'room-full' };
    const [, replaced, flat] = reply;
    const others: MemberRecord[] = [];
    for (let i = 0; i < flat.length; i += 2) others.push(parseMember(flat[i]!, flat[i + 1]!));
    return { ok: true, others, replacedNode: replaced || null };
  }

  async leave(room: string, peerId: string, node: string, announce: string): Promise<boolean> {
    this.count('leave');
    return (await this.redis.zrLeave(this.key(room), peerId, node, this.prefix, announce)) === 1;
  }

  async forget(room: string, peerId: string, node: string): Promise<void> {
    this.count('leave');
    await this.redis.zrLeave(this.key(room), peerId, node, this.prefix, '');
  }

  async register(room: string, members: MemberRecord[]): Promise<void> {
    if (members.length === 0) return;
    this.count('register');
    const fields = members.flatMap((m) => [m.peerId, memberValue(m)]);
    await this.redis.multi().hset(this.key(room), ...fields).pexpire(this.key(room), this.ttlMs).exec();
  }

  async heartbeat(node: string, rooms: string[], remoteNodes: string[]): Promise<HeartbeatOutcome> {
    this.count('heartbeat');
    const [existed, missingRooms, deadNodes] = await this.redis.zrHeartbeat(node, this.ttlMs, this.prefix, rooms.length, ...rooms, ...remoteNodes);
    return { stateLost: existed === 0, missingRooms, deadNodes };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Envelopes to another node go to that node's pub/sub channel. Chosen over streams by measurement
 * (bench/signal/busChoice.ts, 1 KB messages, one Redis on the 2-core development machine): pub/sub
 * had the lower median latency up to 5,000 msg/s per receiving node (0.3–0.5 ms against 0.5–2.6 ms)
 * and cost Redis about half the CPU per message at every rate (1.4–10 µs against 3.8–19 µs); only
 * past what one test process could send and receive (10,000 msg/s and more) did streams' batched
 * reads queue less. Above all pub/sub keeps nothing: a message for a node that is gone is dropped
 * at once, where a stream would hold it (and need trimming and a reader's position) for nobody.
 * Order is kept because one connection publishes (relays and the directory's announcements alike)
 * and one connection per node receives.
 */
export class RedisMessageBus implements MessageBus {
  /** Set once the node's channel is subscribed (ioredis renews the subscription after reconnects). */
  listening = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly count: CommandCounter = () => {},
  ) {}

  send(node: string, envelope: string): boolean {
    if (this.publisher.status !== 'ready') return false;
    this.count('publish');
    // Failures after this point (Redis gone mid-flight) lose the message, as a socket would.
    this.publisher.publish(`${this.prefix}bus:${node}`, envelope).catch(() => undefined);
    return true;
  }

  listen(node: string, handler: (envelope: string) => void): void {
    const channel = `${this.prefix}bus:${node}`;
    this.subscriber.on('message', (ch: string, message: string) => {
      if (ch === channel) handler(message);
    });
    const subscribe = () => {
      this.subscriber.subscribe(channel).then(() => (this.listening = true)).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'bus subscribe failed; retried on reconnect'));
    };
    // ioredis subscribes again after a reconnect by itself; this covers the first connection.
    if (this.subscriber.status === 'ready') subscribe();
    else this.subscriber.once('ready', subscribe);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Shared state in one Redis: two connections (commands and publishes; the node's subscription). */
export function redisSharedState(config: RedisConfig, log: Logger, heartbeatMs: number, count?: CommandCounter): SharedState {
  // Commands issued in one event-loop turn go out in one write (relays come in bursts).
  const commands = openRedis(config, log, 'state', { enableAutoPipelining: true });
  const subscriber = openRedis(config, log, 'bus');
  let everReady = false;
  commands.once('ready', () => (everReady = true));
  const directory = new RedisRoomDirectory(commands, config.keyPrefix, heartbeatMs * 3, count);
  const bus = new RedisMessageBus(commands, subscriber, config.keyPrefix, log, count);
  const status = (): SharedStateStatus => {
    if (commands.status === 'ready' && subscriber.status === 'ready' && bus.listening) return 'ok';
    return everReady ? 'unreachable' : 'connecting';
  };
  return {
    directory,
    bus,
    distributed: true,
    status,
    onReconnect: (handler) => commands.on('ready', handler),
    async close() {
      await Promise.all([commands, subscriber].map((r) => r.quit().catch(() => r.disconnect())));
    },
  };
}
