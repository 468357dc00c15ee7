import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../renderer/src/call/e2ee/bytes.js';
import { FrameDecryptor, FrameEncryptor } from '../../renderer/src/call/e2ee/frameCrypto.js';
import { KeyAgreement, type E2eeSignal } from '../../renderer/src/call/e2ee/KeyAgreement.js';
import { groupSecurityCode, sameCode } from '../../renderer/src/call/e2ee/securityCode.js';
import { SignalData } from '../../shared/protocol/signal.js';
import { FakeClock } from '../support/fakeClock.js';

/**
 * Fake members on a fake signaling relay: each has its key agreement, the encryptor its sends go
 * through and the decryptor of what others send it, as the frame worker holds them.
 */
interface Member {
  id: string;
  keys: KeyAgreement;
  enc: FrameEncryptor;
  dec: FrameDecryptor;
  errors: string[];
}

let clock: FakeClock;
let room: Map<string, Member>;
let inFlight: Promise<void>[];
/** Lets a test rewrite what the relay carries (a man in the middle). */
let tamper: (from: string, to: string, data: E2eeSignal) => E2eeSignal;

afterEach(() => {
  for (const m of room.values()) m.keys.close();
});

function reset(): void {
  clock = new FakeClock();
  room = new Map();
  inFlight = [];
  tamper = (_f, _t, d) => d;
}
reset();

async function member(id: string): Promise<Member> {
  const enc = new FrameEncryptor();
  const dec = new FrameDecryptor();
  const errors: string[] = [];
  const m: Member = {
    id, enc, dec, errors,
    keys: await KeyAgreement.create({
      selfId: id,
      clock,
      rotationDelayMs: 1000,
      send: (to, data) => {
        // Every message passes the shared schema, as the hub would check it.
        const checked = SignalData.parse(tamper(id, to, data)) as E2eeSignal;
        const target = room.get(to);
        if (target) inFlight.push(Promise.resolve().then(() => target.keys.handle(id, checked)));
      },
      onSendKey: (keyId, key) => inFlight.push(enc.setKey(keyId, key)),
      onReceiveKey: (from, keyId, key) => inFlight.push(dec.setKey(from, keyId, key)),
      onError: (_peer, message) => errors.push(message),
    }),
  };
  return m;
}

/** Delivers every message and finishes every key change, until nothing moves. */
async function settle(): Promise<void> {
  for (let round = 0; round < 50; round += 1) {
    await Promise.all([...room.values()].map((m) => m.keys.idle()));
    const batch = inFlight.splice(0);
    if (batch.length === 0) return;
    await Promise.all(batch);
  }
  throw new Error('messages kept flowing');
}

/** Joins as the server would announce it: present members are in the welcome; they hear peer-joined. */
async function join(id: string): Promise<Member> {
  const m = await member(id);
  const others = [...room.values()];
  room.set(id, m);
  for (const other of others) {
    other.keys.peerJoined(id);
    m.keys.peerPresent(other.id);
  }
  await settle();
  return m;
}

/** A fresh room, three members joining one after another. */
async function roomOf(a: string, b: string, c: string): Promise<[Member, Member, Member]> {
  reset();
  return [await join(a), await join(b), await join(c)];
}

async function leave(id: string): Promise<void> {
  room.get(id)!.keys.close();
  room.delete(id);
  for (const other of room.values()) {
    other.keys.peerLeft(id);
    other.dec.removeParticipant(id);
  }
  await settle();
}

/** Whether `to` opens a frame `from` seals now. */
async function reads(from: Member, to: Member): Promise<boolean> {
  const frame = (await from.enc.encrypt(randomBytes(64), 3))!;
  return (await to.dec.decrypt(from.id, frame)).ok;
}

