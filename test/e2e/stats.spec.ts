/**
 * Live statistics and the diagnostics export, end to end on the namespace harness (see calls.spec).
 */
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { DiagnosticsDocument } from '../../shared/diagnostics/document.js';
import type { Participant } from '../support/callParticipant.js';
import { useCallSuite } from '../support/callSuite.js';

const suite = useCallSuite('stats.spec', 2);

const panel = (p: Participant) => p.page.getByRole('region', { name: 'Connection statistics' });
const peerStats = (p: Participant, name: string) => panel(p).getByRole('region', { name: `Statistics for ${name}` });
/** A value in the panel's definition list, by its label. */
const statValue = (p: Participant, name: string, label: string) => peerStats(p, name).locator('dt', { hasText: new RegExp(`^${label}$`) }).locator('+ dd');

for (const [policy, path, turn] of [
  ['Auto', 'Direct', '–'],
  // Relay-only promises a relay, not its transport: ICE may settle on UDP or TCP.
  ['Always relay', /^Relay (UDP|TCP|TLS 443)$/, /^turns?:10\.77\.0\.1:(3478|443)/],
  ['Relay over TLS 443 only', 'Relay TLS 443', /^turns:10\.77\.0\.1:443/],
] as const) {
  test(`the panel shows the real path and transport (${policy})`, async () => {
    const { alice } = await suite.twoInACall({ alice: policy });
    await alice.expectMediaFlowing(1);
    await alice.page.getByRole('button', { name: 'Stats' }).click();
    await expect(statValue(alice, 'Bob Berger', 'Path')).toHaveText(path);
    await expect(statValue(alice, 'Bob Berger', 'TURN server')).toHaveText(turn);
    await expect(statValue(alice, 'Bob Berger', 'DTLS')).toHaveText(/^connected/);
    await expect(statValue(alice, 'Bob Berger', 'SRTP cipher')).not.toHaveText('–');
    await expect(statValue(alice, 'Bob Berger', 'Round-trip time')).toHaveText(/^\d+ ms$/);
    // S toggles it.
    await alice.page.keyboard.press('s');
    await expect(panel(alice)).toBeHidden();
  });
}

test('under 10 % UDP loss the call stays up, the panel shows the loss and the score drops with its reason; on a constrained uplink the sender adapts', async () => {
  test.setTimeout(180_000);
  const { alice, bob } = await suite.twoInACall();
  await alice.expectMediaFlowing(1);
  await bob.page.getByRole('button', { name: 'Stats' }).click();
  await expect(statValue(bob, 'Alice Anders', 'Round-trip time')).toHaveText(/^\d+ ms$/);
  await suite.net().applyFirewall(1, { udpLossPercent: 10 });
  await expect.poll(async () => parseFloat(await statValue(bob, 'Alice Anders', 'Packet loss in').innerText()), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
  const quality = bob.tile('Alice Anders').getByTestId('quality');
  await expect(quality).not.toHaveText('Quality 5/5', { timeout: 30_000 });
  await expect(quality).toHaveAttribute('title', /packet loss/);
  await expect(peerStats(bob, 'Alice Anders').getByTestId('stats-score')).toContainText(/packet loss \d/);
  await bob.expectMediaFlowing(1);

  // 10 % loss alone leaves Chrome's congestion control holding (the fake camera's ~700 kbit/s is far
  // below its estimate), so adaptation is shown on a constrained uplink: a 320 kbit/s UDP policer.
  // The estimate starts low and ramps up over seconds (slower under loss): on a clean link, wait until
  // it is clearly above what the policer will allow, so that its fall shows adaptation.
  const available = async () => parseFloat(await statValue(bob, 'Alice Anders', 'Available outgoing').innerText()) || 0;
  await suite.net().clearFirewall(1);
  await expect.poll(available, { timeout: 45_000, intervals: [1000] }).toBeGreaterThan(1000);
  await suite.net().applyFirewall(1, { udpRateKbytesPerSecond: 40 });
  await expect.poll(available, { timeout: 20_000 }).toBeLessThan(800);
  await expect(statValue(bob, 'Alice Anders', 'Sending limited by')).toHaveText('bandwidth', { timeout: 20_000 });
  await alice.expectMediaFlowing(1);
});

test('an exported file parses, holds the call’s timeline and stats, and no secret or address', async () => {
  const { alice } = await suite.twoInACall({ alice: 'Always relay' });
  await alice.expectMediaFlowing(1);
  await alice.page.getByRole('button', { name: 'Stats' }).click();
  // A bitrate needs two samples: from then on the history has something to export.
  await expect(statValue(alice, 'Bob Berger', 'Video in / out')).toHaveText(/^\d+ kbit\/s/, { timeout: 10_000 });
  const exportAs = async (label: string) => {
    await panel(alice).getByLabel('Format').selectOption({ label });
    await panel(alice).getByRole('button', { name: 'Export diagnostics' }).click();
    await expect(panel(alice).getByRole('status').filter({ hasText: /Saved to/ })).toBeVisible();
    return readFile(alice.saved.at(-1)!, 'utf8');
  };
  const json = await exportAs('ZeroRange diagnostics (JSON)');
  const doc = DiagnosticsDocument.parse(JSON.parse(json));
  expect(doc.peers).toHaveLength(1);
  expect(doc.peers[0]!.statsHistory.length).toBeGreaterThanOrEqual(2);
  expect(doc.peers[0]!.selectedPairHistory.at(-1)).toMatchObject({ localType: 'relay' });
  expect(doc.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['signaling', 'connection', 'selected-pair']));
  expect(doc.iceServers.some((u) => u.startsWith('turns:'))).toBe(true);

  const dump = await exportAs('webrtc-internals dump');
  expect(Object.keys(JSON.parse(dump).PeerConnections)).toHaveLength(1);
  const html = await exportAs('Report (HTML)');
  expect(html).not.toMatch(/<script/i);

  const secrets = alice.joins.flatMap((j) => [
    j.roomToken,
    ...j.iceServers.flatMap((s) => [s.username, s.credential].filter((v): v is string => Boolean(v))),
  ]);
  expect(secrets.length).toBeGreaterThan(2);
  for (const [format, text] of [['json', json], ['webrtc-internals', dump], ['html', html]] as const) {
    for (const secret of secrets) expect(text.includes(secret), `${format} contains a secret`).toBe(false);
    // Addresses are masked unless the user asks for them.
    expect(text, format).not.toMatch(/\b10\.77\.0\.\d{1,3}\b/);
  }
});
