/**
 * Calls end to end: the real stack (IdP, signaling, coturn with TLS on 443) in a server namespace,
 * each participant's Chromium in a client namespace of its own (Chromium never uses `lo` for host
 * candidates), fake camera and microphone, the app built by Vite with the test bridge to a real
 * DesktopService. Skipped, saying why, where namespaces cannot be made.
 */
import { expect, test } from '@playwright/test';
import { useCallSuite } from '../support/callSuite.js';

const suite = useCallSuite('calls.spec');
const participant = suite.participant;
const twoInACall = suite.twoInACall;

test('alice and bob sign in, meet by link, and receive each other’s audio and video', async () => {
  const { alice, bob } = await twoInACall();
  await expect(alice.tile('Bob Berger')).toBeVisible();
  await expect(bob.tile('Alice Anders')).toBeVisible();
  await alice.expectMediaFlowing(1);
  await bob.expectMediaFlowing(1);
  await expect(alice.tile('Bob Berger').getByTestId('encryption')).toHaveText(/^Encrypted \(DTLS-SRTP, .+\)$/);
});

const policies: [string, string | RegExp, (p: { localType: string | null; remoteType: string | null; relayProtocol: string | null; url: string | null }) => void][] = [
  // Direct: no relay on either side (without NAT a server-reflexive candidate is the host address).
  ['Auto', 'Direct', (p) => {
    expect(['host', 'srflx', 'prflx']).toContain(p.localType);
    expect(['host', 'srflx', 'prflx']).toContain(p.remoteType);
  }],
  // Relay-only promises a relay, not its transport: ICE may settle on UDP or TCP.
  ['Always relay', /^Relay (UDP|TCP|TLS 443)$/, (p) => expect(p.localType).toBe('relay')],
  ['Relay over TLS 443 only', 'Relay TLS 443', (p) => {
    expect(p.localType).toBe('relay');
    expect(p.relayProtocol).toBe('tls');
    expect(p.url).toMatch(/^turns:.+:443\b/);
  }],
];
for (const [policy, badge, check] of policies) {
  test(`${policy}: connects, and the stats and the badge show the path`, async () => {
    const { alice, bob } = await twoInACall({ alice: policy });
    await alice.expectMediaFlowing(1);
    await bob.expectMediaFlowing(1);
    const [path] = await alice.paths();
    check(path!);
    await expect(alice.tile('Bob Berger').getByTestId('path-badge')).toHaveText(badge);
  });
}

test('three in a room: a late joiner sees everyone, mute shows on the other side, leave removes the tile', async () => {
  const { alice, bob, link } = await twoInACall();
  await alice.expectMediaFlowing(1);
  const carol = await participant(2, 'carol');
  await carol.openLink(link);
  await carol.joinCall();
  for (const [p, others] of [[alice, ['Bob Berger', 'Carol Castro']], [bob, ['Alice Anders', 'Carol Castro']], [carol, ['Alice Anders', 'Bob Berger']]] as const) {
    for (const name of others) await expect(p.tile(name)).toBeVisible();
  }
  await carol.expectMediaFlowing(2);
  await alice.expectMediaFlowing(2);

  await bob.page.getByRole('button', { name: 'Mute', exact: true }).click();
  await expect(alice.tile('Bob Berger').getByText('Muted')).toBeVisible();
  await expect(carol.tile('Bob Berger').getByText('Muted')).toBeVisible();

  await carol.page.getByRole('button', { name: 'Leave call' }).click();
  await expect(alice.tile('Carol Castro')).toHaveCount(0);
  await expect(bob.tile('Carol Castro')).toHaveCount(0);
  await expect(alice.tile('Bob Berger')).toBeVisible();
});

