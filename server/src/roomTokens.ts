import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

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

/** Short-lived HS256 tokens: the signaling server is both issuer and only verifier. */
export class RoomTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = new TextEncoder().encode(secret);
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
    const token = await new SignJWT({ name: claims.name, room: claims.room, sid: claims.sid, iceExp: claims.iceExp })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(iat)
      .setExpirationTime(claims.exp)
      .sign(this.key);
    return { token, claims };
  }

  async verify(token: string): Promise<RoomTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'jti', 'exp'],
      });
      const p = payload as Record<string, unknown>;
      if (typeof p.room !== 'string' || typeof p.sid !== 'string' || typeof p.name !== 'string' || typeof p.iceExp !== 'number') {
        throw new RoomTokenError('invalid', 'room token lacks its claims');
      }
      return {
        sub: payload.sub!,
        name: p.name,
        room: p.room,
        sid: p.sid,
        jti: payload.jti!,
        iceExp: p.iceExp,
        exp: payload.exp!,
      };
    } catch (err) {
      if (err instanceof RoomTokenError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new RoomTokenError('expired', 'room token has expired');
      throw new RoomTokenError('invalid', 'room token is invalid');
    }
  }
}

/** Remembers used token ids until they expire, so each room token opens one session only. */
export class ReplayGuard {
  private readonly used = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True the first time a jti is seen; false for a replay. */
  claim(jti: string, expiresAtSeconds: number): boolean {
    this.sweep();
    if (this.used.has(jti)) return false;
    this.used.set(jti, expiresAtSeconds * 1000);
    return true;
  }

  get size(): number {
    return this.used.size;
  }

  private sweep(): void {
    const now = this.now();
    // Map iteration is insertion order and tokens share one TTL, so expiries are nearly sorted.
    for (const [jti, exp] of this.used) {
      if (exp > now) break;
      this.used.delete(jti);
    }
  }
}
