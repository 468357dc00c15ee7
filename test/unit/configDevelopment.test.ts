import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../server/src/config.js';

describe('config: development-only bounds', () => {
  const base = {
    publicUrl: 'https://signal.example.com',
    idp: { issuer: 'https://id.example.com', audience: 'zr', clientId: 'desktop' },
    roomToken: { secret: 'r'.repeat(40) },
    turn: { secrets: ['t'.repeat(40)], host: 'turn.example.com' },
  };

  it('refuses TURN credentials shorter than 600 s outside development, naming the setting', () => {
    expect(() => parseConfig({ ...base, turn: { ...base.turn, ttlSeconds: 45, refreshBeforeSeconds: 30 } })).toThrow(
      /turn\.ttlSeconds: must be at least 600 \(only a development server/,
    );
    expect(parseConfig({ ...base, turn: { ...base.turn, ttlSeconds: 600 } }).turn.ttlSeconds).toBe(600);
  });

  it('lets a development server use short TURN credentials, still refreshed before they expire', () => {
    const c = parseConfig({ ...base, development: true, turn: { ...base.turn, ttlSeconds: 45, refreshBeforeSeconds: 30 } });
    expect(c.turn.ttlSeconds).toBe(45);
    expect(c.development).toBe(true);
    expect(() => parseConfig({ ...base, development: true, turn: { ...base.turn, ttlSeconds: 45 } })).toThrow(/refreshBeforeSeconds/);
    expect(() => parseConfig({ ...base, development: true, turn: { ...base.turn, ttlSeconds: 39, refreshBeforeSeconds: 30 } })).toThrow(/turn\.ttlSeconds/);
  });

  it('is off unless set', () => {
    expect(parseConfig(base).development).toBe(false);
  });
});
