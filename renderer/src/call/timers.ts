/** The clock and timers a call-layer object uses; injectable so tests drive time without sleeping. */
export interface Clock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

export function clockFrom(deps: Partial<Clock>): Clock {
  return {
    now: deps.now ?? (() => performance.now()),
    setTimeout: deps.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms)),
    clearTimeout: deps.clearTimeout ?? ((handle) => globalThis.clearTimeout(handle as number | undefined)),
  };
}

/**
 * Named one-shot timers on a clock, at most one per name: what a peer link waits for (to connect,
 * to recover from `disconnected`, for an away peer to come back).
 */
export class TimerSet<Name extends string> {
  private readonly handles = new Map<Name, unknown>();

  constructor(private readonly clock: Clock) {}

  /** Starts `name` (replacing one running) and returns nothing; it forgets itself when it fires. */
  start(name: Name, ms: number, fn: () => void): void {
    this.stop(name);
    this.handles.set(name, this.clock.setTimeout(() => {
      this.handles.delete(name);
      fn();
    }, ms));
  }

  /** Starts `name` unless it is already running. */
  startOnce(name: Name, ms: number, fn: () => void): void {
    if (!this.handles.has(name)) this.start(name, ms, fn);
  }

  running(name: Name): boolean {
    return this.handles.has(name);
  }

  stop(...names: Name[]): void {
    for (const name of names) {
      if (this.handles.has(name)) this.clock.clearTimeout(this.handles.get(name));
      this.handles.delete(name);
    }
  }

  stopAll(): void {
    this.stop(...this.handles.keys());
  }
}
