import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** Who a verified access token speaks for; only what room policy and tiles need. */
export interface Identity {
  sub: string;
  name: string;
  email?: string;
  groups: string[];
}

export type AuthFailure =
  | 'missing-token'
  | 'malformed-token'
  | 'algorithm-not-allowed'
  | 'bad-signature'
  | 'unknown-key'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'missing-claim'
  | 'unsupported-token'
  | 'idp-unavailable';

export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: string[];
  clockToleranceSeconds: number;
  /** Overrides the jwks_uri from discovery. */
  jwksUri?: string;
  fetch?: typeof fetch;
  /** After a JWKS fetch, no other for this long (an unknown kid within it is refused). Default 30 s. */
  jwksCooldownMs?: number;
}

export interface TokenVerifier {
  /** Discovers the IdP (once; retried on the next call after a failure). */
  ready(): Promise<void>;
  isReady(): boolean;
  verify(token: string | undefined): Promise<Identity>;
}

function stringArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

function identityFrom(payload: JWTPayload): Identity {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new AuthError('missing-claim', 'token has no sub');
  }
  const claims = payload as Record<string, unknown>;
  const name = [claims.name, claims.preferred_username, claims.email].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  // An address the IdP says is unverified must not satisfy an email-domain rule.
  const email = typeof claims.email === 'string' && claims.email_verified !== false ? claims.email : undefined;
  return {
    sub: payload.sub,
    name: (name ?? payload.sub).slice(0, 128),
    ...(email ? { email } : {}),
    groups: stringArray(claims.groups ?? claims.roles),
  };
}

/** Maps jose's errors to stable reasons for audit logs and metrics. */
function classify(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof joseErrors.JWTExpired) return new AuthError('expired', 'token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return new AuthError('wrong-issuer', 'token was issued by another issuer');
    if (err.claim === 'aud') return new AuthError('wrong-audience', 'token is not for this server');
    if (err.claim === 'nbf' || err.claim === 'iat') return new AuthError('not-yet-valid', 'token is not valid yet');
    return new AuthError('missing-claim', `token claim ${err.claim} is invalid`);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError('algorithm-not-allowed', 'token algorithm is not allowed');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError('bad-signature', 'token signature is invalid');
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new AuthError('unknown-key', 'token was signed by an unknown key');
  // The token asks for something we do not do (an unknown `crit` extension, an algorithm or key
  // type jose cannot use): the token is invalid, the identity provider is fine.
  if (err instanceof joseErrors.JOSENotSupported) return new AuthError('unsupported-token', 'token uses an unsupported feature');
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return new AuthError('malformed-token', 'token is malformed');
  }
  return new AuthError('malformed-token', 'token could not be verified');
}

/** A failure to fetch the IdP's keys, as opposed to anything the token itself caused. */
class KeysUnavailable extends Error {}

/**
 * Only a failed key fetch (timeout, network, a non-200 or unparsable JWKS) is an IdP outage;
 * a key the token names but the set lacks is the token's problem.
 */
function keyFetchFailed(err: unknown): boolean {
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return true;
  if (err instanceof joseErrors.JOSEError) return err.code === 'ERR_JOSE_GENERIC';
  return err instanceof Error;
}

/**
 * Verifies the IdP's JWT access tokens: signature by the issuer's published keys (cached, and
 * refetched when an unknown key id appears, which follows key rotation), iss, aud, exp/nbf.
 */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const fetchImpl = opts.fetch ?? fetch;
  const issuer = opts.issuer;
  let jwks: JWTVerifyGetKey | undefined;
  let pending: Promise<void> | undefined;

  async function discover(): Promise<void> {
    let jwksUri = opts.jwksUri;
    if (!jwksUri) {
      const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const res = await fetchImpl(url, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`discovery at ${url} answered ${res.status}`);
      const meta = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (meta.issuer !== issuer) throw new Error(`discovery names issuer ${String(meta.issuer)}, expected ${issuer}`);
      if (typeof meta.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
      jwksUri = meta.jwks_uri;
    }
    const remote = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: 5000,
      cooldownDuration: opts.jwksCooldownMs ?? 30_000,
      cacheMaxAge: 10 * 60_000,
    });
    jwks = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        if (keyFetchFailed(err)) throw new KeysUnavailable('identity provider keys are unavailable', { cause: err });
        throw err;
      }
    };
  }

  function ready(): Promise<void> {
    if (jwks) return Promise.resolve();
    pending ??= discover().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  }

  return {
    ready,
    isReady: () => jwks !== undefined,
    async verify(token) {
      if (!token) throw new AuthError('missing-token', 'no access token');
      if (token.split('.').length !== 3) throw new AuthError('malformed-token', 'token is not a JWS compact JWT');
      try {
        await ready();
      } catch {
        throw new AuthError('idp-unavailable', 'identity provider discovery failed');
      }
      try {
        const { payload } = await jwtVerify(token, jwks!, {
          issuer,
          audience: opts.audience,
          algorithms: opts.algorithms,
          clockTolerance: opts.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        });
        // jose checks iat only against a maximum age; a token from the future is forged or from a bad clock.
        if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + opts.clockToleranceSeconds) {
          throw new AuthError('not-yet-valid', 'token was issued in the future');
        }
        return identityFrom(payload);
      } catch (err) {
        if (err instanceof KeysUnavailable) throw new AuthError('idp-unavailable', err.message);
        throw classify(err);
      }
    },
  };
}
