/**
 * End-to-end encryption in real calls: the security code each side shows for a connection, in the
 * namespace harness of calls.spec (real stack, Chromium per client namespace). Skipped, saying why,
 * where namespaces cannot be made.
 */
import { expect, test } from '@playwright/test';
import { meshSecurityCode, sdpFingerprints } from '../../renderer/src/call/e2ee/securityCode.js';
import { useCallSuite } from '../support/callSuite.js';
import type { Participant } from '../support/callParticipant.js';

const suite = useCallSuite('e2ee.spec', 2);

/** The DTLS fingerprints of this participant's open connection, read from its descriptions. */
function fingerprints(p: Participant): Promise<{ local: string[]; remote: string[] }> {
  return p.page
    .evaluate(() => {
      const pc = (window.__zrPcs ?? []).find((c) => c.connectionState === 'connected')!;
      return { local: pc.localDescription?.sdp ?? '', remote: pc.remoteDescription?.sdp ?? '' };
    })
    .then(({ local, remote }) => ({ local: sdpFingerprints(local), remote: sdpFingerprints(remote) }));
}

test('two in a call see the same security code, derived from both DTLS fingerprints', async () => {
  const { alice, bob } = await suite.twoInACall();
  const aliceSees = alice.tile('Bob Berger').getByTestId('security-code');
  const bobSees = bob.tile('Alice Anders').getByTestId('security-code');
  await expect(aliceSees).toHaveAttribute('aria-label', /^Security code: ([A-Za-z ]+, ){7}[A-Za-z ]+$/);
  await expect(bobSees).toHaveAttribute('aria-label', /^Security code: /);
  expect(await aliceSees.getAttribute('aria-label')).toBe(await bobSees.getAttribute('aria-label'));
  expect(await aliceSees.textContent()).toBe(await bobSees.textContent());

  // Nothing in between: each side's remote fingerprint is the other's local one, and the code is theirs.
  const [a, b] = await Promise.all([fingerprints(alice), fingerprints(bob)]);
  expect(a.remote).toEqual(b.local);
  expect(b.remote).toEqual(a.local);
  const expected = await meshSecurityCode(a.local, a.remote);
  expect(await aliceSees.textContent()).toBe(expected.emoji.join(''));
  // A different certificate on one side would show another code.
  const other = await meshSecurityCode(a.local, [`sha-256 ${'00'.repeat(32)}`]);
  expect(other.emoji.join('')).not.toBe(expected.emoji.join(''));
  await expect(alice.tile('Bob Berger').getByTestId('security-code-changed')).toHaveCount(0);
});

/** Alice and Bob signed in with frame encryption on; `beforeSignIn` may route Alice's page first. */
async function encryptedCall(beforeSignIn: (alice: Participant) => Promise<void> = async () => undefined, setting = 'on') {
  const [alice, bob] = [await suite.signedOut(0), await suite.signedOut(1)];
  for (const [name, p] of [['alice', alice], ['bob', bob]] as const) {
    p.page.on('console', (m) => m.type() === 'warning' && pageWarnings.push(`${name}: ${m.text()}`));
  }
  await beforeSignIn(alice);
  for (const p of [alice, bob]) await p.page.evaluate((value) => localStorage.setItem('zr.frameEncryption', value), setting);
  await alice.signIn(suite.stack(), 'alice');
  await bob.signIn(suite.stack(), 'bob');
  const link = await alice.createRoom();
  await bob.openLink(link);
  await alice.joinCall();
  await bob.joinCall();
  return { alice, bob };
}

/** What the pages warned about (end-to-end encryption problems among them), for a failure's message. */
const pageWarnings: string[] = [];

/** Runs a test body; a failure carries the pages' warnings. */
async function withWarnings(body: () => Promise<void>): Promise<void> {
  pageWarnings.length = 0;
  try {
    await body();
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- page warnings ---\n${pageWarnings.join('\n')}`, { cause: err });
  }
}

/**
 * Whether every sender and receiver of the open connections has the frame transform: a script
 * transform, or (the older API) encoded streams taken, which leaves no trace but the configuration.
 */
function transformed(p: Participant, api: 'RTCRtpScriptTransform' | 'createEncodedStreams'): Promise<boolean> {
  return p.page.evaluate((api) => {
    const pcs = (window.__zrPcs ?? []).filter((pc) => pc.connectionState === 'connected');
    const ok = (pc: RTCPeerConnection) =>
      api === 'RTCRtpScriptTransform'
        ? pc.getTransceivers().every((t) => t.sender.transform != null && t.receiver.transform != null)
        : (pc.getConfiguration() as { encodedInsertableStreams?: boolean }).encodedInsertableStreams === true;
    return pcs.length > 0 && pcs.every(ok);
  }, api);
}

for (const [api, setting] of [['RTCRtpScriptTransform', 'on'], ['createEncodedStreams', 'encoded-streams']] as const) {
  test(`frame encryption on both sides (${api}): the worker loads under the CSP and video decodes through it`, () => withWarnings(async () => {
    const { alice, bob } = await encryptedCall(undefined, setting);
    await expect.poll(() => transformed(alice, api)).toBe(true);
    await expect.poll(() => transformed(bob, api)).toBe(true);
    await alice.expectMediaFlowing(1);
    await bob.expectMediaFlowing(1);
    const before = await alice.media();
    await expect.poll(async () => (await alice.media()).framesDecoded, { timeout: 10_000 }).toBeGreaterThan(before.framesDecoded + 30);
    await expect(alice.tile('Bob Berger').getByTestId('undecryptable')).toHaveCount(0);
    await expect(bob.tile('Alice Anders').getByTestId('undecryptable')).toHaveCount(0);
  }));
}

test('a receiver whose key was spoiled on the way sees a tile that says so, not a frozen picture', () => withWarnings(async () => {
  const { alice, bob } = await encryptedCall(async (alice) => {
    // A test-only relay in the middle: media keys sent to Alice arrive damaged.
    await alice.page.routeWebSocket(/.*/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        const text = typeof m === 'string' ? m : m.toString('utf8');
        const msg = JSON.parse(text) as { type: string; data?: { kind: string; sealed?: string } };
        if (msg.type === 'signal' && msg.data?.kind === 'e2ee-key') msg.data.sealed = `${msg.data.sealed![0] === 'A' ? 'B' : 'A'}${msg.data.sealed!.slice(1)}`;
        ws.send(JSON.stringify(msg));
      });
    });
    await alice.page.reload();
  });
  const bobOnAlice = alice.tile('Bob Berger');
  await expect(bobOnAlice.getByTestId('undecryptable')).toHaveText("Can't decrypt Bob Berger's audio and video", { timeout: 15_000 });
  // The avatar covers the video element; Bob's frames reach Alice's worker and are refused there.
  await expect(bobOnAlice.locator('video')).toHaveAttribute('aria-hidden', 'true');
  expect((await alice.media()).videoBytes).toBeGreaterThan(0);
  // Alice's own keys reached Bob intact: he sees and hears her.
  await bob.expectMediaFlowing(1);
  await expect(bob.tile('Alice Anders').getByTestId('undecryptable')).toHaveCount(0);
}));
