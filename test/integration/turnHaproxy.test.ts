/**
 * deploy/haproxy/turn.cfg as shipped (its addresses swapped for loopback ones) in front of two real
 * coturn instances: TURN over TCP and over TLS (passed through to coturn) allocates through it,
 * connections are spread over both instances, and with one instance stopped every allocation lands
 * on the other. Each instance relays from a port range of its own, which tells them apart.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/coturn.js';
import { hasCoturn } from '../support/coturn.js';
import { haproxyPath, startHaproxy, type HaproxyProcess } from '../support/haproxy.js';
import { hasRedis } from '../support/redis.js';
import { TurnClient, type TurnConnectOptions } from '../support/stunClient.js';
import { credentialFor, newSecret, startTurnPool, type TurnPoolHarness } from '../support/turnPool.js';

const present = hasCoturn() && hasRedis() && haproxyPath() !== null;
if (!present) console.warn('turnHaproxy.test.ts: skipped: needs `turnserver` (coturn), `redis-server` and `haproxy`');

const SHIPPED = readFileSync(new URL('../../deploy/haproxy/turn.cfg', import.meta.url), 'utf8');

/** The shipped file with its binds and servers on loopback: only addresses change. */
function onLoopback(h: TurnPoolHarness, front: { tcp: number; tls: number }): string {
  let backend = '';
  return SHIPPED.split('\n')
    .map((line) => {
      backend = /^backend (\S+)/.exec(line)?.[1] ?? backend;
      const bind = /^(\s+bind )\S+:(3478|443)$/.exec(line);
      if (bind) return `${bind[1]}127.0.0.1:${bind[2] === '443' ? front.tls : front.tcp}`;
      const server = /^(\s+server (\S+) )\S+(.*)$/.exec(line);
      if (!server) return line;
      const x = h.instances.find((i) => i.id === server[2])!;
      return `${server[1]}127.0.0.1:${backend === 'coturn_tls' ? x.tlsPort : x.turnPort}${server[3]}`;
    })
    .join('\n');
}

describe.skipIf(!present)('HAProxy in TCP mode in front of the coturn pool', () => {
  const SECRET = newSecret();
  let h: TurnPoolHarness;
  let haproxy: HaproxyProcess | undefined;
  let front: { tcp: number; tls: number };
  const clients: TurnClient[] = [];

  beforeAll(async () => {
    h = await startTurnPool({ ids: ['turn-a', 'turn-b'], secrets: [SECRET] });
    const tcp = await freePort();
    front = { tcp, tls: await freePort('127.0.0.1', [tcp]) };
    const config = onLoopback(h, front);
    expect(config).not.toMatch(/10\.0\.0\.|203\.0\.113\./);
    haproxy = await startHaproxy(['global\n    log stdout format raw local0\n', config], [
      { host: '127.0.0.1', port: front.tcp },
      { host: '127.0.0.1', port: front.tls },
    ]);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await haproxy?.stop();
    await h?.stop();
  });

  /** Holds an allocation made through HAProxy; says which instance relays it (by its relay range). */
  async function allocateThrough(transport: 'tcp' | 'tls'): Promise<string> {
    const opts: TurnConnectOptions = {
      transport,
      host: '127.0.0.1',
      port: transport === 'tls' ? front.tls : front.tcp,
      timeoutMs: 3_000,
      ...(transport === 'tls' ? { ca: h.ca, servername: 'localhost' } : {}),
    };
    const { client, result } = await TurnClient.connectAndAllocate(opts, credentialFor(SECRET));
    clients.push(client);
    if (!result.ok) throw new Error(`allocation through haproxy refused: ${result.code} ${result.reason}`);
    const instance = h.instances.find((x) => result.relayed.port >= x.minPort && result.relayed.port < x.minPort + 1000);
    return instance?.id ?? `unknown relay port ${result.relayed.port}`;
  }

  it.each(['tcp', 'tls'] as const)('allocates over %s through it, spreading connections over both instances', async (transport) => {
    const relays = [];
    for (let i = 0; i < 4; i++) relays.push(await allocateThrough(transport));
    expect(relays.sort()).toEqual(['turn-a', 'turn-a', 'turn-b', 'turn-b']);
  });

  it('sends every connection to the instance left when one stops, and its STUN health check marks it down', async () => {
    await h.stopInstance('turn-b');
    try {
      for (const transport of ['tcp', 'tls', 'tcp', 'tls'] as const) expect(await allocateThrough(transport)).toBe('turn-a');
      // The checks send a STUN Binding: the stopped instance fails them, the running one passes.
      await expect.poll(() => (haproxy!.output().match(/Server coturn_(tcp|tls)\/turn-b is DOWN/g) ?? []).length, { timeout: 15_000 }).toBe(2);
      expect(haproxy!.output()).not.toMatch(/turn-a is DOWN/);
    } finally {
      await h.start('turn-b', [SECRET]);
    }
    await expect.poll(() => (haproxy!.output().match(/Server coturn_(tcp|tls)\/turn-b is UP/g) ?? []).length, { timeout: 15_000 }).toBe(2);
  });
});
