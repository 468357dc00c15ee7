import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { MemoryLimiter, type Limiter, type LimitSpec } from '../rateLimit.js';
import { openReplayStore, type ReplayStore } from '../replayStore.js';
import { RedisLimiter } from './limitRedis.js';
import { openRedis } from './redis.js';

/** A route's limits: per signed-in user and per client address. */
export interface RouteLimits {
  user: Limiter;
  ip: Limiter;
}

/** The HTTP side's per-user and per-address limits. */
export interface HttpLimits {
  join: RouteLimits;
  networkCheck: RouteLimits;
}

/** In this node's memory, or shared by every node through Redis when the nodes share state. */
export function createHttpLimits(limits: ServerConfig['limits'], now: () => number, shared?: { redis: Redis; keyPrefix: string }): HttpLimits {
  const make = (spec: LimitSpec): Limiter => (shared ? new RedisLimiter(shared.redis, shared.keyPrefix, spec) : new MemoryLimiter(spec, now));
  return {
    join: {
      user: make({ name: 'join:user', burst: limits.joinBurst, perMinute: limits.joinsPerMinute }),
      ip: make({ name: 'join:ip', burst: limits.ipJoinBurst, perMinute: limits.ipJoinsPerMinute }),
    },
    networkCheck: {
      user: make({ name: 'network-check:user', burst: limits.networkCheckBurst, perMinute: limits.networkChecksPerMinute }),
      ip: make({ name: 'network-check:ip', burst: limits.ipNetworkCheckBurst, perMinute: limits.ipNetworkChecksPerMinute }),
    },
  };
}

/** Which limit refuses this request, if any; both are taken at once (one round trip with Redis). */
export async function refusedBy(limits: RouteLimits, sub: string, ip: string): Promise<'user' | 'ip' | null> {
  const [user, address] = await Promise.all([limits.user.take(sub), limits.ip.take(ip)]);
  return !user ? 'user' : !address ? 'ip' : null;
}

/** What admitting a join needs besides the room: used room tokens and the HTTP limits. */
export interface AdmissionState {
  replay: ReplayStore;
  limits: HttpLimits;
  /** False while the shared state does not answer: joins are refused at once (503). */
  ready(): boolean;
  /** Closes the shared connection; after the hub has closed the replay store. */
  close(): void;
}

/** On one node, memory (or the replay file); on several, one Redis connection shared by both. */
export function openAdmissionState(config: ServerConfig, log: Logger, now: () => number): AdmissionState {
  const redisConfig = config.cluster.redis;
  const shared = redisConfig ? { redis: openRedis(redisConfig, log, 'room-tokens-and-limits'), keyPrefix: redisConfig.keyPrefix } : undefined;
  return {
    replay: openReplayStore(config.roomToken.replayStoreFile, log, now, shared),
    limits: createHttpLimits(config.limits, now, shared),
    ready: () => !shared || shared.redis.status === 'ready',
    close: () => shared?.redis.disconnect(),
  };
}
