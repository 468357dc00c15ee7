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
