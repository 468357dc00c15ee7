import { describe, expect, it } from 'vitest';
import { ScreenShareBroker } from '../../electron/main/ScreenShareBroker.js';
import type { ScreenSource } from '../../shared/ipc/desktopApi.js';

const sources: ScreenSource[] = [
  { id: 'screen:0:0', name: 'Entire screen', kind: 'screen', thumbnail: null },
  { id: 'window:42:0', name: 'Slides', kind: 'window', thumbnail: null },
];

/** Timers the test fires by hand: no waiting for a real minute. */
function manualTimers() {
  const timers = new Map<number, { fn: () => void; ms: number }>();
  let next = 0;
  return {
    setTimeout: (fn: () => void, ms: number) => {
      timers.set(++next, { fn, ms });
      return next;
    },
    clearTimeout: (id: unknown) => void timers.delete(id as number),
    fireAll() {
      for (const [id, t] of [...timers]) {
        timers.delete(id);
        t.fn();
      }
    },
    pending: () => [...timers.values()].map((t) => t.ms),
  };
}

function broker(listening = true) {
  const timers = manualTimers();
  const offered: ScreenSource[][] = [];
  const b = new ScreenShareBroker({
    offer: (s) => {
      offered.push(s);
      return listening;
    },
    timeoutMs: 60_000,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  return { b, timers, offered };
}

describe('ScreenShareBroker', () => {
  it('grants the source the user picked, and only one that was offered', async () => {
    const { b, offered, timers } = broker();
    const picked = b.request(sources);
    expect(offered).toEqual([sources]);
    expect(() => b.choose('screen:9:9')).toThrow(/not offered/);
    b.choose('window:42:0');
    expect(await picked).toEqual(sources[1]);
    expect(timers.pending()).toEqual([]); // its timer is gone with it
    expect(() => b.choose('window:42:0')).toThrow(/no screen share/);
  });

  it('shares nothing when nobody answers within the time allowed, and forgets the request', async () => {
    const { b, timers } = broker();
    const picked = b.request(sources);
    expect(timers.pending()).toEqual([60_000]);
    timers.fireAll();
    expect(await picked).toBeNull();
    // A late answer is refused, and a new request can start.
    expect(() => b.choose('screen:0:0')).toThrow(/no screen share/);
    const again = b.request(sources);
    b.choose(null);
    expect(await again).toBeNull();
  });

  it('cancel shares nothing; a second request while one is open gets nothing', async () => {
    const { b, offered, timers } = broker();
    const first = b.request(sources);
    expect(await b.request(sources)).toBeNull();
    expect(offered).toHaveLength(1);
    b.cancel();
    expect(await first).toBeNull();
    expect(timers.pending()).toEqual([]);
    b.cancel(); // nothing open: nothing happens
  });

  it('shares nothing when no page listens, or nothing is offered', async () => {
    const unheard = broker(false);
    expect(await unheard.b.request(sources)).toBeNull();
    expect(unheard.timers.pending()).toEqual([]);
    const { b, offered } = broker();
    expect(await b.request([])).toBeNull();
    expect(offered).toEqual([]);
  });
});
