import { createHash } from 'node:crypto';

/** One room-token signing key. */
export interface RoomTokenKey {
  kid: string;
  secret: Buffer;
  /** Listed so that every node accepts its tokens before any node issues them (rotation step 1). */
  verifyOnly: boolean;
}

/**
 * The keys a node signs and verifies room tokens with. Newest first: the first key not marked
 * verify-only signs; every listed key verifies.
 */
export interface Keyring {
  readonly signer: RoomTokenKey;
  readonly keys: readonly RoomTokenKey[];
}

export class KeyringError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'KeyringError';
  }
}

export const KID = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_SECRET = 32;
const MAX_KEYS = 8;

/**
 * The key id of a single `roomToken.secret`: a fingerprint, so the same secret later listed in a
 * keys file under any name still verifies the tokens issued before the move. Domain-separated
 * SHA-256 reveals nothing about a 32-character secret that its tokens' signatures do not.
 */
export function fingerprintKid(secret: string | Buffer): string {
  return `fp-${createHash('sha256').update('zerorange room-token kid\0').update(secret).digest().subarray(0, 9).toString('base64url')}`;
}

/** A keyring of the one configured `roomToken.secret`. */
export function singleKeyring(secret: string): Keyring {
  const key: RoomTokenKey = { kid: fingerprintKid(secret), secret: Buffer.from(secret, 'utf8'), verifyOnly: false };
  return { signer: key, keys: [key] };
}

function parseLine(line: string, where: string, problems: string[]): RoomTokenKey | null {
  const fields = line.split(/\s+/);
  const [kid, secret, flag, ...rest] = fields;
  if (!kid || !secret || rest.length > 0 || (flag !== undefined && flag !== 'verify-only')) {
    problems.push(`${where}: expected "<key id> <secret>" or "<key id> <secret> verify-only"`);
    return null;
  }
  if (!KID.test(kid)) problems.push(`${where}: key id "${kid}" must be 1-64 letters, digits, ., _ or -`);
  else if (kid.startsWith('fp-')) problems.push(`${where}: key ids starting with "fp-" are reserved`);
  if (secret.length < MIN_SECRET) problems.push(`${where}: the secret of "${kid}" must be at least ${MIN_SECRET} characters (e.g. \`openssl rand -base64 32\`)`);
  return { kid, secret: Buffer.from(secret, 'utf8'), verifyOnly: flag === 'verify-only' };
}

/**
 * Parses a keys file: one key per line, `<key id> <secret> [verify-only]`, newest first, `#`
 * comments. Every problem is reported with its line number; secrets never appear in a message.
 */
export function parseKeyring(text: string, source: string): Keyring {
  const problems: string[] = [];
  const keys: RoomTokenKey[] = [];
  const kids = new Set<string>();
  const secrets = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `${source} line ${i + 1}`;
    const key = parseLine(line, where, problems);
    if (!key) return;
    if (kids.has(key.kid)) problems.push(`${where}: key id "${key.kid}" is listed twice`);
    const twin = secrets.get(key.secret.toString('base64'));
    if (twin) problems.push(`${where}: "${key.kid}" has the same secret as "${twin}"`);
    kids.add(key.kid);
    secrets.set(key.secret.toString('base64'), key.kid);
    keys.push(key);
  });
  if (keys.length > MAX_KEYS) problems.push(`${source}: at most ${MAX_KEYS} keys (remove keys whose tokens have expired)`);
  const signer = keys.find((k) => !k.verifyOnly);
  if (!signer && keys.length > 0) problems.push(`${source}: every key is verify-only; one must sign`);
  if (keys.length === 0 && problems.length === 0) problems.push(`${source}: no keys (one per line: "<key id> <secret> [verify-only]")`);
  if (problems.length > 0 || !signer) throw new KeyringError(problems);
  return { signer, keys };
}

/** What changed between two keyrings, by key id: for the reload's log line. */
export function keyringChanges(before: Keyring, after: Keyring): { added: string[]; removed: string[]; signer: string; signerChanged: boolean } {
  const had = new Set(before.keys.map((k) => k.kid));
  const has = new Set(after.keys.map((k) => k.kid));
  return {
    added: [...has].filter((k) => !had.has(k)),
    removed: [...had].filter((k) => !has.has(k)),
    signer: after.signer.kid,
    signerChanged: before.signer.kid !== after.signer.kid,
  };
}
