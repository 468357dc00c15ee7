import type { Clock } from './timers.js';

/**
 * App-level ping/pong: browsers cannot see WebSocket pings, and a silently dropped NAT mapping
 * never closes the socket, so a missing pong is the only way to learn the connection is dead.
 */
export class Heartbeat {
  private seq = 0;
  private readonly inFlight = new Map<number, number>();
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  private _rttMs: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly sendPing: (id: number) => void,
    private readonly onTimeout: () => void,
  ) {}

  /** Round-trip time of the last answered ping. */
  get rttMs(): number | null {
    return this._rttMs;
  }

  start(): void {
    this.stop();
    this.schedule();
  }

  stop(): void {
    this.clock.clearTimeout(this.pingTimer);
    this.clock.clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
    this.inFlight.clear();
  }

  pong(id: number): void {
    const sentAt = this.inFlight.get(id);
    if (sentAt === undefined) return;
    this._rttMs = this.clock.now() - sentAt;
    // Frames arrive in order, so older pings are answered too.
    this.inFlight.clear();
    this.clock.clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private schedule(): void {
    this.pingTimer = this.clock.setTimeout(() => this.ping(), this.intervalMs);
  }

  private ping(): void {
    const id = ++this.seq;
    this.inFlight.set(id, this.clock.now());
    this.sendPing(id);
    // The deadline runs from the oldest unanswered ping.
    if (this.pongTimer === null) {
      this.pongTimer = this.clock.setTimeout(() => {
        this.stop();
        this.onTimeout();
      }, this.timeoutMs);
    }
    this.schedule();
  }
}
