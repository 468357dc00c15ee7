import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ServerConfigInput } from '../../server/src/config.js';
import { SenderLimits } from '../../server/src/hubLimits.js';
import { FakeClock } from '../support/fakeClock.js';

const base = {
  publicUrl: 'https://signal.example.com',
  idp: { issuer: 'https://id.example.com', audience: 'zr', clientId: 'zr-desktop' },
  roomToken: { secret: 'r'.repeat(40) },
  turn: { secrets: ['t'.repeat(40)], host: 'turn.example.com' },
};
const config = (limits: ServerConfigInput['limits'] = {}) => parseConfig({ ...base, limits });

const clock = () => new FakeClock(1_700_000_000_000);

describe('SenderLimits', () => {
  it('gives each user a byte budget for relays: the burst, then the rate', () => {
    const c = clock();
    const limits = new SenderLimits(config({ relayByteBurst: 100_000, relayBytesPerSecond: 10_000, maxMessageBytes: 50_000 }).limits, c.now);
    expect(limits.mayRelay('alice', 60_000)).toBe(true);
    expect(limits.mayRelay('alice', 60_000)).toBe(false);
    expect(limits.mayRelay('alice', 40_000)).toBe(true);
    expect(limits.mayRelay('alice', 1000)).toBe(false);
    // Another user has a budget of their own.
    expect(limits.mayRelay('bob', 60_000)).toBe(true);
    c.advance(2000);
    expect(limits.mayRelay('alice', 20_000)).toBe(true);
    expect(limits.mayRelay('alice', 1000)).toBe(false);
  });

  it('still counts messages: many small relays hit the per-user message limit', () => {
    const c = clock();
    const limits = new SenderLimits(config({ userMessageBurst: 5, userMessagesPerSecond: 1 }).limits, c.now);
    for (let i = 0; i < 5; i++) expect(limits.mayRelay('alice', 10)).toBe(true);
    expect(limits.mayRelay('alice', 10)).toBe(false);
  });

  it('defaults: a join into a full room of 16 passes, 9 MB of 60 KB messages does not', () => {
    const c = clock();
    const limits = new SenderLimits(config().limits, c.now);
    // 15 offers of 8 KB with 10 candidates each, as JSON frames.
    for (let peer = 0; peer < 15; peer++) {
      expect(limits.mayRelay('joiner', 8300)).toBe(true);
      for (let k = 0; k < 10; k++) expect(limits.mayRelay('joiner', 300)).toBe(true);
    }
    let passed = 0;
    for (let i = 0; i < 150; i++) if (limits.mayRelay('flooder', 60_000)) passed++;
    expect(passed * 60_000).toBeLessThan(config().limits.sendQueueBytes);
  });
});

describe('relay byte budget settings', () => {
  it('refuse a burst below the message size or not below the send queue, naming the setting', () => {
    expect(() => config({ relayByteBurst: 32 * 1024 })).toThrow(/limits\.relayByteBurst: relayByteBurst must be at least maxMessageBytes/);
    expect(() => config({ sendQueueBytes: 256 * 1024 })).toThrow(ConfigError);
    expect(() => config({ sendQueueBytes: 256 * 1024 })).toThrow(/limits\.relayByteBurst: .*less than sendQueueBytes/);
    expect(config({ sendQueueBytes: 256 * 1024, relayByteBurst: 128 * 1024 }).limits.relayByteBurst).toBe(128 * 1024);
  });
});