test('the signaling server dies mid-call: media keeps flowing and both are back on signaling within 10 s', async () => {
  const { alice, bob } = await twoInACall();
  await alice.expectMediaFlowing(1);
  await bob.expectMediaFlowing(1);
  const before = await alice.media();
  suite.stack().restartSignaling();
  await expect(alice.page.getByText(/Reconnecting to the server/)).toBeVisible({ timeout: 10_000 });
  // Media does not go through signaling: it keeps arriving while the server is down and back.
  await expect.poll(async () => (await alice.media()).framesDecoded, { timeout: 10_000 }).toBeGreaterThan(before.framesDecoded + 20);
  const start = Date.now();
  await expect(alice.page.getByText(/Reconnecting to the server/)).toBeHidden({ timeout: 10_000 });
  await expect(bob.page.getByText(/Reconnecting to the server/)).toBeHidden({ timeout: 10_000 });
  expect(Date.now() - start).toBeLessThan(10_000);
  // The peer connections were kept, and signaling works again: a mute crosses over.
  expect((await alice.media()).peers).toBe(1);
  await bob.page.getByRole('button', { name: 'Mute', exact: true }).click();
  await expect(alice.tile('Bob Berger').getByText('Muted')).toBeVisible();
  await alice.expectMediaFlowing(1);
});

test('the signaling server restarts gracefully (SIGTERM) mid-call: media keeps flowing, no tile is lost, nobody is told their network is at fault', async () => {
  const { alice, bob } = await twoInACall();
  await alice.expectMediaFlowing(1);
  await bob.expectMediaFlowing(1);
  await alice.watchTile('Bob Berger');
  await bob.watchTile('Alice Anders');
  const before = await Promise.all([alice.media(), bob.media()]);
  // The first to join also made (and closed) the offer it prepared for nobody: count from here.
  const pcsBefore = await Promise.all([alice, bob].map((p) => p.page.evaluate(() => (window.__zrPcs ?? []).length)));
  const restartedAt = Date.now();
  suite.stack().restartSignaling('SIGTERM');
  await expect(alice.page.getByText(/Reconnecting to the server/)).toBeVisible({ timeout: 10_000 });
  // Both back on signaling within 10 s of the restart.
  await expect(alice.page.getByText(/Reconnecting to the server/)).toBeHidden({ timeout: 10_000 });
  await expect(bob.page.getByText(/Reconnecting to the server/)).toBeHidden({ timeout: 10_000 });
  expect(Date.now() - restartedAt).toBeLessThan(10_000);
  // The same peer connections carried media throughout: frames and bytes kept growing on both sides.
  for (const [i, p] of [alice, bob].entries()) {
    await expect.poll(async () => {
      const now = await p.media();
      return now.peers === 1 && now.framesDecoded > before[i]!.framesDecoded + 20 && now.videoBytes > before[i]!.videoBytes && now.audioBytes > before[i]!.audioBytes;
    }, { timeout: 10_000 }).toBe(true);
    expect(await p.page.evaluate(() => (window.__zrPcs ?? []).length)).toBe(pcsBefore[i]);
  }
  // Signaling works again: a mute crosses over.
  await bob.page.getByRole('button', { name: 'Mute', exact: true }).click();
  await expect(alice.tile('Bob Berger').getByText('Muted')).toBeVisible();
  for (const p of [alice, bob]) {
    const seen = await p.tileWatch();
    expect(seen, 'the other person\'s tile never disappeared').toMatchObject({ min: 1, max: 1 });
    expect(seen.blame, 'no advice blaming the network').toBeNull();
    await expect(p.page.getByRole('alert')).toHaveCount(0);
  }
});

