/**
 * OpenID Connect for the desktop app (a native public client): authorization code + PKCE (S256) with
 * `state` and `nonce`, a loopback redirect (RFC 8252), refresh, revocation and RP-initiated logout.
 * Protocol work is openid-client's; this module adds the loopback listener, timeouts and typed errors.
 */
import * as client from 'openid-client';
import type { DesktopErrorCode, UserInfo } from '../../../shared/ipc/desktopApi.js';
import type { ClientConfig } from '../../../shared/protocol/http.js';
import { insecureAllowed, type LinkRules } from '../../../shared/links.js';
import { LoopbackRedirectError, startLoopbackRedirect } from './loopbackRedirect.js';

export type AuthErrorCode = Extract<
  DesktopErrorCode,
  'sign-in-cancelled' | 'sign-in-timeout' | 'sign-in-failed' | 'server-unreachable' | 'not-signed-in' | 'busy'
>;

/** Every failure of this module and of AuthSession; `message` is fit to show the user. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
  }
}

/** A discovered IdP plus this app's client registration (openid-client's Configuration). */
export type OidcClient = client.Configuration;

export interface TokenSet {
  accessToken: string;
  /** Seconds, as issued; null when the IdP did not say. */
  expiresIn: number | null;
  refreshToken: string | null;
  idToken: string | null;
  /** Claims of the (validated) ID token in this response, if there was one. */
  claims: client.IDToken | null;
}

export type OpenExternal = (url: string) => Promise<void>;

const HTTP_TIMEOUT_SECONDS = 15;

/**
 * How the main process makes HTTP requests: Electron's net.fetch in the app (system proxies and PAC
 * files apply), Node's fetch only where a test passes it.
 */
export type HttpFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Discovers the IdP. Every later request of the returned client (token, JWKS, revocation) goes
 * through `opts.fetch` too: openid-client keeps the customFetch given here.
 */
export async function discover(config: ClientConfig, opts: LinkRules & { fetch?: HttpFetch }): Promise<OidcClient> {
  const issuer = new URL(config.issuer);
  const insecure = issuer.protocol === 'http:';
  // Plain http only for a development IdP, and only when the app allows it.
  if (insecure && !insecureAllowed(issuer.hostname, opts)) {
    throw new AuthError('sign-in-failed', `The identity provider ${issuer.origin} does not use HTTPS.`);
  }
  try {
    return await client.discovery(issuer, config.clientId, undefined, client.None(), {
      timeout: HTTP_TIMEOUT_SECONDS,
      ...(opts.fetch ? { [client.customFetch]: opts.fetch } : {}),
      ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
    });
  } catch (err) {
    throw toAuthError(err, 'sign-in');
  }
}

export interface SignInOptions {
  client: OidcClient;
  config: ClientConfig;
  /** Opens the system browser (Electron's shell.openExternal). */
  openExternal: OpenExternal;
  /** How long the user has to finish in the browser; default 5 minutes. */
  timeoutMs?: number;
  /** Aborting cancels the attempt: AuthError 'sign-in-cancelled'. */
  signal?: AbortSignal;
}

