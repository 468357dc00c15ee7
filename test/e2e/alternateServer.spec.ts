/**
 * Does Chromium follow coturn's alternate-server (STUN 300 Try Alternate on Allocate)? Two coturn
 * instances in the server namespace: A redirects every Allocate to B (`alternate-server` and
 * `tls-alternate-server`), B relays. A relay-only peer connection in a client namespace is given
 * A only and gathers; the relay candidate's port says which instance relays it (each has a relay
 * range of its own). Chromium 156 follows the redirect over UDP, TCP and TLS: this test keeps it
 * so. The TLS certificate is trusted by its key here (as the development stack's is), so whether a
 * publicly trusted certificate for a host name is accepted at the redirected address (an IP
 * literal) is not settled by it. deploy/README.md ("Draining a coturn instance") relies on the
 * answer. Run it under the lock:
 * `flock /tmp/zr-e2e.flock npx playwright test test/e2e/alternateServer.spec.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Browser } from '@playwright/test';
import { issueDevCertificate } from '../../dev/devCerts.js';
import { createTurnCredential } from '../../server/src/turn.js';
import { closeBrowserInNamespace, launchBrowserInNamespace } from '../support/callBrowser.js';
import { createTestNetwork, SERVER_IP, type TestNetwork } from '../support/netns.js';
import { skipUnlessNetnsCoturn, startCoturnInServerNs, type NamespaceCoturn } from '../support/netnsCoturn.js';
import { TurnClient } from '../support/stunClient.js';

test.describe.configure({ mode: 'serial' });

const SECRET = randomBytes(24).toString('base64url');
const REALM = 'alternate.example.test';
const A = { port: 3478, tlsPort: 5349, relayFrom: 50000 };
const B = { port: 3489, tlsPort: 5359, relayFrom: 51000 };
type Instance = typeof A;

let net: TestNetwork | undefined;
let browser: Browser | undefined;
const coturns: NamespaceCoturn[] = [];
let work: string | undefined;
let tls: { certPath: string; keyPath: string; spkiSha256Base64: string };

function coturnConfig(at: Instance, alternate?: Instance): string {
  return [
    `listening-ip=${SERVER_IP}`,
    `relay-ip=${SERVER_IP}`,
    `listening-port=${at.port}`,
    `tls-listening-port=${at.tlsPort}`,
    `cert=${tls.certPath}`,
    `pkey=${tls.keyPath}`,
    `min-port=${at.relayFrom}`,
    `max-port=${at.relayFrom + 999}`,
    'use-auth-secret',
    `static-auth-secret=${SECRET}`,
    `realm=${REALM}`,
    'fingerprint',
    'no-dtls',
    'no-cli',
    'no-rfc5780',
    ...(alternate ? [`alternate-server=${SERVER_IP}:${alternate.port}`, `tls-alternate-server=${SERVER_IP}:${alternate.tlsPort}`] : []),
  ].join('\n');
}

test.beforeAll(async () => {
  test.setTimeout(60_000);
  await skipUnlessNetnsCoturn('alternateServer');
  work = await mkdtemp(path.join(tmpdir(), 'zr-alt-'));
  tls = await issueDevCertificate({ caDir: path.join(work, 'ca'), outDir: work, hosts: [SERVER_IP], days: 1 });
  net = await createTestNetwork({ clients: 1 });
  coturns.push(await startCoturnInServerNs(net, coturnConfig(B), B.port));
  coturns.push(await startCoturnInServerNs(net, coturnConfig(A, B), A.port));
  // The test certificate is trusted by its key, as the development stack's is.
  browser = await launchBrowserInNamespace(net, net.clients[0]!.ns, { spkiList: [tls.spkiSha256Base64] });
});

test.afterAll(async () => {
  if (browser && net) await closeBrowserInNamespace(net, net.clients[0]!.ns, browser);
  for (const c of coturns.splice(0)) await c.stop();
  await net?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

const credential = () => {
  const c = createTurnCredential({ secret: SECRET, id: 'alt', ttlSeconds: 600 });
  return { username: c.username, password: c.credential };
};

test('coturn answers an Allocate on A with 300 Try Alternate', async () => {
  const c = await TurnClient.connect({ transport: 'udp', host: SERVER_IP, port: A.port });
  try {
    expect(await c.allocate(credential())).toMatchObject({ ok: false, code: 300 });
  } finally {
    await c.close();
  }
});

const URLS = {
  udp: `turn:${SERVER_IP}:${A.port}?transport=udp`,
  tcp: `turn:${SERVER_IP}:${A.port}?transport=tcp`,
  tls: `turns:${SERVER_IP}:${A.tlsPort}?transport=tcp`,
};

for (const transport of ['udp', 'tcp', 'tls'] as const) {
  test(`Chromium given A only, over ${transport}, follows the redirect: B relays`, async () => {
    const page = await browser!.newPage();
    const { username, password } = credential();
    const result = await page.evaluate(
      async ({ url, username, credential }) => {
        const pc = new RTCPeerConnection({ iceServers: [{ urls: url, username, credential }], iceTransportPolicy: 'relay' });
        const relays: number[] = [];
        const errors: string[] = [];
        pc.addEventListener('icecandidate', (e) => e.candidate?.type === 'relay' && relays.push(e.candidate.port ?? 0));
        pc.addEventListener('icecandidateerror', (e) => errors.push(`${e.errorCode} ${e.errorText}`));
        pc.createDataChannel('probe');
        await pc.setLocalDescription();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 10_000);
          pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && (clearTimeout(timer), resolve()));
        });
        pc.close();
        return { relays, errors };
      },
      { url: URLS[transport], username, credential: password },
    );
    await page.close();
    console.log(`alternateServer: ${transport}: relay candidate ports ${JSON.stringify(result.relays)}, errors ${JSON.stringify(result.errors)}`);
    const on = (at: { relayFrom: number }) => result.relays.filter((p) => p >= at.relayFrom && p < at.relayFrom + 1000).length;
    expect({ onA: on(A), onB: on(B) }).toEqual({ onA: 0, onB: 1 });
  });
}
