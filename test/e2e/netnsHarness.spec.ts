/**
 * Proves the network-namespace call harness with bare peer connections (no app code): two Chromiums
 * in two client namespaces, the stack (IdP, signaling, coturn on 3478 and TLS 443) in the server
 * namespace, credentials from the stack's HTTP API, SDP and candidates carried by the test process.
 * Skips, saying why, where namespaces cannot be made (not root, no iproute2/nftables, containers).
 */
import { existsSync } from 'node:fs';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { JoinResponse } from '../../shared/protocol/index.js';
import { linkBarePeers } from '../support/barePeer.js';
import { closeBrowserInNamespace, launchBrowserInNamespace, SYSTEM_CHROMIUM } from '../support/callBrowser.js';
import { loginWithPassword } from '../support/idpLogin.js';
import { createTestNetwork, isNetnsAvailable, type TestNetwork } from '../support/netns.js';
import { serveRendererOnRoute } from '../support/rendererRoute.js';
import { startStackIn, TEST_ORIGIN, type StackInNamespace } from '../support/stackInNamespace.js';
import { turnserverPath } from '../../dev/coturn.js';
import { TurnClient } from '../support/stunClient.js';
import { execFileSync } from 'node:child_process';

test.describe.configure({ mode: 'serial' });

let net: TestNetwork | undefined;
let stack: StackInNamespace | undefined;
let browsers: Browser[] = [];
/** Per client: the join response of its user (alice for client 0, bob for client 1). */
let joins: JoinResponse[] = [];
const contexts: BrowserContext[] = [];

async function whyUnavailable(): Promise<string | null> {
  const netns = await isNetnsAvailable();
  if (!netns.ok) return netns.reason;
  if (!existsSync(SYSTEM_CHROMIUM)) return `${SYSTEM_CHROMIUM} is not installed`;
  if (!turnserverPath()) return 'coturn (turnserver) is not installed';
  return null;
}

test.beforeAll(async () => {
  test.setTimeout(90_000);
  const reason = await whyUnavailable();
  if (reason) console.log(`netnsHarness: skipped: ${reason}`);
  test.skip(reason !== null, reason ?? '');

  const mark = (() => {
    let t = Date.now();
    return (what: string) => {
      console.log(`netnsHarness: ${what} in ${Date.now() - t} ms`);
      t = Date.now();
    };
  })();
  net = await createTestNetwork({ clients: 2 });
  mark('network created');
  stack = await startStackIn(net);
  mark('stack ready');
  const { info } = stack;
  const users = info.idp.users.slice(0, 2);
  joins = await Promise.all(
    users.map(async (user) => {
      const { accessToken } = await loginWithPassword(info.idp, user);
      const res = await fetch(`${info.signaling.url}/v1/rooms/netns-harness/join`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
      if (res.status !== 200) throw new Error(`join as ${user.username}: ${res.status} ${await res.text()}`);
      return JoinResponse.parse(await res.json());
    }),
  );
  mark('signed in and joined (alice, bob)');
  const turn = info.turn.enabled ? info.turn : null;
  browsers = await Promise.all(
    net.clients.map((c) => launchBrowserInNamespace(net!, c.ns, { spkiList: [turn!.spkiSha256], insecureOrigins: [TEST_ORIGIN] })),
  );
  mark('browsers launched');
});

test.afterEach(async () => {
  for (const ctx of contexts.splice(0)) await ctx.close().catch(() => undefined);
  if (net) for (const i of net.clients.keys()) await net.clearFirewall(i);
});

test.afterAll(async () => {
  test.setTimeout(30_000);
  const t0 = Date.now();
  const leftInNs: number[] = [];
  if (net) for (const [i, b] of browsers.entries()) leftInNs.push(...(await closeBrowserInNamespace(net, net.clients[i]!.ns, b)));
  browsers = [];
  const t1 = Date.now();
  const turnPid = stack?.info.turn.enabled ? stack.info.turn.pid : undefined;
  await stack?.stop();
  const t2 = Date.now();
  await net?.destroy();
  if (!net) return;
  console.log(`netnsHarness: browsers closed, namespaces empty in ${t1 - t0} ms; stack stopped in ${t2 - t1} ms; network destroyed in ${Date.now() - t2} ms`);
  // Nothing of ours may be left in the root namespace.
  const mine = new RegExp(`^zr-${process.pid}-`);
  expect(leftInNs, 'chromium processes left in a client namespace').toEqual([]);
  expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => mine.test(l))).toEqual([]);
  expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(` zr${process.pid}h`))).toEqual([]);
  expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toMatch(/zr_/);
  if (turnPid) expect(() => process.kill(turnPid, 0)).toThrow();
});

