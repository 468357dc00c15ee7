import { concat, fromBase64Url, randomBytes, toBase64Url, utf8, type Bytes } from './bytes.js';

/**
 * The per-call identity key pair (ECDH P-256, private half never extractable) and the pairwise
 * channel it gives two members: ECDH → HKDF-SHA-256 → AES-GCM, for sending media keys through a
 * signaling server that must not read them.
 */

const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;
/** A raw uncompressed P-256 point is 65 bytes: 87 base64url characters. */
export const PUBLIC_KEY_CHARS = 87;

export interface Identity {
  privateKey: CryptoKey;
  /** Raw public point, base64url: what signaling carries and the group security code hashes. */
  publicKey: string;
}

export async function createIdentity(): Promise<Identity> {
  const pair = await crypto.subtle.generateKey(ECDH, false, ['deriveBits']);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: toBase64Url(raw) };
}

/** The key two members share; throws on a public key that is not a P-256 point. */
export async function pairwiseKey(self: Identity, theirPublicKey: string): Promise<CryptoKey> {
  const raw = fromBase64Url(theirPublicKey);
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('not an uncompressed P-256 public key');
  const theirs = await crypto.subtle.importKey('raw', raw, ECDH, false, []);
  const secret = await crypto.subtle.deriveBits({ name: 'ECDH', public: theirs }, self.privateKey, 256);
  const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  // Both public keys in the info, in one order, so the key is bound to this pair of identities.
  const info = utf8(['zr-e2ee-pairwise-v1', ...[self.publicKey, theirPublicKey].sort()].join('\n'));
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info }, ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** Who sends to whom and which key: a sealed key moved to another receiver or id does not open. */
function keyLabel(from: string, to: string, keyId: number): Bytes {
  return utf8(`zr-e2ee-key-v1\n${from}\n${to}\n${keyId}`);
}

export interface SealedKey {
  keyId: number;
  iv: string;
  sealed: string;
}

export async function sealKey(pairKey: CryptoKey, from: string, to: string, keyId: number, key: Bytes): Promise<SealedKey> {
  const iv = randomBytes(12);
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: keyLabel(from, to, keyId) }, pairKey, key);
  return { keyId, iv: toBase64Url(iv), sealed: toBase64Url(new Uint8Array(sealed)) };
}

/** The media key, or a thrown error when it was not sealed for us by that sender. */
export async function openKey(pairKey: CryptoKey, from: string, to: string, message: SealedKey): Promise<Bytes> {
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64Url(message.iv), additionalData: keyLabel(from, to, message.keyId) },
    pairKey,
    fromBase64Url(message.sealed),
  );
  return concat(new Uint8Array(plain));
}
