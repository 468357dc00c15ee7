/**
 * The TURN pool's configuration, rendering per instance and selection, with probes and load
 * figures supplied by the test (the real probes against coturn are in
 * test/integration/turnPool.test.ts).
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../server/src/config.js';
import { renderCoturnConfig } from '../../server/src/coturnConfig.js';
import { createMetrics } from '../../server/src/metrics.js';
import { buildIceServers, createTurnCredential } from '../../server/src/turn.js';
import { TurnPool, turnServersOf, type TurnServerSpec } from '../../server/src/turnPool/index.js';
import type { ProbeTransport } from '../../server/src/turnPool/probe.js';

const base = {
  publicUrl: 'https://signal.example.test',
  idp: { issuer: 'https://id.example.test', audience: 'zr', clientId: 'desktop' },
  roomToken: { secret: 'r'.repeat(32) },
};
const SERVERS = [
  { id: 'turn-a', host: 'turn-a.example.test', statsDb: 1, listeningIps: ['10.0.0.1'], relayIps: ['10.0.0.1'], externalIps: ['203.0.113.1/10.0.0.1'] },
  { id: 'turn-b', host: 'turn-b.example.test', statsDb: 2, turnPort: 3479, turnsPort: 5349, tlsHost: 'turns-b.example.test' },
];
const poolConfig = (turn: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  parseConfig({
    ...base,
    cluster: { redis: { url: 'redis://10.0.0.9:6379', password: 'redis-pass' } },
    turn: { secrets: ['n'.repeat(32), 'o'.repeat(32)], servers: SERVERS, ...turn },
    ...extra,
  });
const tls = { certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem' };

describe('turn.servers configuration', () => {
  it('takes either one host or a list of servers, each with the section ports by default', () => {
    const servers = turnServersOf(poolConfig().turn);
    expect(servers.map((s) => [s.id, s.host, s.turnPort, s.turnsPort, s.tlsHost, s.statsDb])).toEqual([
      ['turn-a', 'turn-a.example.test', 3478, 443, undefined, 1],
      ['turn-b', 'turn-b.example.test', 3479, 5349, 'turns-b.example.test', 2],
    ]);
    const single = parseConfig({ ...base, turn: { secrets: ['n'.repeat(32)], host: 'turn.example.test' } });
    expect(turnServersOf(single.turn)).toMatchObject([{ id: 'turn', host: 'turn.example.test', turnPort: 3478, turnsPort: 443 }]);
  });

  it('refuses both forms, neither, a repeated id or statistics database, and a probe timeout past the interval', () => {
    const secrets = ['n'.repeat(32)];
    expect(() => parseConfig({ ...base, turn: { secrets, host: 'a', servers: SERVERS } })).toThrow(/turn\.host: set either turn\.host .* or turn\.servers/);
    expect(() => parseConfig({ ...base, turn: { secrets } })).toThrow(/turn\.host: set either/);
    expect(() => poolConfig({ servers: [SERVERS[0], { ...SERVERS[1], id: 'turn-a' }] })).toThrow(/turn\.servers\.1\.id: turn-a is listed twice/);
    expect(() => poolConfig({ servers: [SERVERS[0], { ...SERVERS[1], statsDb: 1 }] })).toThrow(/turn\.servers\.1\.statsDb: database 1 is another server's/);
    expect(() => poolConfig({ pool: { probeIntervalMs: 2_000, probeTimeoutMs: 2_000 } })).toThrow(/turn\.pool\.probeTimeoutMs: must be less than probeIntervalMs/);
    expect(() => poolConfig({ servers: [{ ...SERVERS[0], statsDb: 16 }] })).toThrow(/turn\.servers\.0\.statsDb/);
    expect(() => parseConfig({ ...base, turn: { secrets, servers: SERVERS } })).toThrow(/turn\.servers\.0\.statsDb: needs cluster\.redis/);
    expect(() => poolConfig({}, { cluster: { redis: { url: 'redis://10.0.0.9:6379/2' } } })).toThrow(/turn\.servers\.1\.statsDb: is the signaling nodes' own database/);
  });
});

describe('coturn configuration per pool instance', () => {
  it('renders each instance with its own ports, addresses and statistics database, and the shared secrets', () => {
    const config = poolConfig();
    const a = renderCoturnConfig(config, { ...tls, server: 'turn-a', listeningIps: ['10.0.0.2'] }).split('\n');
    const b = renderCoturnConfig(config, { ...tls, server: 'turn-b' }).split('\n');
    expect(a).toEqual(expect.arrayContaining(['listening-port=3478', 'tls-listening-port=443', 'listening-ip=10.0.0.1', 'listening-ip=10.0.0.2', 'relay-ip=10.0.0.1', 'external-ip=203.0.113.1/10.0.0.1']));
    expect(a).toContain('redis-statsdb="ip=10.0.0.9 port=6379 dbname=1 password=redis-pass connect_timeout=5"');
    expect(b).toEqual(expect.arrayContaining(['listening-port=3479', 'tls-listening-port=5349', 'redis-statsdb="ip=10.0.0.9 port=6379 dbname=2 password=redis-pass connect_timeout=5"']));
    expect(b.some((l) => l.startsWith('listening-ip='))).toBe(false);
    for (const text of [a, b]) expect(text.filter((l) => l.startsWith('static-auth-secret='))).toHaveLength(2);
  });

  it('asks which instance, and refuses a statistics database coturn cannot reach', () => {
    expect(() => renderCoturnConfig(poolConfig(), tls)).toThrow(/choose the instance with --server \(turn-a, turn-b\)/);
    expect(() => renderCoturnConfig(poolConfig(), { ...tls, server: 'turn-c' })).toThrow(/--server turn-c: not in turn\.servers/);
    const tlsRedis = poolConfig({}, { cluster: { redis: { url: 'rediss://redis.internal:6380', password: 'p' } } });
    expect(() => renderCoturnConfig(tlsRedis, { ...tls, server: 'turn-a' })).toThrow(/cannot reach Redis over TLS/);
    const single = parseConfig({ ...base, turn: { secrets: ['n'.repeat(32)], host: 'turn.example.test' } });
    expect(() => renderCoturnConfig(single, { ...tls, server: 'turn-a' })).toThrow(/has no turn\.servers/);
    expect(renderCoturnConfig(single, tls)).not.toContain('redis-statsdb');
  });
});

describe('a draining instance', () => {
  const servers = [
    { id: 'turn-a', host: '198.51.100.1', statsDb: 1 },
    { id: 'turn-b', host: '198.51.100.2', statsDb: 2, turnPort: 3479, turnsPort: 5349 },
    { id: 'turn-c', host: 'turn-c.example.test', statsDb: 3 },
    { id: 'turn-d', host: '198.51.100.4', statsDb: 4, drain: true, turnsPort: 0 },
  ];

  it('redirects new allocations to the other serving instances that have an address', () => {
    const config = poolConfig({ servers: [{ ...servers[0], drain: true }, ...servers.slice(1)] });
    const text = renderCoturnConfig(config, { ...tls, server: 'turn-a', alternateServers: ['198.51.100.3:3478'], tlsAlternateServers: ['198.51.100.3:443'] }).split('\n');
    expect(text.filter((l) => l.includes('alternate-server'))).toEqual([
      'alternate-server=198.51.100.2:3479',
      'alternate-server=198.51.100.3:3478',
      'tls-alternate-server=198.51.100.2:5349',
      'tls-alternate-server=198.51.100.3:443',
    ]);
    // Serving instances redirect nothing.
    expect(renderCoturnConfig(config, { ...tls, server: 'turn-b' })).not.toContain('alternate-server');
  });

  it('says what to give when no other instance has an address, and refuses what is not IP:PORT', () => {
    const config = poolConfig({ servers: [{ ...servers[2], drain: true }, { ...servers[0], host: 'turn-a.example.test' }] });
    expect(() => renderCoturnConfig(config, { ...tls, server: 'turn-c' })).toThrow(/turn-c is draining, .* give --alternate-server IP:PORT .* for turn-a/);
    expect(() => renderCoturnConfig(config, { ...tls, server: 'turn-c', alternateServers: ['turn-a.example.test:3478'] })).toThrow(/alternate-server: "turn-a\.example\.test:3478" is not an IP:PORT/);
    expect(renderCoturnConfig(config, { ...tls, server: 'turn-c', alternateServers: ['[2001:db8::1]:3478'] })).toContain('alternate-server=[2001:db8::1]:3478');
  });
});

describe('buildIceServers for several instances', () => {
  it('gives STUN of the first and TURN of each, in order, with one credential', () => {
    const credential = createTurnCredential({ secret: 's'.repeat(32), id: 'sid', ttlSeconds: 600, now: new Date(0) });
    const servers = buildIceServers(turnServersOf(poolConfig().turn), credential);
    expect(servers).toEqual([
      { urls: 'stun:turn-a.example.test:3478' },
      {
        urls: ['turn:turn-a.example.test:3478?transport=udp', 'turn:turn-a.example.test:3478?transport=tcp', 'turns:turn-a.example.test:443?transport=tcp'],
        username: credential.username,
        credential: credential.credential,
      },
      {
        urls: ['turn:turn-b.example.test:3479?transport=udp', 'turn:turn-b.example.test:3479?transport=tcp', 'turns:turns-b.example.test:5349?transport=tcp'],
        username: credential.username,
        credential: credential.credential,
      },
    ]);
    expect(() => buildIceServers([], credential)).toThrow(/at least one/);
  });
});

/** Probes answered by the test: per server, a latency or a failure. */
class FakeProbes {
  readonly answers = new Map<string, number | Error>();
  readonly calls: Array<[string, ProbeTransport]> = [];
  probe = (spec: TurnServerSpec, transport: ProbeTransport): Promise<number> => {
    this.calls.push([spec.id, transport]);
    const a = this.answers.get(spec.id) ?? 1;
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
}

describe('TurnPool', () => {
  const pools: TurnPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.stop()));
  });

  function makePool(servers: Array<Partial<TurnServerSpec> & { id: string }>, opts: { perJoin?: number; loads?: Map<number, number>; intervalMs?: number } = {}) {
    const probes = new FakeProbes();
    const metrics = createMetrics();
    const pool = new TurnPool({
      servers: servers.map((s) => ({ host: `${s.id}.test`, probeHost: `${s.id}.test`, stunPort: 3478, turnPort: 3478, turnsPort: 443, drain: false, ...s })),
      probeIntervalMs: opts.intervalMs ?? 60_000,
      perJoin: opts.perJoin ?? 2,
      metrics,
      log: pino({ level: 'silent' }),
      probe: probes.probe,
      ...(opts.loads ? { countAllocations: (db: number) => Promise.resolve(opts.loads!.get(db) ?? 0) } : {}),
    });
    pools.push(pool);
    const ids = (trigger: 'join' | 'refresh' = 'join') => pool.select(trigger).map((s) => s.id);
    const settled = () => expect.poll(() => pool.snapshot().every((s) => s.health !== 'unknown')).toBe(true);
    return { pool, probes, metrics, ids, settled };
  }

  it('probes every transport of every instance, and exports result and latency', async () => {
    const { pool, probes, metrics, settled } = makePool([{ id: 'a' }, { id: 'b', turnsPort: 0 }]);
    probes.answers.set('a', 3).set('b', new Error('udp://b.test: Allocate answered 401 Unauthorized'));
    pool.start();
    await settled();
    expect(probes.calls.sort()).toEqual([['a', 'tcp'], ['a', 'tls'], ['a', 'udp'], ['b', 'tcp'], ['b', 'udp']]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('zerorange_turn_server_up{server="a"} 1');
    expect(text).toContain('zerorange_turn_server_up{server="b"} 0');
    expect(text).toContain('zerorange_turn_probes_total{server="b",transport="udp",result="fail"} 1');
    expect(text).toContain('zerorange_turn_probe_seconds_count{server="a",transport="tls"} 1');
    expect(pool.snapshot().find((s) => s.spec.id === 'b')?.lastError).toMatch(/401/);
  });

  it('ranks healthy instances by latency without load figures, and hands out perJoin of them', async () => {
    const { pool, probes, ids, settled } = makePool([{ id: 'slow' }, { id: 'fast' }, { id: 'mid' }]);
    probes.answers.set('slow', 40).set('fast', 2).set('mid', 12);
    pool.start();
    await settled();
    expect(ids()).toEqual(['fast', 'mid']);
  });

  it('ranks by allocations where coturn reports them, spreading a burst of joins between reads', async () => {
    const loads = new Map([[1, 10], [2, 4]]);
    const { pool, probes, ids, settled } = makePool([{ id: 'a', statsDb: 1 }, { id: 'b', statsDb: 2 }], { loads, perJoin: 1 });
    probes.answers.set('a', 1).set('b', 30);
    pool.start();
    await settled();
    await expect.poll(() => pool.snapshot().map((s) => s.allocations)).toEqual([10, 4]);
    // b has 4 allocations and a 10: the first 6 joins go to b, then they alternate.
    const firsts = Array.from({ length: 10 }, () => ids()[0]);
    expect(firsts.slice(0, 6)).toEqual(Array(6).fill('b'));
    expect(firsts.slice(6).sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('takes an instance out of new joins on its first failed probe and back once a round passes', async () => {
    const { pool, probes, ids, settled } = makePool([{ id: 'a' }, { id: 'b' }], { intervalMs: 1_000 });
    const changes: string[] = [];
    pool.onChange((s) => changes.push(`${s.spec.id} ${s.health}`));
    probes.answers.set('a', 1).set('b', 5);
    pool.start();
    await settled();
    expect(ids()).toEqual(['a', 'b']);
    probes.answers.set('a', new Error('connect udp://a.test: ECONNREFUSED'));
    await expect.poll(() => ids(), { timeout: 3_000 }).toEqual(['b']);
    probes.answers.set('a', 1);
    await expect.poll(() => ids(), { timeout: 3_000 }).toEqual(['a', 'b']);
    // Each transition once, though every transport's probe reports it.
    expect(changes.sort()).toEqual(['a down', 'a up', 'a up', 'b up']);
  });

  it('never hands out a draining instance, offers unprobed ones after healthy ones, and every one when none is healthy', async () => {
    const { pool, probes, ids, settled } = makePool([{ id: 'a', drain: true }, { id: 'b' }, { id: 'c' }], { perJoin: 3 });
    expect(ids('refresh')).toEqual(['b', 'c']); // nothing probed yet: offered in configured order
    probes.answers.set('b', new Error('down')).set('c', new Error('down'));
    pool.start();
    await settled();
    expect(ids('refresh')).toEqual(['b', 'c']);
    expect(pool.snapshot().map((s) => s.health)).toEqual(['up', 'down', 'down']);
  });

  it('does not count refreshes as joins', async () => {
    const { pool, metrics, ids } = makePool([{ id: 'a' }]);
    ids('refresh');
    ids('join');
    expect(pool.snapshot()[0]?.assignedSince).toBe(1);
    expect(await metrics.registry.metrics()).toContain('zerorange_turn_joins_assigned_total{server="a"} 1');
  });
});
