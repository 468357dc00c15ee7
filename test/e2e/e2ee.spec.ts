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
