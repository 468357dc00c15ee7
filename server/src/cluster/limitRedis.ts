import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Limiter, LimitSpec } from '../rateLimit.js';

/**
 * The window a burst and a rate become in a fixed-window counter: `burst` requests per
 * `burst / rate` seconds. The sustained rate is the configured one; at a window's edge a client can
 * get up to two bursts back to back, which the per-node token bucket would not allow.
 */
export function windowOf(spec: LimitSpec): { points: number; duration: number } {
  return { points: spec.burst, duration: Math.max(1, Math.round((spec.burst * 60) / spec.perMinute)) };
}

/**
 * A limit shared by every node: one counter per key in Redis (rate-limiter-flexible, one atomic
 * script per request), so a user or an address gets the configured rate from the cluster as a
 * whole, not from each node.
 *
 * While Redis is away the limit falls back to a counter in this node's memory with the same window
 * (the library's insurance limiter): requests are neither refused wholesale nor let through
 * unlimited, and each node enforces the limit on its own, so a client spread over N nodes gets at
 * most N times the rate until Redis is back. Refusing every request instead would turn a Redis
 * outage into an outage of sign-in-free features (the network check) that do not need Redis.
 */
export class RedisLimiter implements Limiter {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: Redis, keyPrefix: string, spec: LimitSpec) {
    const window = windowOf(spec);
    const prefix = `${keyPrefix}limit:${spec.name}`;
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: prefix,
      ...window,
      // Straight to the insurance while disconnected, rather than one failed command per request.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: prefix, ...window }),
    });
  }

  async take(key: string): Promise<boolean> {
    try {
      await this.limiter.consume(key);
      return true;
    } catch (err) {
      if (err instanceof RateLimiterRes) return false;
      throw err;
    }
  }
}
