import { concat, utf8, type Bytes } from './bytes.js';

/**
 * SFrame-style frame encryption (after RFC 9605, simplified): every encoded frame is sealed with
 * AES-GCM under its sender's current media key, so a forwarding server carries frames it cannot read.
 *
 * Frame layout:  clear header | ciphertext | GCM tag (16) | counter (8, big-endian) | clear length (1) | key id (1)
 *
 * - The key id lets a receiver pick the right key while keys rotate; it and the counter travel in the
 *   clear, and with the clear header they are the GCM additional data, so changing any of them is caught.
 * - The IV is the key's salt XOR the counter. Each key has one counter shared by every outgoing stream
 *   (one FrameEncryptor per worker), starting at 0 for each new key: an IV never repeats under a key.
 * - What stays in the clear is only what a forwarding server or the receiver's depacketizer reads
 *   before decryption. Janus's VideoRoom (1.1, `janus_vp8_is_keyframe` and the simulcast context)
 *   reads, for VP8: the RTP payload descriptor (PictureID, TL0PICIDX, TID; written by the sender's
 *   packetizer outside the encoded frame, so never touched here), and from the frame itself the
 *   payload header: the frame tag's P bit (byte 0) and, on key frames, the start code 9d 01 2a and the
 *   width and height (bytes 3–9). Chromium's VP8 depacketizer reads the same bytes. So a VP8 key frame
 *   keeps 10 bytes clear, a delta frame 3 (the frame tag), as Jitsi does. Opus: nothing (the audio
 *   level a server reads for the active speaker is an RTP header extension, outside the frame).
 */

export const KEY_BYTES = 32;
const TAG_BYTES = 16;
const SALT_BYTES = 12;
const TRAILER_BYTES = 10;
/** How far ahead of the newest key a receiver ratchets by itself (a sender ratchets once per join). */
export const RATCHET_WINDOW = 8;
/** Keys kept per sender: the current one and a few before it, for frames still in flight. */
export const KEYS_KEPT = 4;
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

export type MediaKind = 'audio' | 'video';

/** Bytes at the start of a frame that stay readable (see above). */
export function clearByteCount(kind: MediaKind, isKeyFrame: boolean, length: number): number {
  if (kind === 'audio') return 0;
  return Math.min(isKeyFrame ? 10 : 3, length);
}

/** What one media key (32 random or ratcheted bytes) expands to. */
export interface FrameKey {
  keyId: number;
  base: Bytes;
  aes: CryptoKey;
  salt: Bytes;
}

async function hkdf(base: Bytes, info: string, bits: number): Promise<Bytes> {
  const ikm = await crypto.subtle.importKey('raw', base, 'HKDF', false, ['deriveBits']);
  const out = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: utf8('zr-sframe-v1'), info: utf8(info) }, ikm, bits);
  return new Uint8Array(out);
}

export async function deriveFrameKey(keyId: number, base: Bytes): Promise<FrameKey> {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 255) throw new Error('a key id is 0–255');
  if (base.length !== KEY_BYTES) throw new Error(`a media key is ${KEY_BYTES} bytes`);
  const [keyBytes, salt] = await Promise.all([hkdf(base, 'key', 128), hkdf(base, 'salt', SALT_BYTES * 8)]);
  const aes = await crypto.subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { keyId, base, aes, salt };
}

/** The next key in a sender's chain: anyone with this key can compute the next, nobody the one before. */
export function ratchet(base: Bytes): Promise<Bytes> {
  return hkdf(base, 'ratchet', KEY_BYTES * 8);
}

export function nextKeyId(keyId: number): number {
  return (keyId + 1) & 0xff;
}

function ivFor(salt: Bytes, counterBytes: Uint8Array): Bytes {
  const iv = salt.slice();
  for (let i = 0; i < 8; i += 1) iv[SALT_BYTES - 8 + i]! ^= counterBytes[i]!;
  return iv;
}

function counterBytes(counter: number): Bytes {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
  return out;
}

/** Seals outgoing frames under the current send key; one per worker, shared by every outgoing stream. */
export class FrameEncryptor {
  private key: FrameKey | null = null;
  private counter = 0;

  get keyId(): number | null {
    return this.key?.keyId ?? null;
  }

