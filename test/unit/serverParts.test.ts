import { describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { KeyedRateLimiter, TokenBucket } from '../../server/src/rateLimit.js';
import { RoomTokenError, RoomTokens } from '../../server/src/RoomTokens.js';
import { MemoryReplayStore } from '../../server/src/replayStore.js';
import { RoomPolicy } from '../../server/src/RoomPolicy.js';
import { ConfigError, loadConfig, parseConfig } from '../../server/src/config.js';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../support/fakeClock.js';

const SECRET = 'r'.repeat(40);

const clock = () => new FakeClock(1_700_000_000_000);

describe('TokenBucket', () => {
  it('allows a burst, refuses beyond it, and refills at its rate', () => {
    const c = clock();
    const bucket = new TokenBucket(5, 2, c.now);
    for (let i = 0; i < 5; i++) expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    c.advance(499);
    expect(bucket.take()).toBe(false);
    c.advance(1);
    expect(bucket.take()).toBe(true);
    c.advance(60_000);
    for (let i = 0; i < 5; i++) expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it('keyed limiter isolates keys and forgets refilled buckets', () => {
    const c = clock();
    const limiter = new KeyedRateLimiter(2, 1, c.now);
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    expect(limiter.take('b')).toBe(true);
    limiter.sweep();
    expect(limiter.size).toBe(2);
    c.advance(2000);
    limiter.sweep();
    expect(limiter.size).toBe(0);
  });
});

describe('RoomTokens', () => {
  const input = { sub: 'u1', name: 'Alice', room: 'abc', sid: 'sid1', iceExp: 1 };

  it('issues an HS256 token that verifies and binds sub, room, session and a unique jti', async () => {
    const tokens = new RoomTokens(SECRET, 600);
    const a = await tokens.issue(input);
    const b = await tokens.issue(input);
    expect(decodeProtectedHeader(a.token).alg).toBe('HS256');
    expect(a.claims.jti).not.toBe(b.claims.jti);
    const claims = await tokens.verify(a.token);
    expect(claims).toEqual(a.claims);
    expect(decodeJwt(a.token).exp! - decodeJwt(a.token).iat!).toBe(600);
  });

  it('refuses an expired token', async () => {
    const c = clock();
    const tokens = new RoomTokens(SECRET, 300, c.now);
    const { token } = await tokens.issue(input);
    c.advance(301_000);
    await expect(tokens.verify(token)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('refuses a token signed with another key, a tampered one, and alg none', async () => {
    const tokens = new RoomTokens(SECRET, 300);
    const other = new RoomTokens('x'.repeat(40), 300);
    const { token } = await other.issue(input);
    await expect(tokens.verify(token)).rejects.toBeInstanceOf(RoomTokenError);
    const good = (await tokens.issue(input)).token;
    const [h, , s] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(good), room: 'other' })).toString('base64url');
    await expect(tokens.verify(`${h}.${forgedPayload}.${s}`)).rejects.toMatchObject({ reason: 'invalid' });
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(decodeJwt(good))).toString('base64url')}.`;
    await expect(tokens.verify(none)).rejects.toMatchObject({ reason: 'invalid' });
  });

  it('refuses a validly signed token missing its claims', async () => {
    const tokens = new RoomTokens(SECRET, 300);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('zerorange-signaling')
      .setAudience('zerorange-room')
      .setSubject('u')
      .setJti('j')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    await expect(tokens.verify(jwt)).rejects.toMatchObject({ reason: 'invalid' });
  });
});

describe('MemoryReplayStore', () => {
  it('accepts a jti once and forgets it after expiry', () => {
    const c = clock();
    const guard = new MemoryReplayStore(c.now);
    const exp = Math.floor(c.now() / 1000) + 10;
    expect(guard.claim('j1', exp)).toBe(true);
    expect(guard.claim('j1', exp)).toBe(false);
    expect(guard.claim('j2', exp)).toBe(true);
    c.advance(11_000);
    expect(guard.claim('j3', exp + 100)).toBe(true);
    expect(guard.size).toBe(1);
  });
});

describe('RoomPolicy', () => {
  const policy = new RoomPolicy([
    { rooms: 'ops-*', allow: { users: [], groups: ['ops'], emailDomains: [] } },
    { rooms: 'board', allow: { users: ['carol@example.test', 'u-dave'], groups: [], emailDomains: ['example.org'] } },
  ]);
  const who = (sub: string, email: string | undefined, groups: string[] = []) => ({ sub, name: sub, groups, ...(email ? { email } : {}) });

  it('leaves rooms no rule matches open to any signed-in user', () => {
    expect(policy.decide('lunch', who('u1', undefined))).toEqual({ allowed: true, rule: null });
  });
  it('restricts a pattern to a group', () => {
    expect(policy.decide('ops-night', who('u1', undefined, ['ops'])).allowed).toBe(true);
    expect(policy.decide('ops-night', who('u1', undefined, ['staff']))).toEqual({ allowed: false, rule: 'ops-*' });
    expect(policy.decide('xops-night', who('u1', undefined)).allowed).toBe(true);
  });
  it('restricts a room to users (by sub or email) and email domains', () => {
    expect(policy.decide('board', who('u-dave', undefined)).allowed).toBe(true);
    expect(policy.decide('board', who('u-carol', 'Carol@Example.test')).allowed).toBe(true);
    expect(policy.decide('board', who('u-x', 'x@example.org')).allowed).toBe(true);
    expect(policy.decide('board', who('u-x', 'x@evil-example.org')).allowed).toBe(false);
    expect(policy.decide('board', who('u-x', 'x@example.org.evil')).allowed).toBe(false);
  });
});

describe('config', () => {
  const base = {
    publicUrl: 'https://signal.example.com',
    idp: { issuer: 'https://id.example.com', audience: 'zr', clientId: 'desktop' },
    roomToken: { secret: SECRET },
    turn: { secrets: ['t'.repeat(40)], host: 'turn.example.com' },
  };

  it('fills defaults', () => {
    const c = parseConfig(base);
    expect(c.roomToken.ttlSeconds).toBe(600);
    expect(c.turn.ttlSeconds).toBe(900);
    expect(c.turn.turnsPort).toBe(443);
    expect(c.rooms.maxPeers).toBe(4);
    expect(c.limits.maxMessageBytes).toBe(65536);
  });

  it('names every bad setting', () => {
    try {
      parseConfig({
        ...base,
        idp: { ...base.idp, algorithms: ['HS256'] },
        roomToken: { secret: 'short', ttlSeconds: 3600 },
        turn: { ...base.turn, ttlSeconds: 60 },
        bogus: 1,
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).message;
      expect(text).toMatch(/idp\.algorithms\.0/);
      expect(text).toMatch(/roomToken\.secret: must be at least 32/);
      expect(text).toMatch(/roomToken\.ttlSeconds/);
      expect(text).toMatch(/turn\.ttlSeconds/);
      expect(text).toMatch(/bogus/);
    }
  });

  it('requires publicUrl outside development, naming the setting', () => {
    const { publicUrl: _p, ...rest } = base;
    expect(() => parseConfig(rest)).toThrow(/publicUrl: is required/);
    expect(parseConfig({ ...rest, development: true }).publicUrl).toBeUndefined();
    expect(() => parseConfig({ ...base, publicUrl: 'ftp://signal.example.com' })).toThrow(/publicUrl: must be an http\(s\) URL/);
  });

  it('serves metrics on loopback by default and enforces the documented HTTP timeouts', () => {
    const c = parseConfig(base);
    expect(c.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(c.limits).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, connectionsCheckIntervalMs: 1000, httpConnectionsPerIp: 64 });
    expect(() => parseConfig({ ...base, limits: { headersTimeoutMs: 20_000 } })).toThrow(/limits\.headersTimeoutMs: must not exceed/);
  });

  it('refuses alg none for IdP tokens', () => {
    expect(() => parseConfig({ ...base, idp: { ...base.idp, algorithms: ['none'] } })).toThrow(/idp\.algorithms/);
  });

  it('reads secrets from the environment, newest TURN secret first', () => {
    const { roomToken: _r, turn, ...rest } = base;
    const file = join(tmpdir(), `zr-config-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ ...rest, turn: { host: turn.host } }));
    try {
      const c = loadConfig({ ZR_ROOM_TOKEN_SECRET: SECRET, ZR_TURN_SECRETS: `${'n'.repeat(32)}, ${'o'.repeat(32)}`, ZR_PORT: '9000' }, file);
      expect(c.turn.secrets).toEqual(['n'.repeat(32), 'o'.repeat(32)]);
      expect(c.listen.port).toBe(9000);
    } finally {
      rmSync(file);
    }
  });
});
