/** A token bucket: `capacity` tokens, refilled continuously at `ratePerSecond`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    readonly ratePerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes `cost` tokens if available. */
  take(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** True once the bucket has refilled completely (so a keyed limiter may forget it). */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = (now - this.last) / 1000;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.ratePerSecond);
      this.last = now;
    }
  }
}

/** One bucket per key (user, IP), with full buckets forgotten so memory stays bounded. */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly capacity: number,
    private readonly ratePerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string, cost = 1): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.capacity, this.ratePerSecond, this.now);
      this.buckets.set(key, bucket);
    }
    return bucket.take(cost);
  }

  /** Drops buckets that have refilled; call periodically. */
  sweep(): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** A per-key limit (user, address) on an HTTP route: one unit per request. */
export interface Limiter {
  /** True when the request may go ahead. Resolves in bounded time, whatever the store does. */
  take(key: string): Promise<boolean>;
}

/** A limit as configured: a burst, refilled at a steady rate. */
export interface LimitSpec {
  /** Names the limit in shared-state keys and logs (`join:user`). */
  name: string;
  burst: number;
  perMinute: number;
}

const SWEEP_EVERY_MS = 60_000;

/** One node's limit in memory: token buckets per key, forgotten once full again. */
export class MemoryLimiter implements Limiter {
  private readonly buckets: KeyedRateLimiter;
  private lastSweep: number;

  constructor(
    spec: LimitSpec,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new KeyedRateLimiter(spec.burst, spec.perMinute / 60, now);
    this.lastSweep = now();
  }

  take(key: string): Promise<boolean> {
    if (this.now() - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = this.now();
      this.buckets.sweep();
    }
    return Promise.resolve(this.buckets.take(key));
  }

  get size(): number {
    return this.buckets.size;
  }
}
