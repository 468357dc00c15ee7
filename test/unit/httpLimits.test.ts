import { describe, expect, it } from 'vitest';
import { windowOf } from '../../server/src/cluster/limitRedis.js';
import { createHttpLimits, refusedBy } from '../../server/src/cluster/limits.js';
import { parseConfig } from '../../server/src/config.js';
import { FakeClock } from '../support/fakeClock.js';

const base = {
  development: true,
  idp: { issuer: 'https://idp.example', audience: 'a', clientId: 'c' },
  roomToken: { secret: 'r'.repeat(40) },
  turn: { secrets: ['t'.repeat(32)], host: 'turn.example' },
};

describe('HTTP limits', () => {
  it('turns a burst and a rate into a window with the same sustained rate', () => {
    expect(windowOf({ name: 'join:user', burst: 10, perMinute: 30 })).toEqual({ points: 10, duration: 20 });
    expect(windowOf({ name: 'network-check:user', burst: 5, perMinute: 6 })).toEqual({ points: 5, duration: 50 });
    expect(windowOf({ name: 'fast', burst: 1, perMinute: 600 })).toEqual({ points: 1, duration: 1 });
  });

  it('per-address limits default to the larger of their own default and the per-user value, and are never below it', () => {
    expect(parseConfig(base).limits).toMatchObject({ ipJoinsPerMinute: 120, ipJoinBurst: 60, ipNetworkChecksPerMinute: 30, ipNetworkCheckBurst: 20 });
    expect(parseConfig({ ...base, limits: { joinBurst: 500 } }).limits.ipJoinBurst).toBe(500);
    expect(parseConfig({ ...base, limits: { ipJoinBurst: 12 } }).limits.ipJoinBurst).toBe(12);
    expect(() => parseConfig({ ...base, limits: { ipJoinBurst: 5 } })).toThrow(/limits.ipJoinBurst: must be at least limits.joinBurst/);
  });

  it('in memory: refuses by user or by address, and refills', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const limits = createHttpLimits(parseConfig({ ...base, limits: { joinBurst: 2, joinsPerMinute: 60, ipJoinBurst: 3, ipJoinsPerMinute: 60 } }).limits, clock.now);
    expect(await refusedBy(limits.join, 'alice', '10.0.0.1')).toBeNull();
    expect(await refusedBy(limits.join, 'alice', '10.0.0.1')).toBeNull();
    expect(await refusedBy(limits.join, 'alice', '10.0.0.1')).toBe('user');
    expect(await refusedBy(limits.join, 'bob', '10.0.0.1')).toBe('ip');
    expect(await refusedBy(limits.join, 'bob', '10.0.0.2')).toBeNull();
    clock.advance(1_000);
    expect(await refusedBy(limits.join, 'alice', '10.0.0.3')).toBeNull();
  });
});
