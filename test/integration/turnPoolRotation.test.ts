/**
 * Rotating the TURN secret across a pool of two real coturn instances, as deploy/README.md says:
 * the new secret is added to every instance (after the old one, so the signaling nodes still sign
 * with the old), then the signaling nodes sign with it, then the old one is removed. Instances are
 * restarted one at a time, as an administrator would. Joins run throughout, each allocating with
 * the credential it was issued on the servers it was offered, in order, as ICE would: none may
 * fail, and no instance may ever refuse a credential it was handed.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../server/src/config.js';
import { createMetrics } from '../../server/src/metrics.js';
import { createIceIssuer, createTurnSelector, type TurnSelector } from '../../server/src/turnPool/index.js';
import { hasCoturn } from '../support/coturn.js';
import { hasRedis } from '../support/redis.js';
import { credentialFor, newSecret, startTurnPool, type TurnPoolHarness } from '../support/turnPool.js';

const present = hasCoturn() && hasRedis();
if (!present) console.warn('turnPoolRotation.test.ts: skipped: needs `turnserver` (coturn) and `redis-server`');

type Cred = { username: string; password: string };

/** A signaling node's view of the pool: its selector and issuer (what buildApp wires). */
class Node {
  readonly selector: TurnSelector;
  readonly issue: ReturnType<typeof createIceIssuer>;
  constructor(config: ServerConfig) {
    const metrics = createMetrics();
    this.selector = createTurnSelector(config, { metrics, log: pino({ level: 'silent' }), now: Date.now });
    this.issue = createIceIssuer(config, this.selector, metrics, Date.now);
    this.selector.start();
  }
  healthy(): string[] {
    return this.selector.pool!.snapshot().filter((s) => s.health === 'up').map((s) => s.spec.id);
  }
}

describe.skipIf(!present)('TURN secret rotation across the pool', () => {
  const OLD = newSecret();
  const NEW = newSecret();
  let h: TurnPoolHarness;
  let node: Node;
  const retired: Node[] = [];

  beforeAll(async () => {
    h = await startTurnPool({ ids: ['turn-a', 'turn-b'], secrets: [OLD] });
  });
  afterAll(async () => {
    await Promise.all([node, ...retired].map((n) => n?.selector.stop()));
    await h?.stop();
  });

  const ids = ['turn-a', 'turn-b'];
  const allUp = () => expect.poll(() => node.healthy(), { timeout: 10_000 }).toEqual(ids);
  const works = async (cred: Cred) => Promise.all(ids.map(async (id) => (await h.allocateOnce(id, 'udp', cred)).ok));

  /** One join: its issued credential, tried on each offered instance in order until one allocates. */
  type Log = { joins: number; byCurrentNode: number; failed: string[]; refused: string[] };
  async function join(n: Node, log: Log): Promise<void> {
    const ice = n.issue(`sid-${log.joins}`, 'join');
    const entries = ice.iceServers.filter((s) => s.username);
    const tried: string[] = [];
    for (const entry of entries) {
      const udp = [entry.urls].flat().find((u) => u.endsWith('transport=udp'))!;
      const id = h.instanceAt(Number(/:(\d+)\?/.exec(udp)![1]))!.id;
      const result = await h.allocateOnce(id, 'udp', { username: entry.username!, password: entry.credential! }).catch((e: Error) => ({ ok: false as const, code: 0, reason: e.message }));
      if (result.ok) break;
      tried.push(`${id}: ${result.code} ${result.reason}`);
      if (result.code === 401) log.refused.push(`${id} refused the credential ${entry.username}`);
      if (tried.length === entries.length) log.failed.push(tried.join('; '));
    }
    log.joins++;
    if (n === node) log.byCurrentNode++;
  }

  /** Restarts every instance in turn, each once the pool has the previous one back; joins go on meanwhile. */
  async function restartEach(secrets: string[], log: Log): Promise<void> {
    for (const id of ids) {
      const before = log.joins;
      await h.start(id, secrets);
      await allUp();
      await expect.poll(() => log.joins, { timeout: 15_000 }).toBeGreaterThan(before);
    }
  }

  it('adds, issues with and removes a secret with no failed allocation', async () => {
    node = new Node(h.config([OLD]));
    await allUp();
    const oldCredential = credentialFor(OLD);
    const log: Log = { joins: 0, byCurrentNode: 0, failed: [], refused: [] };
    let running = true;
    const joins = (async () => {
      while (running) await join(node, log);
    })();
    try {
      // 1. Every instance learns the new secret; the nodes still sign with the old one.
      await restartEach([OLD, NEW], log);
      expect(await works(oldCredential)).toEqual([true, true]);
      expect(await works(credentialFor(NEW))).toEqual([true, true]);

      // 2. The signaling nodes sign with the new secret (a restart with it first in the file).
      retired.push(node);
      node = new Node(h.config([NEW, OLD]));
      log.byCurrentNode = 0;
      await retired.at(-1)!.selector.stop();
      await allUp();
      const issued = node.issue('sid-check', 'join').iceServers.find((s) => s.username)!;
      expect(await works({ username: issued.username!, password: issued.credential! })).toEqual([true, true]);
      // Credentials signed before are still accepted everywhere until they expire.
      expect(await works(oldCredential)).toEqual([true, true]);

      // 3. After the longest credential lifetime the old secret goes, one instance at a time. Here
      // that wait is for the join in flight with an old credential (one that met an instance being
      // restarted waits out its timeout): a join after it has a new credential.
      await expect.poll(() => log.byCurrentNode, { timeout: 15_000 }).toBeGreaterThan(0);
      await restartEach([NEW], log);
      expect(await works(oldCredential)).toEqual([false, false]);
      expect(await h.allocateOnce('turn-a', 'tls', oldCredential)).toMatchObject({ ok: false, code: 401 });
      expect(await works(credentialFor(NEW))).toEqual([true, true]);
    } finally {
      running = false;
      await joins;
    }
    expect(log.refused).toEqual([]);
    expect(log.failed).toEqual([]);
    console.log(`turnPoolRotation: ${log.joins} joins allocated during the rotation, none refused`);
  });
});
