/**
 * "Check my network" end to end: the real stack (IdP, signaling, coturn with UDP/TCP 3478 and TLS on
 * 443) in a server namespace, the app in Chromium in a client namespace, with and without the
 * 'restrictive' firewall. Only loopback and the test namespaces see any traffic. Skipped, saying why,
 * where namespaces cannot be made.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { DiagnosticsDocument } from '../../shared/diagnostics/document.js';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { chromiumArgs } from '../../playwright.config.js';
import { turnserverPath } from '../../dev/coturn.js';
import { SYSTEM_CHROMIUM } from '../support/callBrowser.js';
import { Participant } from '../support/callParticipant.js';
import { createTestNetwork, isNetnsAvailable, type TestNetwork } from '../support/netns.js';
import { startStackIn, type StackInNamespace } from '../support/stackInNamespace.js';

test.describe.configure({ mode: 'serial' });

let net: TestNetwork | undefined;
let stack: StackInNamespace | undefined;
let hostBrowser: Browser | undefined;
const open: Participant[] = [];

/** 10.77.0.0/24 exists once per machine: while another live process holds the network, wait for it. */
async function testNetworkWhenFree(waitMs: number): Promise<TestNetwork> {
  const deadline = Date.now() + waitMs;
  for (let said = false; ; ) {
    try {
      return await createTestNetwork({ clients: 1 });
    } catch (err) {
      const busy = /another test network is up/.test((err as Error).message);
      if (!busy || Date.now() > deadline) throw err;
      if (!said) console.log(`networkCheck.spec: ${(err as Error).message}; waiting`);
      said = true;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

test.beforeAll(async () => {
  test.setTimeout(11 * 60_000);
  const netns = await isNetnsAvailable();
  const reason = !netns.ok ? netns.reason : !existsSync(SYSTEM_CHROMIUM) ? `${SYSTEM_CHROMIUM} is not installed` : !turnserverPath() ? 'coturn is not installed' : null;
  if (reason) console.log(`networkCheck.spec: skipped: ${reason}`);
  test.skip(reason !== null, reason ?? '');
  net = await testNetworkWhenFree(10 * 60_000);
  stack = await startStackIn(net);
  hostBrowser = await chromium.launch({ executablePath: SYSTEM_CHROMIUM, args: chromiumArgs });
});

test.afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  if (net) await net.clearFirewall(0);
});

test.afterAll(async () => {
  if (process.env.ZR_DEBUG_STACK) console.log(stack?.output());
  await hostBrowser?.close();
  await stack?.stop();
  await net?.destroy();
});

async function signedIn(): Promise<Participant> {
  const p = await Participant.open(net!, stack!, 0, hostBrowser!);
  open.push(p);
  await p.signIn(stack!, 'alice');
  return p;
}

/** A step's row: its name is the row header; the cells are result, time and verdict. */
function row(page: Page, label: string) {
  return page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: label, exact: true }) });
}

const STEPS = [
  'Signaling server over HTTP',
  'Signaling socket (WS)',
  'STUN (UDP 3478)',
  'TURN over UDP 3478',
  'TURN over TCP 3478',
  'TURN over TLS 443',
  'Test call through TURN over TLS 443',
];

/** Runs the check from the check screen; resolves with how long it took, once the summary is in. */
async function runCheck(page: Page, button: 'Run the check' | 'Run again' = 'Run the check'): Promise<number> {
  await expect(page.getByRole('heading', { level: 1, name: 'Check my network' })).toBeVisible();
  const summary = page.getByRole('status', { name: 'Summary' });
  const started = Date.now();
  await page.getByRole('button', { name: button, exact: true }).click();
  await expect(summary).toContainText('ZeroRange will use:', { timeout: 25_000 });
  const ms = Date.now() - started;
  await expect(page.getByRole('button', { name: 'Run again', exact: true })).toBeEnabled();
  return ms;
}

