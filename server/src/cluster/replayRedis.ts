import type { Redis } from 'ioredis';
import type { ReplayStore } from '../replayStore.js';

/**
 * Used room-token ids in Redis, shared by every node: `SET <prefix>room-token:<jti> 1 NX EX <ttl>`,
 * so a token used on one node is refused on all of them, and Redis forgets each id when its token
 * expires. One round trip per join. While Redis is away the claim fails (the connection has no
 * offline queue and a command timeout), and the gate refuses the join: single use cannot be
 * vouched for then.
 */
export class RedisReplayStore implements ReplayStore {
  /** Survives a restart of this node (and of Redis, as far as Redis's own persistence goes). */
  readonly durable = true;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(jti: string, expiresAtSeconds: number): Promise<boolean> {
    // At least a second: a token verified just before its expiry is still used up.
    const ttl = Math.max(1, Math.ceil(expiresAtSeconds - this.now() / 1000));
    const answer = await this.redis.set(`${this.keyPrefix}room-token:${jti}`, '1', 'EX', ttl, 'NX');
    return answer === 'OK';
  }

  /** The connection belongs to the app, which closes it after the hub. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
