/**
 * Chaos under a running call, on the namespace harness (see calls.spec): coturn restarted or killed,
 * the IdP down, TURN credentials expiring, a client's address changing, a client clock off. Each case
 * measures media continuity (bytes and frames keep growing, no tile lost) and leaves the stack healthy
 * for the next one, even when it fails.
 *
 * The stack issues TURN credentials for 45 s (a development-only lifetime; production's minimum is
 * 600 s) and pushes fresh ones 30 s before expiry, so credentials expire within a test's time.
 */
import { expect, test } from '@playwright/test';
import type { Participant } from '../support/callParticipant.js';
import { useCallSuite } from '../support/callSuite.js';
import { TurnClient } from '../support/stunClient.js';

const TURN_TTL_SECONDS = 45;
const suite = useCallSuite('chaos.spec', 4, { turnTtlSeconds: TURN_TTL_SECONDS });

/** Frames, video and audio bytes all beyond an earlier reading, on `peers` open connections. */
async function expectMediaBeyond(p: Participant, before: Awaited<ReturnType<Participant['media']>>, peers: number, timeoutMs: number, frames = 30): Promise<void> {
  let last = before;
  try {
    await expect
      .poll(async () => {
        last = await p.media();
        return last.peers >= peers && last.framesDecoded > before.framesDecoded + frames && last.videoBytes > before.videoBytes && last.audioBytes > before.audioBytes;
      }, { timeout: timeoutMs })
      .toBe(true);
  } catch (err) {
    const states = await p.page.evaluate(() => (window.__zrPcs ?? []).map((pc) => `${pc.connectionState}/${pc.iceConnectionState}/${pc.iceGatheringState}/${pc.signalingState}`));
    const screen = await p.page.locator('main').innerText().catch(() => '(no page)');
    throw new Error(`media did not grow beyond ${JSON.stringify(before)} (last ${JSON.stringify(last)}); peer connections ${JSON.stringify(states)}\n--- screen ---\n${screen}`, { cause: err });
  }
}

/** Media keeps growing on both sides and every tile is still there. */
async function expectCallIntact(alice: Participant, bob: Participant, timeoutMs = 15_000): Promise<void> {
  await expect(alice.tile('Bob Berger')).toBeVisible();
  await expect(bob.tile('Alice Anders')).toBeVisible();
  await Promise.all([alice.expectMediaFlowing(1, timeoutMs), bob.expectMediaFlowing(1, timeoutMs)]);
}

/** Seconds since the epoch at which a coturn REST username (`<expiry>:<id>`) expires. */
const expiryOf = (username: string) => Number(username.split(':')[0]);
/** True once the connection carries TURN credentials other than `previous` (none at all is not fresh). */
const freshUsername = (current: { username: string }[], previous: string) => current.length > 0 && current[0]!.username !== previous;

for (const [signal, policy] of [
  ['SIGTERM', 'Relay over TLS 443 only'],
  ['SIGKILL', 'Always relay'],
] as const) {
  test(`coturn ${signal === 'SIGTERM' ? 'restarted' : 'killed and started again'} under a relay-only call (${policy}): an ICE restart recovers within 15 s of it being back`, async () => {
    test.setTimeout(90_000);
    const { alice, bob } = await suite.twoInACall({ alice: policy, bob: policy });
    await expectCallIntact(alice, bob);
    const [ufragBefore] = await alice.iceUfrags();
    await suite.stack().restartTurn(signal);
    const back = await alice.media();
    // The relay allocations died with coturn: only a new ICE session (new ufrag) over a new one brings media back.
    await expectMediaBeyond(alice, back, 1, 15_000);
    expect((await alice.iceUfrags())[0]).not.toBe(ufragBefore);
    const [path] = await alice.paths();
    expect(path?.localType).toBe('relay');
    await expectCallIntact(alice, bob);
  });
}

test('the IdP down: the call goes on, a person already signed in can still join, a sign-in says the IdP is unreachable and works once it is back', async () => {
  test.setTimeout(90_000);
  const stack = suite.stack();
  const alice = await suite.participant(0, 'alice');
  const bob = await suite.participant(1, 'bob');
  const carol = await suite.participant(2, 'carol');
  const dave = await suite.signedOut(3);
  const link = await alice.createRoom();
  await bob.openLink(link);
  await alice.joinCall();
  await bob.joinCall();
  await expectCallIntact(alice, bob);
  try {
    await stack.setIdpUp(false);
    const during = await alice.media();

    // A sign-in needs the IdP: the user is told it is the identity provider, not their network.
    await dave.connect(stack);
    await dave.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const error = dave.page.getByRole('alert');
    await expect(error).toContainText(/identity provider/i);
    await expect(error).not.toContainText(/firewall|network administrator|your network|TCP 443/i);

    // The signaling server verifies access tokens with the IdP's keys it already fetched, so a person
    // signed in before the outage still joins (what users expect: the call is not the IdP's business).
    await carol.openLink(link);
    await carol.joinCall();
    await expect(alice.tile('Carol Castro')).toBeVisible();
    await carol.expectMediaFlowing(2);

    // The call in progress never noticed.
    await expectMediaBeyond(alice, during, 2, 15_000);
    await expect(alice.tile('Bob Berger')).toBeVisible();
  } finally {
    await stack.setIdpUp(true);
  }
  // Back up: the same button now works.
  const backAt = Date.now();
  await dave.signInAs(stack, 'bob', { timeoutMs: 30_000 });
  console.log(`chaos: sign-in after the IdP came back took ${Date.now() - backAt} ms`);
  await expectCallIntact(alice, bob);
});

