import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisReplayStore } from './cluster/replayRedis.js';
import { FileReplayStore } from './replayStoreFile.js';

/**
 * Remembers used room-token ids until they expire, so each token opens one session only. Single
 * node: memory, or an append-only file that survives restarts; Redis when several nodes share the
 * signing keys.
 */
export interface ReplayStore {
  /** True the first time a jti is seen (and, for a durable store, once that is on disk); false for a replay. */
  claim(jti: string, expiresAtSeconds: number): boolean | Promise<boolean>;
  /** Whether claims survive a restart of this process. */
  readonly durable: boolean;
  close(): Promise<void>;
}

/** Used token ids in process memory: a restart forgets them. */
export class MemoryReplayStore implements ReplayStore {
  readonly durable = false;
  private readonly used = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  claim(jti: string, expiresAtSeconds: number): boolean {
    this.sweep();
    if (this.used.has(jti)) return false;
    this.used.set(jti, expiresAtSeconds * 1000);
    return true;
  }

  get size(): number {
    return this.used.size;
  }

  /** Live entries as [jti, expiry in unix seconds], oldest first. */
  *entries(): IterableIterator<[string, number]> {
    this.sweep();
    for (const [jti, ms] of this.used) yield [jti, ms / 1000];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private sweep(): void {
    const now = this.now();
    // Map iteration is insertion order and tokens share one TTL, so expiries are nearly sorted.
    for (const [jti, exp] of this.used) {
      if (exp > now) break;
      this.used.delete(jti);
    }
  }
}

/**
 * The store the configuration asks for: Redis when the nodes share state, else the file. Without
 * either, used tokens are remembered in memory only, which a restart forgets: said once at start,
 * since that weakens single use.
 */
export function openReplayStore(
  file: string | undefined,
  log: Logger,
  now: () => number = Date.now,
  shared?: { redis: Redis; keyPrefix: string },
): ReplayStore {
  if (shared) {
    if (file) log.warn({ file }, 'roomToken.replayStoreFile is not used: used room tokens are kept in Redis (cluster.redis), shared by every node');
    return new RedisReplayStore(shared.redis, shared.keyPrefix, now);
  }
  if (file) {
    const store = FileReplayStore.open(file, new MemoryReplayStore(now));
    log.info({ file, remembered: store.size }, 'room-token replay store opened');
    return store;
  }
  log.warn(
    'roomToken.replayStoreFile is not set: used room tokens are remembered in memory only, so a token used before a restart is accepted again after it until it expires',
  );
  return new MemoryReplayStore(now);
}
