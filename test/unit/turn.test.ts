import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { IceServers } from '../../shared/protocol/index.js';
import { buildIceServers, createTurnCredential, turnPassword } from '../../server/src/turn.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const opensslPresent = hasOpenssl();
if (!opensslPresent) console.warn('turn.test.ts: skipping the openssl HMAC vector: `openssl` is not on PATH');

describe('turnPassword', () => {
  it('matches a published HMAC-SHA1 test vector', () => {
    // HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog") = de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9
    expect(turnPassword('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      Buffer.from('de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9', 'hex').toString('base64'),
    );
  });

  it.skipIf(!opensslPresent)('matches `openssl dgst -sha1 -hmac <secret> -binary | base64`', () => {
    const cases = [
      { secret: 'north-wind-2026', username: '1767225600:user-42' },
      { secret: 's3cr3t with spaces & símbolos', username: '4102444800:a.b@example.org' },
      { secret: 'x'.repeat(100), username: '1:' },
    ];
    for (const { secret, username } of cases) {
      // Two processes with the input piped, no shell: the same as the shell pipeline above.
      const mac = execFileSync('openssl', ['dgst', '-sha1', '-hmac', secret, '-binary'], { input: username });
      const b64 = execFileSync('base64', { input: mac }).toString('utf8').trim();
      expect(mac).toHaveLength(20);
      expect(turnPassword(secret, username)).toBe(b64);
    }
  });
});

describe('createTurnCredential', () => {
  it('uses <expiry-unix>:<id> as username and signs it', () => {
    const now = new Date('2026-01-01T00:00:00.500Z');
    const c = createTurnCredential({ secret: 'sek', id: 'alice', ttlSeconds: 3600, now });
    const expiry = Math.floor(now.getTime() / 1000) + 3600;
    expect(c.username).toBe(`${expiry}:alice`);
    expect(c.credential).toBe(turnPassword('sek', c.username));
    expect(c.expiresAt.toISOString()).toBe('2026-01-01T01:00:00.000Z');
  });

  it('puts a negative ttl in the past (the expired credential the integration test sends)', () => {
    const c = createTurnCredential({ secret: 'sek', id: 'bob', ttlSeconds: -60 });
    expect(c.expiresAt.getTime()).toBeLessThan(Date.now());
  });
});

describe('buildIceServers', () => {
  const credential = createTurnCredential({ secret: 'sek', id: 'u', ttlSeconds: 600, now: new Date(0) });

  it('lists STUN, TURN over UDP and TCP on 3478, and TURN over TLS on 443', () => {
    const servers = buildIceServers({ host: 'turn.example.org', stunPort: 3478, turnPort: 3478, turnsPort: 443 }, credential);
    expect(servers).toEqual([
      { urls: 'stun:turn.example.org:3478' },
      {
        urls: [
          'turn:turn.example.org:3478?transport=udp',
          'turn:turn.example.org:3478?transport=tcp',
          'turns:turn.example.org:443?transport=tcp',
        ],
        username: '600:u',
        credential: credential.credential,
      },
    ]);
    expect(() => IceServers.parse(servers)).not.toThrow();
  });

  it('brackets IPv6 hosts and uses tlsHost for turns:', () => {
    const servers = buildIceServers(
      { host: '2001:db8::7', stunPort: 3478, turnPort: 3478, turnsPort: 443, tlsHost: 'turn.example.org' },
      credential,
    );
    expect(servers[0]).toEqual({ urls: 'stun:[2001:db8::7]:3478' });
    expect(servers[1]?.urls).toEqual([
      'turn:[2001:db8::7]:3478?transport=udp',
      'turn:[2001:db8::7]:3478?transport=tcp',
      'turns:turn.example.org:443?transport=tcp',
    ]);
    const v6tls = buildIceServers({ host: '::1', stunPort: 3478, turnPort: 3478, turnsPort: 5349 }, credential);
    expect(v6tls[1]?.urls).toContain('turns:[::1]:5349?transport=tcp');
    expect(() => IceServers.parse(servers)).not.toThrow();
  });

  it('leaves turns: out when turnsPort is 0', () => {
    const servers = buildIceServers({ host: '192.0.2.10', stunPort: 3478, turnPort: 3478, turnsPort: 0 }, credential);
    expect(servers[1]?.urls).toEqual(['turn:192.0.2.10:3478?transport=udp', 'turn:192.0.2.10:3478?transport=tcp']);
  });
});
