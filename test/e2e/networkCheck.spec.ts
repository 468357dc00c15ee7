/**
 * "Check my network" end to end: the real stack (IdP, signaling, coturn with UDP/TCP 3478 and TLS on
 * 443) in a server namespace, the app in Chromium in a client namespace, with and without the
 * 'restrictive' firewall. Only loopback and the test namespaces see any traffic. Skipped, saying why,
 * where namespaces cannot be made.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { DiagnosticsDocument } from '../../shared/diagnostics/document.js';
import { useCallSuite } from '../support/callSuite.js';

const suite = useCallSuite('networkCheck.spec', 1);
const signedIn = () => suite.participant(0, 'alice');

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
  const alice = await signedIn();
  const { page } = alice;
  await suite.net().applyFirewall(0, 'restrictive', { allowTcpPorts: suite.controlPorts() });
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
