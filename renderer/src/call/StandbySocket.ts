import { CLOSE_CODE } from '../../../shared/protocol/index.js';
import { clockFrom, type Clock } from './timers.js';

export interface StandbySocketDeps extends Partial<Clock> {
  WebSocket: typeof WebSocket;
  /** The signaling URL of the join at hand (JoinResponse.signalingUrl). */
  url: string;
  /**
   * A socket is replaced once it is this old. The server closes a socket that has not joined within
   * its join timeout (`limits.joinTimeoutMs`, 10 s by default), and one handed over must have time
   * left for the join to arrive.
   */
  renewAfterMs?: number;
  /** A socket older than this is never handed over (it may be closed under the join). */
  maxAgeMs?: number;
  /** The wait before opening again after a socket failed to open or was closed by the server, doubling up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

interface Held {
  ws: WebSocket;
  openedAt: number;
}

const DEFAULTS = { renewAfterMs: 6_500, maxAgeMs: 8_000, retryMs: 1_000, maxRetryMs: 30_000 };
/** A server whose join timeout is shorter than this is not worth a standby socket: the join opens its own. */
const SHORTEST_USEFUL_LIFETIME_MS = 1_500;

/**
 * The signaling socket opened ahead, while the pre-join screen shows, so that Join call only sends
 * `join` on it: the TCP and WebSocket handshakes are off the call's critical path (bench:call). It
 * carries nothing until then; the room token stays with the token source until the join.
 *
 * A socket is replaced before the server's join timeout closes it (a new one is opened, and the old
 * one closed once the new one is open). One the server closes anyway (a shorter join timeout) teaches
 * the lifetime to keep under; one that fails to open is tried again later. Nothing here is ever shown
 * to the user: without a standby socket, the join opens its own as before.
 */
export class StandbySocket {
  private readonly clock: Clock;
  private readonly opts: typeof DEFAULTS;
  /** Newest last: the current socket, and the one it replaces while the new one opens. */
  private held: Held[] = [];
  private timer: unknown = null;
  private failures = 0;
  private stopped = false;

  constructor(private readonly deps: StandbySocketDeps) {
    this.clock = clockFrom(deps);
    this.opts = {
      renewAfterMs: deps.renewAfterMs ?? DEFAULTS.renewAfterMs,
      maxAgeMs: deps.maxAgeMs ?? DEFAULTS.maxAgeMs,
      retryMs: deps.retryMs ?? DEFAULTS.retryMs,
      maxRetryMs: deps.maxRetryMs ?? DEFAULTS.maxRetryMs,
    };
    this.open();
  }

  get url(): string {
    return this.deps.url;
  }

  /** Sockets held now (open or opening), for tests and diagnostics. */
  get size(): number {
    return this.held.length;
  }

  /**
   * Hands over the socket to join on, for `url`: an open one young enough, else one still opening,
   * else null. Its handlers are cleared; the caller owns it from now on. Every other socket is closed,
   * and the standby stops.
   */
  take(url: string): WebSocket | null {
    const now = this.clock.now();
    const usable = url === this.deps.url ? this.held.filter((h) => now - h.openedAt < this.opts.maxAgeMs) : [];
    const chosen = usable.findLast((h) => h.ws.readyState === h.ws.OPEN) ?? usable.findLast((h) => h.ws.readyState === h.ws.CONNECTING) ?? null;
    if (chosen) {
      detach(chosen.ws);
      this.held = this.held.filter((h) => h !== chosen);
    }
    this.close();
    return chosen?.ws ?? null;
  }

  /** Closes every socket it holds and stops. Idempotent. */
  close(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    for (const h of this.held.splice(0)) closeQuietly(h.ws);
  }

  private schedule(ms: number, fn: () => void): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      fn();
    }, ms);
  }

  private open(): void {
    if (this.stopped) return;
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    let ws: WebSocket;
    try {
      ws = new this.deps.WebSocket(this.deps.url);
    } catch {
      // A URL the browser refuses: the join will say so with its own socket.
      this.close();
      return;
    }
    const held: Held = { ws, openedAt: this.clock.now() };
    this.held.push(held);
    ws.onerror = () => {}; // a close event always follows
    ws.onmessage = () => {}; // nothing is sent to a socket that has not joined but a fatal error, then a close
    ws.onopen = () => {
      this.failures = 0;
      // The socket it replaces is not needed any more.
      for (const old of this.held.filter((h) => h !== held)) this.drop(old);
      this.schedule(this.opts.renewAfterMs, () => this.open());
    };
    ws.onclose = (ev: CloseEvent) => this.onClosed(held, ev.code);
  }

  private onClosed(held: Held, code: number): void {
    const newest = this.held.at(-1) === held;
    this.drop(held);
    // An older socket closing while its replacement opens changes nothing.
    if (this.stopped || !newest) return;
    const lifetime = this.clock.now() - held.openedAt;
    if (code === CLOSE_CODE['join-timeout']) {
      // Our renewal did not run in time: timers are throttled (a hidden window). Opening again would
      // only be timed out again, every few seconds, for as long as it stays hidden; the join opens its own.
      if (lifetime >= this.opts.maxAgeMs) return this.close();
      // The server's join timeout is shorter than we thought: stay well under it from now on.
      if (lifetime < SHORTEST_USEFUL_LIFETIME_MS) return this.close();
      this.opts.maxAgeMs = Math.min(this.opts.maxAgeMs, lifetime * 0.8);
      this.opts.renewAfterMs = Math.min(this.opts.renewAfterMs, lifetime * 0.6);
      return this.open();
    }
    // Refused, unreachable, or the server restarting: try again later, less and less often.
    const delay = Math.min(this.opts.maxRetryMs, this.opts.retryMs * 2 ** this.failures);
    this.failures += 1;
    this.schedule(delay, () => this.open());
  }

  private drop(held: Held): void {
    this.held = this.held.filter((h) => h !== held);
    closeQuietly(held.ws);
  }
}

function detach(ws: WebSocket): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = () => {}; // Node's ws throws on an unhandled late error
}

function closeQuietly(ws: WebSocket): void {
  detach(ws);
  if (ws.readyState === ws.CONNECTING || ws.readyState === ws.OPEN) ws.close(1000);
}
