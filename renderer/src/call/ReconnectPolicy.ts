import { TERMINAL_CLOSE_CODES } from '../../../shared/protocol/index.js';

export interface ReconnectContext {
  /** Failed attempts so far in this outage (0 before the first retry). */
  attempt: number;
  /** Time since the connection was lost. */
  elapsedMs: number;
  /** Close code of the last socket (or the code a failed join maps to), null when unknown. */
  lastCloseCode: number | null;
  /** Close code of the socket whose loss started this outage (absent: unknown). */
  outageCloseCode?: number | null;
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
  /**
   * After the server said it is going away (1001: a restart, or a node draining), the delay's
   * ceiling stays at most this for `plannedStopWindowMs`, so a call is back within about this much
   * of the server (or another node) accepting again, instead of one long backoff step later.
   */
  plannedStopCeilingMs?: number;
  plannedStopWindowMs?: number;
}

/** WebSocket 1001 "going away": the server closes its sockets because it stops or drains. */
const GOING_AWAY = 1001;


/** Exponential backoff with full jitter: a uniform delay in [0, min(max, base·factor^attempt)]. */
export class ExponentialBackoffPolicy implements ReconnectPolicy {
  readonly baseMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  readonly maxElapsedMs: number;
  readonly plannedStopCeilingMs: number;
  readonly plannedStopWindowMs: number;
  private readonly random: () => number;

  constructor(opts: ExponentialBackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 250;
    this.factor = opts.factor ?? 2;
    this.maxDelayMs = opts.maxDelayMs ?? 5_000;
    this.maxElapsedMs = opts.maxElapsedMs ?? 5 * 60_000;
    this.random = opts.random ?? Math.random;
    this.plannedStopCeilingMs = opts.plannedStopCeilingMs ?? 1_000;
    this.plannedStopWindowMs = opts.plannedStopWindowMs ?? 30_000;
  }

  nextDelayMs({ attempt, elapsedMs, lastCloseCode, outageCloseCode }: ReconnectContext): number | null {
    if (lastCloseCode !== null && TERMINAL_CLOSE_CODES.includes(lastCloseCode)) {
      return null;
    }
    if (elapsedMs >= this.maxElapsedMs) return null;
    // Full jitter spreads a whole room's reconnects after a server restart instead of stampeding it.
    // A restart takes seconds: while one may be under way, keep trying about once a second.
    const planned = outageCloseCode === GOING_AWAY && elapsedMs < this.plannedStopWindowMs;
    const max = planned ? Math.min(this.maxDelayMs, this.plannedStopCeilingMs) : this.maxDelayMs;
    const ceiling = Math.min(max, this.baseMs * this.factor ** Math.max(0, attempt));
    return Math.floor(this.random() * ceiling);
  }
}
