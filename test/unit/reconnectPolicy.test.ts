import { describe, expect, it } from 'vitest';
import { TERMINAL_CLOSE_CODES } from '../../shared/protocol/index.js';
import { ExponentialBackoffPolicy, type ReconnectContext } from '../../renderer/src/call/ReconnectPolicy.js';

/** mulberry32: a small seeded PRNG, so jitter tests are repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ExponentialBackoffPolicy', () => {
  const ctx = (attempt: number, over: Partial<ReconnectContext> = {}): ReconnectContext => ({ attempt, elapsedMs: 0, lastCloseCode: 1006, ...over });

  it('doubles the ceiling from 250 ms up to 5 s', () => {
    const top = new ExponentialBackoffPolicy({ random: () => 0.999999 });
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => top.nextDelayMs(ctx(n)))).toEqual([249, 499, 999, 1999, 3999, 4999, 4999]);
    expect(new ExponentialBackoffPolicy({ random: () => 0 }).nextDelayMs(ctx(7))).toBe(0);
  });

  it('spreads delays over the whole range with a seeded random', () => {
    const a = new ExponentialBackoffPolicy({ random: seeded(42) });
    const b = new ExponentialBackoffPolicy({ random: seeded(42) });
    const delays = Array.from({ length: 1000 }, () => a.nextDelayMs(ctx(3))!);
    expect(Array.from({ length: 1000 }, () => b.nextDelayMs(ctx(3)))).toEqual(delays);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(2000);
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(1900);
    const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
    expect(mean).toBeGreaterThan(900);
    expect(mean).toBeLessThan(1100);
  });

  it('retries after a server restart (1001, server-shutdown) and a session kicked for being slow, like any drop', () => {
    const policy = new ExponentialBackoffPolicy({ random: () => 0.5 });
    expect(TERMINAL_CLOSE_CODES).not.toContain(1001);
    expect([0, 1, 2].map((n) => policy.nextDelayMs(ctx(n, { lastCloseCode: 1001 })))).toEqual([125, 250, 500]);
    expect(policy.nextDelayMs(ctx(0, { lastCloseCode: 4430 }))).toBe(125);
  });

  it('after the server went away (1001: restart or drain) keeps trying about once a second for 30 s, then backs off as usual', () => {
    const top = new ExponentialBackoffPolicy({ random: () => 0.999999 });
    const planned = (n: number, elapsedMs: number) => top.nextDelayMs(ctx(n, { lastCloseCode: 1006, outageCloseCode: 1001, elapsedMs }));
    expect([0, 1, 2, 3, 8].map((n) => planned(n, 5_000))).toEqual([249, 499, 999, 999, 999]);
    expect(planned(8, 30_000)).toBe(4999);
    // A drop the server did not announce backs off to 5 s.
    expect(top.nextDelayMs(ctx(8, { lastCloseCode: 1006, outageCloseCode: 1006, elapsedMs: 5_000 }))).toBe(4999);
  });

  it('gives up after the maximum elapsed time', () => {
    const policy = new ExponentialBackoffPolicy({ random: seeded(1) });
    expect(policy.nextDelayMs(ctx(30, { elapsedMs: 299_999 }))).not.toBeNull();
    expect(policy.nextDelayMs(ctx(30, { elapsedMs: 300_000 }))).toBeNull();
    expect(new ExponentialBackoffPolicy({ maxElapsedMs: 1_000 }).nextDelayMs(ctx(1, { elapsedMs: 1_000 }))).toBeNull();
  });

  it('gives up at once on terminal close codes; a replayed token is not one (the next connect has a fresh one)', () => {
    const policy = new ExponentialBackoffPolicy({ random: seeded(2) });
    expect(TERMINAL_CLOSE_CODES).not.toContain(4409);
    for (const code of TERMINAL_CLOSE_CODES) {
      expect(policy.nextDelayMs(ctx(0, { lastCloseCode: code }))).toBeNull();
    }
    for (const code of [4409, 1006, 1001, 1011, 4429, 4430, null]) {
      expect(policy.nextDelayMs(ctx(0, { lastCloseCode: code }))).not.toBeNull();
    }
  });
});
