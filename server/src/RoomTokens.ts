import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

/**
 * Short-lived HS256 tokens: the signaling server is both issuer and only verifier. Plain node:crypto,
 * synchronously: a join signs one and a socket verifies one, and a WebCrypto round trip per token
 * cost more than the HMAC itself.
 */
export class RoomTokens {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = Buffer.from(secret, 'utf8');
  }

  private mac(signingInput: string): Buffer {
    return createHmac('sha256', this.key).update(signingInput).digest();
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
    const signingInput = `${HEADER}.${payload}`;
    return { token: `${signingInput}.${this.mac(signingInput).toString('base64url')}`, claims };
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
    const expected = this.mac(`${h}.${p}`);
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('signature');
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