test('an open network: every step works against the stack, and the summary says calls will work with Auto', async () => {
  const alice = await signedIn();
  const { page } = alice;
  await page.getByRole('button', { name: 'Check my network' }).click();
  const ms = await runCheck(page);
  for (const label of STEPS) await expect(row(page, label).getByRole('cell').first(), label).toHaveText('Works');
  const summary = page.getByRole('status', { name: 'Summary' });
  await expect(summary).toContainText('Calls will work on this network.');
  await expect(summary).toContainText('ZeroRange will use: Auto');
  await expect(summary).not.toContainText('network administrator');
  // The test call proved DTLS and measured the path.
  await expect(row(page, 'Test call through TURN over TLS 443')).toContainText(/an encrypted test call connected in \d+ ms: round trip \d+ ms, [\d,]+ kbit\/s/);
  // Host addresses are hidden (mDNS) until the camera is opened, so Chromium reports the STUN server's
  // view of us (the client's own address: no NAT here), masked unless the user asks to see it.
  await expect(row(page, 'STUN (UDP 3478)')).toContainText('the STUN server sees you as 10.77.x.x');
  await expect(page.getByText('10.77.0.11')).toHaveCount(0);
  await page.getByRole('button', { name: 'Show my address' }).click();
  await expect(page.getByText('10.77.0.11')).toBeVisible();
  console.log(`networkCheck.spec: open network: check took ${ms} ms`);
  expect(ms).toBeLessThan(15_000);

  // The result can be exported for an administrator: masked, and without the address just shown.
  await page.getByRole('button', { name: 'Export diagnostics' }).click();
  await expect(page.getByRole('status').filter({ hasText: /Saved to/ })).toBeVisible();
  const text = await readFile(alice.saved.at(-1)!, 'utf8');
  expect(DiagnosticsDocument.parse(JSON.parse(text)).networkCheck).not.toBeNull();
  expect(text).not.toMatch(/\b10\.77\.0\.\d{1,3}\b/);
  expect(text).not.toMatch(/"(credential|username|password)"\s*:/);

  // Back to Home.
  await page.getByRole('button', { name: 'Back' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Rooms' })).toBeVisible();
});

test('a network that lets only TCP 443 out: TURN UDP and TCP blocked, TLS 443 works, relay over TLS 443 recommended', async () => {
  const { info } = stack!;
  const alice = await signedIn();
  const { page } = alice;
  await net!.applyFirewall(0, 'restrictive', { allowTcpPorts: [Number(new URL(info.signaling.url).port), Number(new URL(info.idp.issuer).port)] });
  await page.getByRole('button', { name: 'Check my network' }).click();
  const ms = await runCheck(page);
  for (const label of ['Signaling server over HTTP', 'Signaling socket (WS)', 'TURN over TLS 443', 'Test call through TURN over TLS 443']) {
    await expect(row(page, label).getByRole('cell').first(), label).toHaveText('Works');
  }
  for (const label of ['STUN (UDP 3478)', 'TURN over UDP 3478', 'TURN over TCP 3478']) {
    await expect(row(page, label).getByRole('cell').first(), label).toHaveText('Blocked');
  }
  await expect(row(page, 'TURN over UDP 3478')).toContainText('Blocked — no answer from the TURN server (10.77.0.1 on UDP 3478) within 5 s.');
  await expect(row(page, 'TURN over TCP 3478')).toContainText('Blocked — no answer from the TURN server (10.77.0.1 on TCP 3478) within 5 s.');
  const summary = page.getByRole('status', { name: 'Summary' });
  await expect(summary).toContainText('Calls will work only through TURN over TLS on port 443');
  await expect(summary).toContainText('ZeroRange will use: Relay over TLS 443 only.');
  await expect(summary).toContainText('ask your network administrator to allow UDP 3478 and UDP 49152–65535 to 10.77.0.1');
  console.log(`networkCheck.spec: restrictive network: check took ${ms} ms`);
  expect(ms).toBeLessThan(15_000);
  // Remembered for this network, as a call would: the next call starts over TLS 443 at once.
  const state = await alice.service.getState();
  expect(state.ok && state.value.restrictiveNetwork).toBe(true);
});

test('reachable from the pre-join screen; Back returns to it with the call not started', async () => {
  const alice = await signedIn();
  const { page } = alice;
  await alice.createRoom();
  await expect(page.getByRole('button', { name: 'Join call' })).toBeEnabled();
  await page.getByRole('button', { name: 'Check my network' }).click();
  const ms = await runCheck(page);
  // The camera is open meanwhile; every step still works.
  for (const label of STEPS) await expect(row(page, label).getByRole('cell').first(), label).toHaveText('Works');
  console.log(`networkCheck.spec: from pre-join: check took ${ms} ms; STUN: ${await row(page, 'STUN (UDP 3478)').getByRole('cell').nth(2).innerText()}`);
  await page.getByRole('button', { name: 'Back' }).click();
  await expect(page.getByRole('button', { name: 'Join call' })).toBeEnabled();
  await expect(page.getByRole('button', { name: 'Check my network' })).toBeVisible();
});