  async setKey(keyId: number, base: Bytes): Promise<void> {
    const key = await deriveFrameKey(keyId, base);
    // Swapped together, after the await: a new key always starts a new counter.
    this.key = key;
    this.counter = 0;
  }

  /** The sealed frame, or null while there is no key (nothing may go out in the clear). */
  async encrypt(data: Uint8Array, clearBytes: number): Promise<Bytes | null> {
    const key = this.key;
    if (!key) return null;
    if (this.counter >= MAX_COUNTER) throw new Error('frame counter exhausted: rotate the key');
    // Taken before any await, so frames sealed concurrently never share a counter.
    const counter = counterBytes(this.counter++);
    const clear = data.subarray(0, clearBytes);
    const trailer = concat(counter, Uint8Array.of(clear.length, key.keyId));
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: ivFor(key.salt, counter), additionalData: concat(clear, trailer), tagLength: TAG_BYTES * 8 },
      key.aes,
      data.subarray(clearBytes).slice(),
    );
    return concat(clear, new Uint8Array(sealed), trailer);
  }
}

export type DecryptResult =
  | { ok: true; data: Bytes; keyId: number }
  | { ok: false; reason: 'malformed' | 'no-key' | 'rejected' };

/** Opens incoming frames with the keys each sender gave us. */
export class FrameDecryptor {
  /** Per sender, keys by id in the order they were set (the last is the newest). */
  private readonly senders = new Map<string, Map<number, FrameKey>>();

  async setKey(participant: string, keyId: number, base: Bytes): Promise<void> {
    this.store(participant, await deriveFrameKey(keyId, base));
  }

  private store(participant: string, key: FrameKey): void {
    const keys = this.senders.get(participant) ?? new Map<number, FrameKey>();
    keys.delete(key.keyId);
    keys.set(key.keyId, key);
    while (keys.size > KEYS_KEPT) keys.delete(keys.keys().next().value!);
    this.senders.set(participant, keys);
  }

  /** A participant who left: nothing from them opens any more. */
  removeParticipant(participant: string): void {
    this.senders.delete(participant);
  }

  hasKeys(participant: string): boolean {
    return (this.senders.get(participant)?.size ?? 0) > 0;
  }

  async decrypt(participant: string, data: Uint8Array): Promise<DecryptResult> {
    if (data.length < TAG_BYTES + TRAILER_BYTES) return { ok: false, reason: 'malformed' };
    const keyId = data[data.length - 1]!;
    const clearLength = data[data.length - 2]!;
    const trailerAt = data.length - TRAILER_BYTES;
    if (clearLength + TAG_BYTES > trailerAt) return { ok: false, reason: 'malformed' };
    const keys = this.senders.get(participant);
    if (!keys || keys.size === 0) return { ok: false, reason: 'no-key' };
    const known = keys.get(keyId);
    const key = known ?? (await this.ratchetedTo(keys, keyId));
    if (!key) return { ok: false, reason: 'no-key' };
    const clear = data.subarray(0, clearLength);
    const counter = data.subarray(trailerAt, trailerAt + 8);
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: ivFor(key.salt, counter), additionalData: concat(clear, data.subarray(trailerAt)), tagLength: TAG_BYTES * 8 },
        key.aes,
        data.slice(clearLength, trailerAt),
      );
      // A ratcheted key is kept only once a frame proved it (a fresh random key may share its id).
      if (!known && this.senders.get(participant) === keys) this.store(participant, key);
      return { ok: true, data: concat(clear, new Uint8Array(plain)), keyId };
    } catch {
      return { ok: false, reason: 'rejected' };
    }
  }

  /** The sender ratcheted after someone joined: derive its key from the newest one we have, a few steps at most. */
  private async ratchetedTo(keys: Map<number, FrameKey>, keyId: number): Promise<FrameKey | null> {
    const newest = [...keys.values()].at(-1)!;
    const steps = (keyId - newest.keyId) & 0xff;
    if (steps < 1 || steps > RATCHET_WINDOW) return null;
    let base = newest.base;
    for (let i = 0; i < steps; i += 1) base = await ratchet(base);
    return deriveFrameKey(keyId, base);
  }
}
