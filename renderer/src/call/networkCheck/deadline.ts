import type { Clock } from '../timers.js';

// Every probe waits with a deadline: a blocked path may never report an error.

/**
 * Resolves with what `start` hands to `done`, or with `onTimeout()` after `ms`, or with `onTimeout()`
 * when `signal` aborts; `start` returns its cleanup, which runs exactly once, whichever came first.
 * Rejects when `start` throws (a constructor refusing its configuration, no WebRTC).
 */
export function withDeadline<T>(
  clock: Clock,
  ms: number,
  onTimeout: () => T,
  start: (done: (value: T) => void) => () => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let cleanup: (() => void) | null = null;
    const done = (value: T) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup?.();
      resolve(value);
    };
    const onAbort = () => done(onTimeout());
    const timer = clock.setTimeout(() => done(onTimeout()), ms);
    signal?.addEventListener('abort', onAbort);
    try {
      const c = start(done);
      if (settled) c();
      else cleanup = c;
    } catch (err) {
      settled = true;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (signal?.aborted) onAbort();
  });
}

export function safeClose(pc: RTCPeerConnection): void {
  try {
    pc.close();
  } catch {
    // already closed
  }
}