// With a goodbye (`leave` on pagehide), and without one, as after a crash: then the server learns of
// it only from the closed socket, and the others keep or replace their connection to him.
for (const goodbye of [true, false]) {
  test(`a participant reloads mid-call${goodbye ? '' : ' without a goodbye (crash)'}: back as the same person, one tile for them, media both ways, no network advice`, async () => {
    const { alice, bob, link } = await twoInACall();
    const carol = await participant(2, 'carol');
    await carol.openLink(link);
    await carol.joinCall();
    for (const p of [alice, bob, carol]) await p.expectMediaFlowing(2);
    await alice.watchTile('Bob Berger');
    await carol.watchTile('Bob Berger');
    const clientIdOf = () => bob.page.evaluate(() => (JSON.parse(sessionStorage.getItem('zerorange.call') ?? '{}') as { clientId?: string }).clientId ?? null);
    const clientId = await clientIdOf();
    expect(clientId).not.toBeNull();
    // A capturing listener runs before the app's own and keeps it from saying goodbye.
    if (!goodbye) await bob.page.evaluate(() => window.addEventListener('pagehide', (e) => e.stopImmediatePropagation(), { capture: true }));
    await bob.page.reload();
    // The window comes back into the call by itself, as the same participant, with what it had on.
    await expect(bob.tile('Alice Anders')).toBeVisible({ timeout: 15_000 });
    await expect(bob.tile('Carol Castro')).toBeVisible();
    await expect(bob.page.getByRole('button', { name: 'Mute', exact: true })).toBeVisible();
    expect(await clientIdOf()).toBe(clientId);
    // The others see Bob (one tile) within 2 s of his return, and no ghost of him.
    for (const p of [alice, carol]) {
      await expect(p.tile('Bob Berger')).toHaveCount(1, { timeout: 2_000 });
      await expect(p.tile('Bob Berger').getByText('Away')).toHaveCount(0, { timeout: 2_000 });
    }
    // Media both ways within 10 s: Bob receives from both, and both receive from Bob again.
    await bob.expectMediaFlowing(2, 10_000);
    await alice.expectMediaFlowing(2, 10_000);
    await carol.expectMediaFlowing(2, 10_000);
    for (const p of [alice, carol]) {
      const seen = await p.tileWatch();
      console.log(`goodbye ${goodbye}: Bob's tile was absent for ${Math.round(seen.longestAbsentMs)} ms at most, away ${seen.away}`);
      expect(seen.max, 'never two tiles for Bob').toBe(1);
      // With a goodbye nobody ever sees Bob "Away". Without one, his closed socket and peer connection
      // may show him away or gone for the moment he is reloading; either way he is back as one tile.
      if (goodbye) expect(seen.away, 'no Away ghost of Bob').toBe(false);
      expect(seen.blame, 'no network advice').toBeNull();
      await expect(p.tile('Bob Berger').getByText(/Reconnecting|Connection lost/)).toHaveCount(0);
      // The old connection to Bob is closed, and there is one new one: two open, one per other person.
      expect(await p.page.evaluate(() => (window.__zrPcs ?? []).filter((pc) => pc.connectionState !== 'closed').length)).toBe(2);
    }
  });
}

test('a network that lets only TCP 443 out: Auto connects over TURN/TLS 443 within 5 s and says so', async () => {
  const alice = await participant(0, 'alice');
  const bob = await participant(1, 'bob');
  const link = await alice.createRoom();
  await bob.openLink(link);
  await suite.net().applyFirewall(0, 'restrictive', { allowTcpPorts: suite.controlPorts() });
  await bob.joinCall();
  const joinedAt = Date.now();
  await alice.joinCall();
  await expect(alice.tile('Bob Berger').getByTestId('path-badge')).toHaveText('Relay TLS 443', { timeout: 5_000 });
  expect(Date.now() - joinedAt).toBeLessThan(5_000);
  await expect(alice.page.getByRole('status').filter({ hasText: 'This network blocks UDP — calls go through TURN over TLS 443' })).toBeVisible();
  await alice.expectMediaFlowing(1);
  const [path] = await alice.paths();
  expect(path).toMatchObject({ localType: 'relay', relayProtocol: 'tls' });
  // Remembered for this network: the next call starts with relay over 443 at once.
  const state = await alice.service.getState();
  expect(state.ok && state.value.restrictiveNetwork).toBe(true);
});

test('with TLS 443 blocked too, the call fails with a clear, actionable message', async () => {
  const alice = await participant(0, 'alice');
  const bob = await participant(1, 'bob');
  const link = await alice.createRoom();
  await bob.openLink(link);
  await suite.net().applyFirewall(0, 'restrictive-no-tls', { allowTcpPorts: suite.controlPorts() });
  await bob.joinCall();
  await alice.joinCall();
  const alert = alice.page.getByRole('alert');
  // What was tried, what was blocked, and exactly what to allow.
  await expect(alert).toContainText(/UDP 3478.*TCP 3478.*TLS 443/, { timeout: 20_000 });
  await expect(alert).toContainText(/(IT team|network administrator).*10\.77\.0\.1:443/);
  await expect(alice.page.getByRole('button', { name: 'Try again' })).toBeVisible();
});
