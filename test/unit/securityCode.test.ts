import { describe, expect, it } from 'vitest';
import { CODE_EMOJI, groupSecurityCode, meshSecurityCode, sameCode, sdpFingerprints } from '../../renderer/src/call/e2ee/securityCode.js';

const FP_A = 'sha-256 ' + 'A1'.repeat(32);
const FP_B = 'sha-256 ' + 'B2'.repeat(32);
const FP_M = 'sha-256 ' + 'B3'.repeat(32);

const sdp = (hex: string) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 ${hex.match(/../g)!.join(':').toLowerCase()}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 ${hex.match(/../g)!.join(':')}\r\n`;

describe('call security code', () => {
  it('reads the DTLS fingerprint from an SDP, normalised (one for the session and its BUNDLE media)', () => {
    expect(sdpFingerprints(sdp('A1'.repeat(32)))).toEqual([FP_A]);
    expect(sdpFingerprints('v=0\r\n')).toEqual([]);
  });

  it('is the same on both sides of a connection, 8 emoji with their words', async () => {
    const alice = await meshSecurityCode([FP_A], [FP_B]);
    const bob = await meshSecurityCode([FP_B], [FP_A]);
    expect(alice).toEqual(bob);
    expect(alice.emoji).toHaveLength(8);
    for (const [i, e] of alice.emoji.entries()) expect(CODE_EMOJI.find(([x]) => x === e)?.[1]).toBe(alice.words[i]);
  });

  it('differs when either fingerprint differs (a relay in the middle with its own certificate)', async () => {
    const honest = await meshSecurityCode([FP_A], [FP_B]);
    expect(sameCode(honest, await meshSecurityCode([FP_A], [FP_M]))).toBe(false);
    expect(sameCode(honest, await meshSecurityCode([FP_M], [FP_B]))).toBe(false);
    // What each side sees with a relay in the middle: Alice–relay and relay–Bob.
    expect(sameCode(await meshSecurityCode([FP_A], [FP_M]), await meshSecurityCode([FP_B], [FP_M]))).toBe(false);
  });

  it('SFU form: the same for every member in any order, different when one key is swapped or a member joins', async () => {
    const keys = ['BAAA', 'BCCC', 'BDDD'].map((k) => k.padEnd(87, 'x'));
    const a = await groupSecurityCode(keys);
    expect(await groupSecurityCode([...keys].reverse())).toEqual(a);
    expect(sameCode(a, await groupSecurityCode([keys[0]!, keys[1]!, 'BEEE'.padEnd(87, 'x')]))).toBe(false);
    expect(sameCode(a, await groupSecurityCode([...keys, 'BFFF'.padEnd(87, 'x')]))).toBe(false);
    expect(sameCode(a, await groupSecurityCode(keys.slice(0, 2)))).toBe(false);
  });

  it('refuses what cannot make a code', async () => {
    await expect(meshSecurityCode([], [FP_B])).rejects.toThrow(/fingerprint/);
    await expect(groupSecurityCode(['only-one'])).rejects.toThrow(/two members/);
    await expect(groupSecurityCode(['same', 'same'])).rejects.toThrow(/twice/);
    expect(() => sdpFingerprints('a=fingerprint:sha-256 ABC\r\n')).toThrow(/fingerprint/);
  });

  it('spreads over all 64 emoji', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 64; i += 1) for (const e of (await meshSecurityCode([FP_A], [`sha-256 ${i.toString(16).padStart(64, '0')}`])).emoji) seen.add(e);
    expect(seen.size).toBeGreaterThan(60);
  });
});