/** A page on the fake origin (the built renderer, served by route) in client i's browser, with a bare peer. */
async function openPage(i: number): Promise<Page> {
  const context = await browsers[i]!.newContext();
  contexts.push(context);
  await serveRendererOnRoute(context, { origin: TEST_ORIGIN, dir: 'build/renderer' });
  const page = await context.newPage();
  await page.goto(`${TEST_ORIGIN}/`);
  return page;
}

async function openPeers(): Promise<{ peers: [Page, Page]; failures: string[] }> {
  const peers = await Promise.all([openPage(0), openPage(1)]);
  const { failures } = await linkBarePeers(peers[0], peers[1]);
  return { peers, failures };
}

const selectedPair = (p: Page) => p.evaluate(() => window.zrPeer!.selectedPair());
const candidates = (p: Page) => p.evaluate(() => window.zrPeer!.candidates());

function turnServer(join: JoinResponse, only?: (url: string) => boolean): RTCIceServer[] {
  return join.iceServers.flatMap((s) => {
    const urls = (Array.isArray(s.urls) ? s.urls : [s.urls]).filter((u) => !only || only(u));
    return urls.length ? [{ ...s, urls }] : [];
  });
}

async function startCall(peers: [Page, Page], configs: [RTCConfiguration, RTCConfiguration]) {
  await Promise.all(peers.map((p, i) => p.evaluate((c) => window.zrPeer!.start(c), configs[i]!)));
  const t0 = Date.now();
  await peers[0].evaluate(() => window.zrPeer!.offer());
  return t0;
}

const waitBoth = (peers: [Page, Page], timeoutMs: number) =>
  Promise.all(peers.map((p) => p.evaluate((t) => window.zrPeer!.wait({ timeoutMs: t }), timeoutMs)));

test('coturn in the server namespace relays to the test subnet and still refuses the rest of 10/8', async () => {
  const turn = joins[0]!.iceServers.find((s) => s.username)!;
  const client = await TurnClient.connect({ transport: 'udp', host: net!.serverIp, port: 3478 });
  try {
    expect(await client.allocate({ username: turn.username!, password: turn.credential! })).toMatchObject({ ok: true, relayed: { address: net!.serverIp } });
    expect(await client.createPermission(net!.clients[1]!.ip)).toEqual({ ok: true });
    expect(await client.createPermission('10.78.0.1')).toMatchObject({ ok: false, code: 403 });
  } finally {
    await client.close();
  }
});

test('serves the built renderer on the fake origin inside a namespace, as a secure context', async () => {
  const page = await openPage(0);
  await expect(page.getByRole('heading', { name: 'ZeroRange' })).toBeVisible();
  const probe = await page.evaluate(async () => {
    const script = document.querySelector<HTMLScriptElement>('script[type=module]')!.src;
    const get = async (u: string) => {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get('content-type') };
    };
    return {
      secure: window.isSecureContext,
      script: await get(script),
      traversal: await get('/assets/..%2f..%2f..%2fpackage.json'),
      missing: await get('/nope.js'),
      media: (await navigator.mediaDevices.getUserMedia({ video: true })).getVideoTracks().length,
    };
  });
  expect(probe).toEqual({
    secure: true,
    script: { status: 200, type: 'text/javascript; charset=utf-8' },
    traversal: { status: 403, type: 'text/plain; charset=utf-8' },
    missing: { status: 404, type: 'text/plain; charset=utf-8' },
    media: 1,
  });
});

test("(a) iceTransportPolicy 'all' connects directly over a host/host pair", async () => {
  const { peers, failures } = await openPeers();
  const t0 = await startCall(peers, [
    { iceServers: joins[0]!.iceServers, iceTransportPolicy: 'all' },
    { iceServers: joins[1]!.iceServers, iceTransportPolicy: 'all' },
  ]);
  const outcomes = await waitBoth(peers, 5000);
  console.log(`(a) direct: connected after ${Date.now() - t0} ms (offerer ${outcomes[0]!.ms} ms after creation)`);
  expect(outcomes.map((o) => o.outcome), JSON.stringify({ outcomes, failures })).toEqual(['connected', 'connected']);
  for (const [i, p] of peers.entries()) {
    const pair = await selectedPair(p);
    expect(pair).toMatchObject({ local: { candidateType: 'host', address: net!.clients[i]!.ip }, remote: { candidateType: 'host' }, dtlsState: 'connected' });
  }
  const frame = await peers[1].evaluate(() => window.zrPeer!.firstRemoteFrame(5000));
  console.log(`(a) direct: first remote frame ${frame} ms after creation`);
  expect(failures).toEqual([]);
});

