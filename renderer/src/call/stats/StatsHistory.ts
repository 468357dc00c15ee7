import type { PeerStatsSnapshot } from './statsReducer.js';

export interface StatsHistoryOptions {
  /** How far back to keep; default 10 min. */
  durationMs?: number;
  /** The sampling interval; capacity = ceil(durationMs / intervalMs). Default 1 s. */
  intervalMs?: number;
  /** An explicit number of entries instead (for rings of other timed records). */
  capacity?: number;
}

export interface SeriesPoint {
  at: number;
  value: number | null;
}

/**
 * The recent snapshots of one peer, oldest first, in a fixed-size ring: a long call costs the same
 * memory as a short one (600 small snapshots by default), and pushing never allocates an array.
 */
export class StatsHistory<T extends { at: number } = PeerStatsSnapshot> {
  readonly capacity: number;
  private readonly ring: (T | undefined)[];
  /** Index the next push writes to. */
  private head = 0;
  private count = 0;

  constructor(opts: StatsHistoryOptions = {}) {
    const durationMs = opts.durationMs ?? 600_000;
    const intervalMs = opts.intervalMs ?? 1000;
    if (!(durationMs > 0) || !(intervalMs > 0)) throw new RangeError(`durationMs and intervalMs must be positive (got ${durationMs}, ${intervalMs})`);
    this.capacity = Math.max(1, Math.floor(opts.capacity ?? Math.ceil(durationMs / intervalMs)));
    this.ring = new Array<T | undefined>(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds the newest snapshot, dropping the oldest when full. */
  push(item: T): void {
    this.ring[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  latest(): T | null {
    return this.count === 0 ? null : this.ring[(this.head - 1 + this.capacity) % this.capacity]!;
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(start + i) % this.capacity]!);
    return out;
  }

  /** One chart line, oldest first: `history.series((s) => s.quality.rttMs)`. */
  series(selector: (item: T) => number | null | undefined): SeriesPoint[] {
    return this.toArray().map((item) => ({ at: item.at, value: selector(item) ?? null }));
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