describe('key agreement', () => {
  it('members exchange identities and keys through signaling and read each other', async () => {
    reset();
    const alice = await join('alice');
    const bob = await join('bob');
    const carol = await join('carol');
    for (const [a, b] of [[alice, bob], [bob, alice], [alice, carol], [carol, alice], [bob, carol], [carol, bob]] as const) {
      expect(await reads(a, b), `${a.id} -> ${b.id}`).toBe(true);
    }
    expect([...alice.keys.identities().keys()].sort()).toEqual(['alice', 'bob', 'carol']);
    expect(alice.keys.identities().get('bob')).toBe(bob.keys.publicKey);
    expect(alice.errors).toEqual([]);
    // The SFU form of the security code: every member derives the same one from the keys they hold.
    const codes = await Promise.all([alice, bob, carol].map((m) => groupSecurityCode([...m.keys.identities().values()])));
    expect(codes[1]).toEqual(codes[0]);
    expect(codes[2]).toEqual(codes[0]);
  });

  it('someone who joins gets keys ratcheted forward: they cannot read frames from before', async () => {
    reset();
    const alice = await join('alice');
    const bob = await join('bob');
    const before = (await alice.enc.encrypt(randomBytes(64), 3))!;
    const keyIdBefore = alice.keys.sendKeyId;
    const carol = await join('carol');
    expect(alice.keys.sendKeyId).toBe(keyIdBefore + 1);
    expect((await carol.dec.decrypt('alice', before)).ok).toBe(false);
    expect((await bob.dec.decrypt('alice', before)).ok).toBe(true);
    expect(await reads(alice, carol)).toBe(true);
    expect(await reads(alice, bob)).toBe(true);
  });

  it('someone who leaves: new keys are announced, used after the delay, and the leaver cannot read them', async () => {
    const [alice, bob, carol] = await roomOf('alice', 'bob', 'carol');
    const keyIdBefore = alice.keys.sendKeyId;
    await leave('carol');
    // Announced, not yet used: frames in flight still open for everyone.
    expect(alice.keys.sendKeyId).toBe(keyIdBefore);
    expect(await reads(alice, carol)).toBe(true);
    clock.advance(1000);
    await settle();
    expect(alice.keys.sendKeyId).toBe((keyIdBefore + 1) & 0xff);
    expect(await reads(alice, bob)).toBe(true);
    expect(await reads(bob, alice)).toBe(true);
    // Carol kept every key she had, and ratchets too: the fresh random keys stay out of reach.
    expect(await reads(alice, carol)).toBe(false);
    expect(await reads(bob, carol)).toBe(false);
  });

  it('a join while a rotation is pending switches to the new key first, then ratchets it', async () => {
    const [alice, bob] = await roomOf('alice', 'bob', 'carol');
    await leave('carol');
    const dave = await join('dave');
    expect(await reads(alice, dave)).toBe(true);
    expect(await reads(alice, bob)).toBe(true);
    clock.advance(1000);
    await settle();
    expect(clock.pending).toBe(0);
    expect(await reads(alice, dave)).toBe(true);
  });

  it('a relay that rewrites a public key breaks the key exchange and changes the identity both sides see', async () => {
    reset();
    const alice = await join('alice');
    const mallory = await member('mallory');
    tamper = (from, to, data) => (from === 'bob' && to === 'alice' && data.kind === 'e2ee-identity' ? { ...data, publicKey: mallory.keys.publicKey } : data);
    const bob = await join('bob');
    expect(alice.keys.identities().get('bob')).not.toBe(bob.keys.publicKey);
    expect(await reads(bob, alice)).toBe(false);
    // Alice and Bob read their room's security code out loud: they differ.
    const [aliceCode, bobCode] = await Promise.all([alice, bob].map((m) => groupSecurityCode([...m.keys.identities().values()])));
    expect(sameCode(aliceCode!, bobCode!)).toBe(false);
    expect(alice.errors.some((e) => /could not be opened/.test(e))).toBe(true);
  });

  it('a key that comes right behind its sender’s identity waits for it', async () => {
    reset();
    const alice = await member('alice');
    const bob = await member('bob');
    // Bob's messages to Alice, captured instead of delivered.
    const toAlice: E2eeSignal[] = [];
    tamper = (from, to, data) => {
      if (from === 'bob' && to === 'alice') toAlice.push(data);
      return data;
    };
    room.set('bob', bob);
    bob.keys.peerPresent('alice');
    await bob.keys.handle('alice', { kind: 'e2ee-identity', publicKey: alice.keys.publicKey });
    await settle();
    expect(toAlice.map((d) => d.kind)).toEqual(['e2ee-identity', 'e2ee-key']);
    room.set('alice', alice);
    // Both handed over at once, as two frames read from the socket back to back.
    await Promise.all(toAlice.map((d) => alice.keys.handle('bob', d)));
    await settle();
    expect(alice.errors).toEqual([]);
    expect(await reads(bob, alice)).toBe(true);
  });

  it('refuses a malformed identity, and a key without an identity', async () => {
    reset();
    const alice = await join('alice');
    await alice.keys.handle('eve', { kind: 'e2ee-identity', publicKey: 'B'.repeat(87) });
    await alice.keys.handle('zed', { kind: 'e2ee-key', keyId: 1, iv: 'A'.repeat(16), sealed: 'A'.repeat(64) });
    expect(alice.errors).toEqual([expect.stringMatching(/identity key was refused/), expect.stringMatching(/before its sender/)]);
    expect(SignalData.safeParse({ kind: 'e2ee-identity', publicKey: 'short' }).success).toBe(false);
    expect(SignalData.safeParse({ kind: 'e2ee-key', keyId: 256, iv: 'A'.repeat(16), sealed: 'A'.repeat(64) }).success).toBe(false);
  });
});
