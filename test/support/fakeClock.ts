/** A manual clock with the injectable `now`/`setTimeout`/`clearTimeout` shape; time moves only in advance(). */
export class FakeClock {
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  /** `start`: ms since the epoch (0 unless a test needs realistic times, e.g. token expiries). */
  constructor(private t = 0) {}

  readonly now = (): number => this.t;

  /** Whole seconds since the epoch, the unit of JWT-style expiries. */
  seconds(): number {
    return Math.floor(this.t / 1000);
  }

  readonly setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };

  readonly clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /** Timers still scheduled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order, including ones they schedule that fall due. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const timer of this.timers) {
        if (timer[1].at <= end && (!next || timer[1].at < next[1].at)) next = timer;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}
