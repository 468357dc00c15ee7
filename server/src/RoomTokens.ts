import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { fingerprintKid, singleKeyring, type Keyring, type RoomTokenKey } from './cluster/keyring.js';

const ISSUER = 'zerorange-signaling';
const AUDIENCE = 'zerorange-room';

/** What a room token binds: who, which room, which signaling session, and its TURN expiry. */
export interface RoomTokenClaims {
  sub: string;
  name: string;
  room: string;
  /** Signaling session id; also the id in this session's TURN usernames. */
  sid: string;
  /** Single-use token id. */
  jti: string;
  /** When the TURN credentials issued with this token expire (unix seconds). */
  iceExp: number;
  exp: number;
}

export class RoomTokenError extends Error {
  constructor(
    readonly reason: 'expired' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'RoomTokenError';
  }
}

export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

function mac(key: RoomTokenKey, signingInput: string): Buffer {
  return createHmac('sha256', key.secret).update(signingInput).digest();
}

function sameMac(key: RoomTokenKey, signingInput: string, given: Buffer): boolean {
  const expected = mac(key, signingInput);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Short-lived HS256 tokens: the signaling server is both issuer and only verifier. Plain node:crypto,
 * synchronously: a join signs one and a socket verifies one, and a WebCrypto round trip per token
 * cost more than the HMAC itself. The header names the signing key (`kid`); the keyring can be
 * replaced at run time, so keys rotate without a restart.
 */
export class RoomTokens {
  private keyring!: Keyring;
  private byKid = new Map<string, RoomTokenKey>();
  private header = '';
  /** When this node last signed with each key (ms): a key removed sooner is still in circulation. */
  private readonly lastSigned = new Map<string, number>();

  constructor(
    keys: string | Keyring,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.setKeyring(typeof keys === 'string' ? singleKeyring(keys) : keys);
  }

  get keys(): Keyring {
    return this.keyring;
  }

  /** Replaces the keys; tokens signed with a key no longer listed are refused from now on. */
  setKeyring(keyring: Keyring): void {
    const byKid = new Map<string, RoomTokenKey>();
    // A key also answers to its fingerprint, the id it had as a lone `roomToken.secret`.
    for (const key of keyring.keys) byKid.set(fingerprintKid(key.secret), key);
    for (const key of keyring.keys) byKid.set(key.kid, key);
    this.byKid = byKid;
    this.keyring = keyring;
    this.header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: keyring.signer.kid })).toString('base64url');
  }

  /** When this node last issued a token signed with `kid` (ms), if it did. */
  lastSignedWith(kid: string): number | undefined {
    return this.lastSigned.get(kid);
  }

  async issue(input: { sub: string; name: string; room: string; sid: string; iceExp: number }): Promise<{
    token: string;
    claims: RoomTokenClaims;
  }> {
    const iat = Math.floor(this.now() / 1000);
    const claims: RoomTokenClaims = {
      sub: input.sub,
      name: input.name,
      room: input.room,
      sid: input.sid,
      jti: randomId(),
      iceExp: input.iceExp,
      exp: iat + this.ttlSeconds,
    };
    const payload = Buffer.from(
      JSON.stringify({ name: claims.name, room: claims.room, sid: claims.sid, iceExp: claims.iceExp, iss: ISSUER, aud: AUDIENCE, sub: claims.sub, jti: claims.jti, iat, exp: claims.exp }),
    ).toString('base64url');
    const signingInput = `${this.header}.${payload}`;
    const signer = this.keyring.signer;
    this.lastSigned.set(signer.kid, this.now());
    return { token: `${signingInput}.${mac(signer, signingInput).toString('base64url')}`, claims };
  }

  async verify(token: string): Promise<RoomTokenClaims> {
    const invalid = (why: string) => new RoomTokenError('invalid', `room token is invalid (${why})`);
    const parts = token.split('.');
    if (parts.length !== 3) throw invalid('not a compact JWS');
    const [h, p, sig] = parts as [string, string, string];
    let header: unknown;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    } catch {
      throw invalid('bad header');
    }
    // Only HS256: never `none`, never an algorithm the token picks for itself.
    if (typeof header !== 'object' || header === null || (header as { alg?: unknown }).alg !== 'HS256' || (header as { crit?: unknown }).crit !== undefined) {
      throw invalid('algorithm');
    }
    const kid = (header as { kid?: unknown }).kid;
    if (kid !== undefined && typeof kid !== 'string') throw invalid('key id');
    const given = Buffer.from(sig, 'base64url');
    if (kid === undefined) {
      // Issued by a server from before key ids (during an upgrade): any listed key may have signed it.
      if (!this.keyring.keys.some((key) => sameMac(key, `${h}.${p}`, given))) throw invalid('signature');
    } else {
      const key = this.byKid.get(kid);
      if (!key) throw invalid('unknown key');
      if (!sameMac(key, `${h}.${p}`, given)) throw invalid('signature');
    }
    let c: Record<string, unknown>;
    try {
      c = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw invalid('bad payload');
    }
    if (typeof c !== 'object' || c === null) throw invalid('bad payload');
    if (c.iss !== ISSUER || c.aud !== AUDIENCE) throw invalid('issuer or audience');
    if (typeof c.sub !== 'string' || typeof c.jti !== 'string' || typeof c.exp !== 'number') throw invalid('missing claims');
    if (typeof c.room !== 'string' || typeof c.sid !== 'string' || typeof c.name !== 'string' || typeof c.iceExp !== 'number') {
      throw new RoomTokenError('invalid', 'room token lacks its claims');
    }
    if (Math.floor(this.now() / 1000) >= c.exp) throw new RoomTokenError('expired', 'room token has expired');
    return { sub: c.sub, name: c.name, room: c.room, sid: c.sid, jti: c.jti, iceExp: c.iceExp, exp: c.exp };
  }
}