test('TURN credentials expire mid-call: the pushed ones are applied, and a relay re-allocation after expiry uses them', async () => {
  test.setTimeout(150_000);
  const { alice, bob } = await suite.twoInACall({ alice: 'Always relay', bob: 'Always relay' });
  await expectCallIntact(alice, bob);
  const [first] = await alice.turnCredentials();
  expect(first).toBeDefined();
  // The server pushes fresh credentials before these expire; the app applies them to its connection.
  await expect
    .poll(async () => freshUsername(await alice.turnCredentials(), first!.username), { timeout: TURN_TTL_SECONDS * 1000, message: 'fresh TURN credentials applied' })
    .toBe(true);
  const turn = suite.stack().info.turn;
  if (!turn.enabled) throw new Error('TURN is off');
  const allocateWith = async (c: { username: string; credential: string }) => {
    const probe = await TurnClient.connect({ transport: 'udp', host: turn.host, port: turn.port });
    try {
      return await probe.allocate({ username: c.username, password: c.credential });
    } finally {
      await probe.close();
    }
  };
  // Now the first ones expire, as coturn sees it: the condition is coturn's own answer, not our clock.
  await expect
    .poll(async () => { const r = await allocateWith(first!); return r.ok ? 'granted' : r.code; }, { timeout: TURN_TTL_SECONDS * 1000 + 10_000, intervals: [1000] })
    .toBe(401);
  // The control: the credentials the app holds now are accepted.
  expect(await allocateWith((await alice.turnCredentials())[0]!)).toMatchObject({ ok: true });
  await expectCallIntact(alice, bob);

  // A restart drops every allocation: the app must re-allocate, which only the fresh credentials can
  // (coturn refuses the first ones, above). coturn's own log does not show usernames here: it is
  // block-buffered into its file.
  const before = await alice.media();
  await suite.stack().restartTurn('SIGTERM');
  await expectMediaBeyond(alice, before, 1, 20_000);
  expect((await alice.paths())[0]?.localType).toBe('relay');
  const current = await alice.turnCredentials();
  expect(current.length).toBeGreaterThan(0);
  expect(current.every((c) => expiryOf(c.username) > Date.now() / 1000)).toBe(true);
  await expectCallIntact(alice, bob);
});

test('a client’s address changes mid-call: the call moves to the new address and media flows again', async () => {
  test.setTimeout(90_000);
  const { alice, bob } = await suite.twoInACall();
  await expectCallIntact(alice, bob);
  const original = suite.net().clients[0]!.ip;
  const [before] = await alice.paths();
  expect(before?.pairId).toBeTruthy();
  try {
    await suite.net().readdressClient(0, '10.77.0.31');
    // ICE follows by itself: its checks now leave from the new address, which the other side answers as
    // a peer-reflexive candidate (Chromium does not show a local prflx address). Were the path lost
    // instead, the app would restart ICE once it is disconnected. Either way the pair moves off the
    // old address, and media with it.
    await expect
      .poll(async () => {
        const [now] = await alice.paths();
        return now !== undefined && now.pairId !== before!.pairId && now.address !== original;
      }, { timeout: 30_000, message: 'the selected pair moves off the old address' })
      .toBe(true);
    await expectMediaBeyond(bob, await bob.media(), 1, 15_000);
    await expectMediaBeyond(alice, await alice.media(), 1, 15_000);
    await expectCallIntact(alice, bob);
  } finally {
    if (suite.net().clients[0]!.ip !== original) await suite.net().readdressClient(0, original);
  }
});

test('client clocks two minutes ahead and behind: the call connects, media flows, fresh TURN credentials are applied', async () => {
  test.setTimeout(90_000);
  const alice = await suite.participant(0, 'alice');
  const bob = await suite.participant(1, 'bob');
  await alice.shiftClock(120_000);
  await bob.shiftClock(-120_000);
  const skew = (p: Participant) => p.page.evaluate(() => Date.now()).then((t) => Math.round((t - Date.now()) / 1000));
  expect(await skew(alice)).toBeGreaterThanOrEqual(119);
  expect(await skew(bob)).toBeLessThanOrEqual(-119);
  const link = await alice.createRoom();
  await bob.openLink(link);
  await alice.joinCall('Always relay');
  await bob.joinCall();
  await expectCallIntact(alice, bob);
  // Expiries come from the server's clock; a wrong client clock must not refuse or drop them.
  const [aliceFirst] = await alice.turnCredentials();
  const [bobFirst] = await bob.turnCredentials();
  for (const [name, p, first] of [['alice (ahead)', alice, aliceFirst], ['bob (behind)', bob, bobFirst]] as const) {
    expect(first, name).toBeDefined();
    await expect
      .poll(async () => freshUsername(await p.turnCredentials(), first!.username), { timeout: TURN_TTL_SECONDS * 1000, message: `fresh TURN credentials applied for ${name}` })
      .toBe(true);
  }
  await expectCallIntact(alice, bob);
});
