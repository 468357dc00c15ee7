import { TERMINAL_CLOSE_CODES } from '../../../shared/protocol/index.js';

export interface ReconnectContext {
  /** Failed attempts so far in this outage (0 before the first retry). */
  attempt: number;
  /** Time since the connection was lost. */
  elapsedMs: number;
  /** Close code of the last socket (or the code a failed join maps to), null when unknown. */
  lastCloseCode: number | null;
}

/** Decides how long to wait before the next reconnect attempt; null gives up. */
export interface ReconnectPolicy {
  nextDelayMs(ctx: ReconnectContext): number | null;
}

export interface ExponentialBackoffOptions {
  baseMs?: number;
  factor?: number;
  maxDelayMs?: number;
  /** Give up once the outage has lasted this long. */
  maxElapsedMs?: number;
  /** Returns [0, 1); injectable so tests can seed it. */
  random?: () => number;
}


/** Exponential backoff with full jitter: a uniform delay in [0, min(max, base·factor^attempt)]. */
export class ExponentialBackoffPolicy implements ReconnectPolicy {
  readonly baseMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  readonly maxElapsedMs: number;
  private readonly random: () => number;

  constructor(opts: ExponentialBackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 250;
    this.factor = opts.factor ?? 2;
    this.maxDelayMs = opts.maxDelayMs ?? 5_000;
    this.maxElapsedMs = opts.maxElapsedMs ?? 5 * 60_000;
    this.random = opts.random ?? Math.random;
  }

  nextDelayMs({ attempt, elapsedMs, lastCloseCode }: ReconnectContext): number | null {
    if (lastCloseCode !== null && TERMINAL_CLOSE_CODES.includes(lastCloseCode)) {
      return null;
    }
    if (elapsedMs >= this.maxElapsedMs) return null;
    // Full jitter spreads a whole room's reconnects after a server restart instead of stampeding it.
    const ceiling = Math.min(this.maxDelayMs, this.baseMs * this.factor ** Math.max(0, attempt));
    return Math.floor(this.random() * ceiling);
  }
}
