/**
 * A relay-only call through the TURN pool survives the death of the instance relaying it: two
 * coturn instances in the server namespace (rendered from the production template per instance),
 * the pool of a signaling server in the test process probing them, two Chromiums in client
 * namespaces given the ICE servers the pool issues (an instance and its spare). The instance the
 * call uses is killed (SIGKILL); the pool takes it out of new joins, and an ICE restart (what the
 * app does after a path fails) connects through the spare within 15 s. Bare peer connections: the
 * app's own restart policy is covered by the call tests. Run it under the lock:
 * `flock /tmp/zr-e2e.flock npx playwright test test/e2e/turnPoolFailover.spec.ts`.
 */
import { randomBytes } from 'node:crypto';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { pino } from 'pino';
import { parseConfig, type ServerConfig } from '../../server/src/config.js';
import { renderCoturnConfig } from '../../server/src/coturnConfig.js';
import { createMetrics } from '../../server/src/metrics.js';
import { createIceIssuer, createTurnSelector, type TurnSelector } from '../../server/src/turnPool/index.js';
import { linkBarePeers } from '../support/barePeer.js';
import { closeBrowserInNamespace, launchBrowserInNamespace } from '../support/callBrowser.js';
import { createTestNetwork, SERVER_IP, type TestNetwork } from '../support/netns.js';
import { skipUnlessNetnsCoturn, startCoturnInServerNs, type NamespaceCoturn } from '../support/netnsCoturn.js';

test.describe.configure({ mode: 'serial' });

const ORIGIN = 'http://pool.zerorange.test';
const SECRET = randomBytes(24).toString('base64url');
const INSTANCES = [
  { id: 'turn-a', port: 3478, relayFrom: 50000 },
  { id: 'turn-b', port: 3489, relayFrom: 51000 },
];

let net: TestNetwork | undefined;
let browsers: Browser[] = [];
const coturns = new Map<string, NamespaceCoturn>();
let selector: TurnSelector | undefined;

const config: ServerConfig = parseConfig({
  development: true,
  idp: { issuer: 'https://id.example.test', audience: 'zr', clientId: 'desktop' },
  roomToken: { secret: 'r'.repeat(32) },
  turn: {
    secrets: [SECRET],
    realm: 'pool.example.test',
    turnsPort: 0,
    servers: INSTANCES.map((x) => ({ id: x.id, host: SERVER_IP, turnPort: x.port, listeningIps: [SERVER_IP], relayIps: [SERVER_IP] })),
    pool: { probeIntervalMs: 1_000, probeTimeoutMs: 800 },
  },
});

test.beforeAll(async () => {
  test.setTimeout(60_000);
  await skipUnlessNetnsCoturn('turnPoolFailover');
  net = await createTestNetwork({ clients: 2 });
  for (const x of INSTANCES) {
    // The production render for this instance; the test subnet is its deployment's own network.
    const text = renderCoturnConfig(config, { server: x.id, allowedPeerIps: ['10.77.0.0-10.77.0.255'], minPort: x.relayFrom, maxPort: x.relayFrom + 999, log: 'stdout' });
    coturns.set(x.id, await startCoturnInServerNs(net, text, x.port));
  }
  selector = createTurnSelector(config, { metrics: createMetrics(), log: pino({ level: 'silent' }), now: Date.now });
  selector.start();
  browsers = await Promise.all(net.clients.map((c) => launchBrowserInNamespace(net!, c.ns, { insecureOrigins: [ORIGIN] })));
});

test.afterAll(async () => {
  await selector?.stop();
  if (net) for (const [i, b] of browsers.entries()) expect(await closeBrowserInNamespace(net, net.clients[i]!.ns, b)).toEqual([]);
  for (const c of coturns.values()) await c.stop();
  await net?.destroy();
});

async function openPage(i: number): Promise<Page> {
  const context = await browsers[i]!.newContext();
  await context.route(`${ORIGIN}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>pool</title>' }));
  const page = await context.newPage();
  await page.goto(`${ORIGIN}/`);
  return page;
}

/** Which instance relays a peer's selected pair (by the relay port's range). */
async function relayOf(page: Page): Promise<string | undefined> {
  const pair = await page.evaluate(() => window.zrPeer!.selectedPair());
  if (pair?.local.candidateType !== 'relay') return undefined;
  return INSTANCES.find((x) => pair.local.port >= x.relayFrom && pair.local.port < x.relayFrom + 1000)?.id;
}

test('a relay-only call moves to the spare instance when its instance is killed', async () => {
  test.setTimeout(60_000);
  const pool = selector!.pool!;
  await expect.poll(() => pool.snapshot().map((s) => s.health), { timeout: 10_000 }).toEqual(['up', 'up']);
  const issuer = createIceIssuer(config, selector!, createMetrics(), Date.now);
  const peers = await Promise.all([openPage(0), openPage(1)]);
  const { failures } = await linkBarePeers(peers[0], peers[1]);
  const ice = ['alice', 'bob'].map((sid) => issuer(sid, 'join').iceServers);
  expect(ice[0]!.filter((s) => s.username)).toHaveLength(2);
  await Promise.all(peers.map((p, i) => p.evaluate((c) => window.zrPeer!.start(c), { iceServers: ice[i]!, iceTransportPolicy: 'relay' as const })));
  await peers[0].evaluate(() => window.zrPeer!.offer());
  const first = await Promise.all(peers.map((p) => p.evaluate(() => window.zrPeer!.wait({ timeoutMs: 10_000 }))));
  expect(first.map((o) => o.outcome), JSON.stringify({ first, failures })).toEqual(['connected', 'connected']);
  const used = await relayOf(peers[0]);
  expect(used).toBeDefined();

  const killedAt = Date.now();
  await coturns.get(used!)!.kill();
  await expect.poll(() => pool.select('refresh').map((s) => s.id), { timeout: 1_000 + 800 + 500 }).not.toContain(used);
  // ICE may move to a pair through the spare by itself (both peers gathered relay candidates from
  // both instances); where the connection drops instead, restart ICE after 3 s, as the app does.
  const spare = INSTANCES.find((x) => x.id !== used)!.id;
  let restarted = false;
  let downSince: number | undefined;
  await expect
    .poll(
      async () => {
        const state = await peers[0].evaluate(() => window.zrPeer!.connectionState());
        downSince = state === 'connected' ? undefined : (downSince ?? Date.now());
        if (!restarted && downSince !== undefined && Date.now() - downSince >= 3_000) {
          restarted = true;
          await peers[0].evaluate(() => window.zrPeer!.restartIce());
        }
        const states = await Promise.all(peers.map((p) => p.evaluate(() => window.zrPeer!.connectionState())));
        return { states, relays: await Promise.all(peers.map(relayOf)) };
      },
      { timeout: 15_000 - (Date.now() - killedAt), intervals: [250] },
    )
    .toEqual({ states: ['connected', 'connected'], relays: [spare, expect.any(String)] });
  expect(await Promise.all(peers.map(relayOf))).not.toContain(used);
  console.log(`turnPoolFailover: ${used} killed; the call relays through the spare ${Date.now() - killedAt} ms later (${restarted ? 'after an ICE restart' : 'without an ICE restart'})`);
  expect(failures).toEqual([]);
  for (const p of peers) await p.evaluate(() => window.zrPeer!.close());
});
