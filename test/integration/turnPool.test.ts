/**
 * The TURN pool against two real coturn instances (rendered from the production template per
 * instance) and a real Redis holding their redis-statsdb accounting, all on loopback: probes over
 * UDP, TCP and TLS, load from coturn's own allocation keys, an instance that stops answering out of
 * new joins within one probe interval, and a secret rotation across the pool without one failed
 * allocation. No relayed data is sent to any peer.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IceServer } from '../../shared/protocol/index.js';
import { buildApp } from '../../server/src/app.js';
import type { ServerConfig } from '../../server/src/config.js';
import { createMetrics } from '../../server/src/metrics.js';
import { createIceIssuer, createTurnSelector, type TurnSelector } from '../../server/src/turnPool/index.js';
import { hasCoturn } from '../support/coturn.js';
import { hasRedis } from '../support/redis.js';
import { credentialFor, newSecret, startTurnPool, type TurnPoolHarness } from '../support/turnPool.js';
import type { TurnClient } from '../support/stunClient.js';

const present = hasCoturn() && hasRedis();
if (!present) console.warn('turnPool.test.ts: skipped: needs `turnserver` (coturn) and `redis-server`');

const silent = pino({ level: 'silent' });

/** The pool a signaling node runs, with the issuer the hub and the HTTP routes call. */
function nodeFor(config: ServerConfig) {
  const metrics = createMetrics();
  const selector = createTurnSelector(config, { metrics, log: silent, now: Date.now });
  const issue = createIceIssuer(config, selector, metrics, Date.now);
  selector.start();
  return { metrics, selector, issue, pool: selector.pool! };
}

/** The instances an issue of ICE servers names, in order, by their TURN UDP port. */
function offered(h: TurnPoolHarness, iceServers: IceServer[]): string[] {
  return iceServers.flatMap((s) => {
    const udp = [s.urls].flat().find((u) => u.startsWith('turn:') && u.endsWith('transport=udp'));
    return udp ? [h.instanceAt(Number(/:(\d+)\?/.exec(udp)![1]))!.id] : [];
  });
}

describe.skipIf(!present)('TURN pool against two coturn instances', () => {
  const OLD = newSecret();
  let h: TurnPoolHarness;
  const selectors: TurnSelector[] = [];
  const held: TurnClient[] = [];

  beforeAll(async () => {
    h = await startTurnPool({ ids: ['turn-a', 'turn-b'], secrets: [OLD] });
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((c) => c.close()));
    await Promise.all(selectors.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await h?.stop();
  });

  function node(config = h.config([OLD])) {
    const n = nodeFor(config);
    selectors.push(n.selector);
    return n;
  }
  const allUp = (n: ReturnType<typeof node>) => expect.poll(() => n.pool.snapshot().map((s) => s.health), { timeout: 10_000 }).toEqual(['up', 'up']);

  it('probes every instance over UDP, TCP and TLS and exports result and latency', async () => {
    const n = node();
    await allUp(n);
    const text = await n.metrics.registry.metrics();
    for (const id of ['turn-a', 'turn-b']) {
      expect(text).toContain(`zerorange_turn_server_up{server="${id}"} 1`);
      for (const transport of ['udp', 'tcp', 'tls']) {
        expect(text).toMatch(new RegExp(`zerorange_turn_probes_total\\{server="${id}",transport="${transport}",result="ok"\\} [1-9]`));
        expect(text).toMatch(new RegExp(`zerorange_turn_probe_seconds_count\\{server="${id}",transport="${transport}"\\} [1-9]`));
      }
    }
    expect(text).not.toContain('result="fail"');
  });

  it("reads each instance's live allocations from coturn's statsdb and hands joins the least loaded first", async () => {
    for (let i = 0; i < 3; i++) {
      const c = await h.connect('turn-a', i === 1 ? 'tcp' : 'udp');
      held.push(c);
      expect(await c.allocate(credentialFor(OLD))).toMatchObject({ ok: true });
    }
    const n = node();
    await allUp(n);
    // The probes' own allocations are freed at once and never counted.
    await expect.poll(() => n.pool.snapshot().map((s) => s.allocations), { timeout: 10_000 }).toEqual([3, 0]);
    const ice = n.issue('sid-1', 'join');
    expect(offered(h, ice.iceServers)).toEqual(['turn-b', 'turn-a']);
    // The credential issued works on both instances it names.
    const entry = ice.iceServers.find((s) => s.username)!;
    for (const id of ['turn-b', 'turn-a']) {
      expect(await h.allocateOnce(id, 'udp', { username: entry.username!, password: entry.credential! })).toMatchObject({ ok: true });
    }
    // Freed allocations leave coturn's accounting.
    await Promise.all(held.splice(0).map((c) => c.close()));
    await expect.poll(() => n.pool.snapshot().map((s) => s.allocations), { timeout: 10_000 }).toEqual([0, 0]);
  });

  it('takes an instance that stops answering out of new joins within one probe interval, and back when it returns', async () => {
    const n = node();
    await allUp(n);
    expect(offered(h, n.issue('sid-2', 'join').iceServers).sort()).toEqual(['turn-a', 'turn-b']);
    await h.stopInstance('turn-b');
    // Refused connections fail their probe at once; the next round starts within one interval.
    await expect.poll(() => offered(h, n.issue('sid-3', 'refresh').iceServers), { timeout: 1_000 + 200, interval: 50 }).toEqual(['turn-a']);
    expect(await n.metrics.registry.metrics()).toContain('zerorange_turn_server_up{server="turn-b"} 0');
    await h.start('turn-b', [OLD]);
    await expect.poll(() => offered(h, n.issue('sid-4', 'refresh').iceServers).sort(), { timeout: 5_000 }).toEqual(['turn-a', 'turn-b']);
  });

  it('drains an instance: no new joins from the pool, and coturn redirects Allocates to the others', async () => {
    const config = h.config([OLD], {}, ['turn-b']);
    const n = node(config);
    await allUp(n);
    expect(offered(h, n.issue('sid-5', 'join').iceServers)).toEqual(['turn-a']);
    await h.start('turn-b', [OLD], ['turn-b']);
    try {
      const turnA = h.instances.find((x) => x.id === 'turn-a')!;
      expect(await h.allocateOnce('turn-b', 'udp', credentialFor(OLD))).toMatchObject({ ok: false, code: 300, alternate: { address: '127.0.0.1', port: turnA.turnPort } });
      expect(await h.allocateOnce('turn-b', 'tls', credentialFor(OLD))).toMatchObject({ ok: false, code: 300, alternate: { address: '127.0.0.1', port: turnA.tlsPort } });
    } finally {
      await h.start('turn-b', [OLD]);
    }
  });

  it('starts and stops its pool with the app, probing only while the app runs', async () => {
    const app = buildApp(h.config([OLD]), { logger: silent });
    try {
      await expect.poll(() => app.turnPool?.snapshot().map((s) => s.health), { timeout: 10_000 }).toEqual(['up', 'up']);
    } finally {
      await app.close(1_000);
    }
    const probes = async () => (await app.metrics.registry.getSingleMetric('zerorange_turn_probes_total')!.get()).values.reduce((a, v) => a + v.value, 0);
    const after = await probes();
    await new Promise((r) => setTimeout(r, 1_500)); // longer than one probe interval: no round may start
    expect(await probes()).toBe(after);
  });
});