test('(b) relay-only over turns:10.77.0.1:443 alone connects through a TLS relay', async () => {
  const { peers, failures } = await openPeers();
  const tlsOnly = (u: string) => u === `turns:${net!.serverIp}:443?transport=tcp`;
  const t0 = await startCall(peers, [
    { iceServers: turnServer(joins[0]!, tlsOnly), iceTransportPolicy: 'relay' },
    { iceServers: turnServer(joins[1]!, tlsOnly), iceTransportPolicy: 'relay' },
  ]);
  const outcomes = await waitBoth(peers, 5000);
  console.log(`(b) relay TLS 443: connected after ${Date.now() - t0} ms`);
  expect(outcomes.map((o) => o.outcome), JSON.stringify({ outcomes, failures })).toEqual(['connected', 'connected']);
  for (const p of peers) {
    const pair = await selectedPair(p);
    expect(pair).toMatchObject({ local: { candidateType: 'relay', relayProtocol: 'tls', address: net!.serverIp } });
    expect(pair!.local.url).toContain(':443');
  }
  await peers[1].evaluate(() => window.zrPeer!.firstRemoteFrame(5000));
  expect(failures).toEqual([]);
});

test("(c) behind the 'restrictive' firewall, with every server offered, it connects over TLS 443 within 5 s", async () => {
  const { info } = stack!;
  await net!.applyFirewall(0, 'restrictive', { allowTcpPorts: [Number(new URL(info.signaling.url).port), Number(new URL(info.idp.issuer).port)] });
  const { peers, failures } = await openPeers();
  const t0 = await startCall(peers, [
    { iceServers: joins[0]!.iceServers, iceTransportPolicy: 'all' },
    { iceServers: joins[1]!.iceServers, iceTransportPolicy: 'all' },
  ]);
  const outcomes = await waitBoth(peers, 5000);
  console.log(`(c) restrictive: connected after ${Date.now() - t0} ms`);
  expect(outcomes.map((o) => o.outcome), JSON.stringify({ outcomes, failures })).toEqual(['connected', 'connected']);
  const pair = await selectedPair(peers[0]);
  console.log(`(c) restrictive: firewalled side's pair ${pair?.local.candidateType}/${pair?.local.relayProtocol} ${pair?.local.url} → ${pair?.remote.candidateType} ${pair?.remote.address}`);
  expect(pair).toMatchObject({ local: { candidateType: 'relay', relayProtocol: 'tls' } });
  expect(pair!.local.url).toContain(':443');
  // The firewall did block the rest: the firewalled client has no server-reflexive, UDP or TCP relay candidates.
  const gathered = await candidates(peers[0]);
  expect(gathered.filter((c) => c.type !== 'host' && !(c.type === 'relay' && c.relayProtocol === 'tls')), JSON.stringify(gathered)).toEqual([]);
  expect(failures).toEqual([]);
});

test("(d) behind 'restrictive-no-tls', relay-only gathers no relay candidate and never connects", async () => {
  const { info } = stack!;
  await net!.applyFirewall(0, 'restrictive-no-tls', { allowTcpPorts: [Number(new URL(info.signaling.url).port), Number(new URL(info.idp.issuer).port)] });
  const { peers, failures } = await openPeers();
  await startCall(peers, [
    { iceServers: turnServer(joins[0]!), iceTransportPolicy: 'relay' },
    { iceServers: turnServer(joins[1]!), iceTransportPolicy: 'relay' },
  ]);
  const [blocked, open] = await Promise.all([
    peers[0].evaluate(() => window.zrPeer!.wait({ timeoutMs: 4000, orRelayCandidate: true })),
    peers[1].evaluate(() => window.zrPeer!.wait({ timeoutMs: 4000, orRelayCandidate: true })),
  ]);
  const errors = await peers[0].evaluate(() => window.zrPeer!.errors());
  console.log(`(d) restrictive-no-tls: firewalled side ${JSON.stringify(blocked)}; open side ${JSON.stringify(open)}; errors ${JSON.stringify(errors)}`);
  // The open side gathers its relays; the firewalled side nothing at all, so nothing can connect.
  expect(open.outcome).toBe('relay-candidate');
  expect(blocked).toMatchObject({ outcome: 'timeout', connectionState: 'new' });
  expect(await candidates(peers[0])).toEqual([]);
  for (const e of errors) expect(e.errorCode).toBe(701);
  expect(failures).toEqual([]);
});

test('udp loss profile: a direct call still connects with 10% of UDP dropped each way', async () => {
  await net!.applyFirewall(0, { udpLossPercent: 10 });
  const { stdout } = await net!.exec(net!.clients[0]!.ns, 'nft', ['list', 'ruleset']);
  expect(stdout).toContain('numgen random mod 100 < 10 drop');
  const { peers, failures } = await openPeers();
  const t0 = await startCall(peers, [
    { iceServers: joins[0]!.iceServers, iceTransportPolicy: 'all' },
    { iceServers: joins[1]!.iceServers, iceTransportPolicy: 'all' },
  ]);
  const outcomes = await waitBoth(peers, 10_000);
  console.log(`udp loss 10%: connected after ${Date.now() - t0} ms`);
  expect(outcomes.map((o) => o.outcome), JSON.stringify({ outcomes, failures })).toEqual(['connected', 'connected']);
  expect(failures).toEqual([]);
});
