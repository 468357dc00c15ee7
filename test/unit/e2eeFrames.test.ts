import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../renderer/src/call/e2ee/bytes.js';
import { clearByteCount, FrameDecryptor, FrameEncryptor, KEYS_KEPT, ratchet } from '../../renderer/src/call/e2ee/frameCrypto.js';

const KEY = randomBytes(32);
/** A VP8 key frame: frame tag, start code, 640x360, then compressed data. */
const keyFrame = () => Uint8Array.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, ...randomBytes(200)]);

async function pair(keyId = 1, key = KEY) {
  const enc = new FrameEncryptor();
  const dec = new FrameDecryptor();
  await enc.setKey(keyId, key);
  await dec.setKey('alice', keyId, key);
  return { enc, dec };
}

describe('frame encryption', () => {
  it('round trip: a VP8 key frame keeps its 10 header bytes readable and the rest sealed', async () => {
    const { enc, dec } = await pair();
    const frame = keyFrame();
    const sealed = (await enc.encrypt(frame, clearByteCount('video', true, frame.length)))!;
    expect([...sealed.subarray(0, 10)]).toEqual([...frame.subarray(0, 10)]);
    // The compressed data is not in the sealed frame (a 16-byte window of it would show).
    expect(Buffer.from(sealed).includes(Buffer.from(frame.subarray(20, 36)))).toBe(false);
    expect(sealed.length).toBe(frame.length + 16 + 10);
    const opened = await dec.decrypt('alice', sealed);
    expect(opened.ok && [...opened.data]).toEqual([...frame]);
  });

  it('what stays clear: 10 bytes of a VP8 key frame, 3 of a delta frame, nothing of Opus', () => {
    expect(clearByteCount('video', true, 500)).toBe(10);
    expect(clearByteCount('video', false, 500)).toBe(3);
    expect(clearByteCount('video', true, 2)).toBe(2);
    expect(clearByteCount('audio', false, 80)).toBe(0);
  });

  it('an audio frame is sealed whole and opens again', async () => {
    const { enc, dec } = await pair();
    const frame = randomBytes(80);
    const sealed = (await enc.encrypt(frame, 0))!;
    expect(Buffer.from(sealed).includes(Buffer.from(frame.subarray(0, 16)))).toBe(false);
    const opened = await dec.decrypt('alice', sealed);
    expect(opened.ok && [...opened.data]).toEqual([...frame]);
  });

  it('fails on a wrong key', async () => {
    const { enc } = await pair();
    const dec = new FrameDecryptor();
    await dec.setKey('alice', 1, randomBytes(32));
    expect(await dec.decrypt('alice', (await enc.encrypt(keyFrame(), 10))!)).toEqual({ ok: false, reason: 'rejected' });
  });

  it('nothing goes out before there is a key', async () => {
    expect(await new FrameEncryptor().encrypt(keyFrame(), 10)).toBeNull();
  });

  it('detects tampering with the sealed data, the clear header, the counter and the key id', async () => {
    const { enc, dec } = await pair();
    const sealed = (await enc.encrypt(keyFrame(), 10))!;
    for (const at of [40, 4, sealed.length - 5, sealed.length - 2]) {
      const bad = sealed.slice();
      bad[at]! ^= 0x01;
      expect((await dec.decrypt('alice', bad)).ok, `byte ${at}`).toBe(false);
    }
    expect((await dec.decrypt('alice', sealed.subarray(0, 20))).ok).toBe(false);
    expect((await dec.decrypt('alice', sealed)).ok).toBe(true);
  });

  it('never repeats an IV under one key, across streams sealing at once; a new key starts afresh', async () => {
    const { enc } = await pair();
    const frames = await Promise.all(Array.from({ length: 200 }, () => enc.encrypt(randomBytes(30), 0)));
    const counters = new Set(frames.map((f) => Buffer.from(f!.subarray(f!.length - 10, f!.length - 2)).toString('hex')));
    expect(counters.size).toBe(200);
    await enc.setKey(2, randomBytes(32));
    const next = (await enc.encrypt(randomBytes(30), 0))!;
    expect(next.at(-1)).toBe(2);
    expect(Buffer.from(next.subarray(next.length - 10, next.length - 2)).toString('hex')).toBe('0000000000000000');
  });

  it('picks the key by the id in the trailer while keys rotate', async () => {
    const { enc, dec } = await pair(1);
    const old = (await enc.encrypt(keyFrame(), 10))!;
    const fresh = randomBytes(32);
    await enc.setKey(2, fresh);
    await dec.setKey('alice', 2, fresh);
    const now = (await enc.encrypt(keyFrame(), 10))!;
    expect((await dec.decrypt('alice', old)).ok).toBe(true);
    expect(await dec.decrypt('alice', now)).toMatchObject({ ok: true, keyId: 2 });
  });

  it('refuses frames under a removed key: a participant removed, or a key pushed out by newer ones', async () => {
    const { enc, dec } = await pair(1);
    const first = (await enc.encrypt(keyFrame(), 10))!;
    for (let id = 2; id <= KEYS_KEPT + 1; id += 1) await dec.setKey('alice', id, randomBytes(32));
    expect(await dec.decrypt('alice', first)).toEqual({ ok: false, reason: 'no-key' });
    const { enc: enc2, dec: dec2 } = await pair(7);
    const frame = (await enc2.encrypt(keyFrame(), 10))!;
    dec2.removeParticipant('alice');
    expect(await dec2.decrypt('alice', frame)).toEqual({ ok: false, reason: 'no-key' });
  });

  it('a receiver ratchets forward by itself, never backward', async () => {
    const { enc, dec } = await pair(1);
    const k2 = await ratchet(KEY);
    const k3 = await ratchet(k2);
    await enc.setKey(3, k3);
    const ahead = (await enc.encrypt(keyFrame(), 10))!;
    expect(await dec.decrypt('alice', ahead)).toMatchObject({ ok: true, keyId: 3 });
    // A newcomer who got key 3 cannot open frames sealed under key 1.
    const newcomer = new FrameDecryptor();
    await newcomer.setKey('alice', 3, k3);
    const { enc: before } = await pair(1);
    expect((await newcomer.decrypt('alice', (await before.encrypt(keyFrame(), 10))!)).ok).toBe(false);
  });
});