export async function signIn(opts: SignInOptions): Promise<TokenSet> {
  const { signal } = opts;
  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const listener = await startLoopbackRedirect({
    path: '/callback',
    expectedState: state,
    timeoutMs: opts.timeoutMs ?? 5 * 60_000,
    ...(signal ? { signal } : {}),
  }).catch((err: unknown) => Promise.reject(loopbackToAuthError(err)));
  try {
    const url = client.buildAuthorizationUrl(opts.client, {
      redirect_uri: listener.redirectUri,
      scope: opts.config.scopes.join(' '),
      resource: opts.config.audience,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    // The browser call may resolve long before (or, in tests, after) the redirect: only its failure counts.
    const opened = Promise.resolve(url.href).then((href) => opts.openExternal(href)).then(
      () => new Promise<never>(() => undefined),
      (err: unknown) => {
        throw new AuthError('sign-in-failed', 'Could not open the browser to sign in.', { cause: err });
      },
    );
    opened.catch(() => undefined);
    const callback = await Promise.race([listener.result, opened]).catch((err: unknown) =>
      Promise.reject(loopbackToAuthError(err)),
    );
    let tokens: TokenSet;
    try {
      const response = await client.authorizationCodeGrant(
        opts.client,
        callback,
        { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
        { resource: opts.config.audience },
      );
      tokens = toTokenSet(response);
    } catch (err) {
      throw toAuthError(err, 'sign-in');
    }
    // Cancelled while the code was being exchanged: the user asked not to be signed in.
    if (signal?.aborted) throw new AuthError('sign-in-cancelled', 'Sign-in was cancelled.');
    return tokens;
  } finally {
    await listener.close();
  }
}

/** Refresh grant (with the resource, so the access token keeps its audience). Refresh tokens may rotate. */
export async function refresh(oidc: OidcClient, config: ClientConfig, refreshToken: string): Promise<TokenSet> {
  try {
    return toTokenSet(await client.refreshTokenGrant(oidc, refreshToken, { resource: config.audience }));
  } catch (err) {
    throw toAuthError(err, 'refresh');
  }
}

export type RevocationResult = 'revoked' | 'unsupported' | 'failed';

/**
 * RFC 7009 revocation, best effort. 'unsupported' when the IdP advertises no endpoint or refuses the
 * token type (JWT access tokens usually cannot be revoked; they expire instead).
 */
export async function revokeToken(
  oidc: OidcClient,
  token: string,
  hint: 'refresh_token' | 'access_token',
): Promise<RevocationResult> {
  if (!oidc.serverMetadata().revocation_endpoint) return 'unsupported';
  try {
    await client.tokenRevocation(oidc, token, { token_type_hint: hint });
    return 'revoked';
  } catch (err) {
    return err instanceof client.ResponseBodyError && err.error === 'unsupported_token_type' ? 'unsupported' : 'failed';
  }
}

export interface EndSessionOptions {
  client: OidcClient;
  idToken: string | null;
  openExternal: OpenExternal;
  /** How long to wait for openExternal before giving up on it; default 3 s. */
  openTimeoutMs?: number;
  /** How long the logout listener waits for the browser to come back; default 2 minutes. */
  listenMs?: number;
  /** Send post_logout_redirect_uri (the IdP must accept loopback URIs on any port); default true. */
  postLogoutRedirect?: boolean;
}

export interface EndSessionHandle {
  url: string;
  /** True once the browser came back to the logout listener; false on timeout or close. */
  returned: Promise<boolean>;
  /** Closes the logout listener (e.g. when the app quits). */
  close(): Promise<void>;
}

/**
 * RP-initiated logout: opens the IdP's end_session endpoint in the browser. Resolves once the browser
 * was asked to open (bounded by openTimeoutMs), not when the user confirms; null when the IdP has no
 * end_session endpoint.
 */
export async function endSession(opts: EndSessionOptions): Promise<EndSessionHandle | null> {
  if (!opts.client.serverMetadata().end_session_endpoint) return null;
  const params: Record<string, string> = {};
  if (opts.idToken) params.id_token_hint = opts.idToken;
  let listener: Awaited<ReturnType<typeof startLoopbackRedirect>> | null = null;
  if (opts.postLogoutRedirect ?? true) {
    const state = client.randomState();
    listener = await startLoopbackRedirect({
      path: '/logout-callback',
      expectedState: state,
      timeoutMs: opts.listenMs ?? 2 * 60_000,
      successMessage: 'You are signed out of ZeroRange. You can close this tab.',
    }).catch(() => null);
    if (listener) Object.assign(params, { post_logout_redirect_uri: listener.redirectUri, state });
  }
  const url = client.buildEndSessionUrl(opts.client, params).href;
  const returned = listener ? listener.result.then(() => true, () => false) : Promise.resolve(false);
  const asked = Promise.resolve(url).then((href) => opts.openExternal(href)).then(() => true, () => false);
  const opened = await withTimeout(asked, opts.openTimeoutMs ?? 3_000);
  if (opened === false) await listener?.close();
  return { url, returned, close: async () => listener?.close() };
}

function toTokenSet(response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): TokenSet {
  return {
    accessToken: response.access_token,
    expiresIn: typeof response.expires_in === 'number' ? response.expires_in : null,
    refreshToken: response.refresh_token ?? null,
    idToken: response.id_token ?? null,
    claims: response.claims() ?? null,
  };
}

function loopbackToAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof LoopbackRedirectError) {
    if (err.reason === 'timeout') {
      return new AuthError('sign-in-timeout', 'Sign-in took too long. Try again.', { cause: err });
    }
    return new AuthError('sign-in-cancelled', 'Sign-in was cancelled.', { cause: err });
  }
  return new AuthError('sign-in-failed', 'Could not wait for the browser to return to ZeroRange.', { cause: err });
}

/** Maps openid-client failures to what the user can act on. Never puts a token in a message. */
export function toAuthError(err: unknown, during: 'sign-in' | 'refresh'): AuthError {
  if (err instanceof AuthError) return err;
  if (isUnreachable(err)) {
    return new AuthError('server-unreachable', 'The identity provider could not be reached.', { cause: err });
  }
  if (err instanceof client.AuthorizationResponseError) {
    return new AuthError(
      'sign-in-failed',
      `The identity provider refused the sign-in: ${err.error_description ?? err.error} (${err.error}).`,
      { cause: err },
    );
  }
  if (err instanceof client.ResponseBodyError) {
    const detail = `${err.error_description ?? err.error} (${err.error})`;
    return during === 'refresh'
      ? new AuthError('not-signed-in', `The session has ended; sign in again. ${detail}`, { cause: err })
      : new AuthError('sign-in-failed', `The identity provider rejected the sign-in: ${detail}`, { cause: err });
  }
  const what = err instanceof Error ? err.message : String(err);
  return new AuthError('sign-in-failed', `Sign-in failed: ${what}.`, { cause: err });
}

function isUnreachable(err: unknown): boolean {
  // undici: TypeError('fetch failed', { cause: ECONNREFUSED … }); openid-client wraps timeouts in ClientError.
  if (err instanceof TypeError && err.message === 'fetch failed') return true;
  // Electron's net.fetch: Error('net::ERR_CONNECTION_REFUSED'), ERR_PROXY_CONNECTION_FAILED, ERR_NAME_NOT_RESOLVED …
  if (err instanceof Error && err.message.startsWith('net::ERR_')) return true;
  if (err instanceof client.ClientError) {
    if (err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || err.code === 'OAUTH_RESPONSE_IS_NOT_JSON') return true;
    const cause = err.cause;
    return cause instanceof DOMException && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
  }
  return false;
}


/** UserInfo from ID token claims; null without a subject. */
export function userFromClaims(claims: Record<string, unknown>): UserInfo | null {
  const str = (key: string): string | null => {
    const value = claims[key];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const sub = str('sub');
  if (!sub) return null;
  const username = str('preferred_username');
  const email = str('email');
  return { sub, name: str('name') ?? username ?? email ?? sub, email, username };
}

/** Resolves undefined after `ms` if `promise` has not settled by then. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
