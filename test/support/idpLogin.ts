/**
 * Test helper: signs a user in at an OpenID Provider (normally the dev IdP from `dev/idp.ts`) the way the
 * desktop app does, i.e. authorization code + PKCE (S256) with a loopback redirect URI, using openid-client
 * for everything protocol-related. The "system browser" is plain `fetch` with a tiny cookie jar that follows
 * redirects by hand and submits the IdP's login form. The final redirect to
 * `http://127.0.0.1:<port>/callback?...` is captured from the Location header; nothing listens there.
 */
import * as client from 'openid-client';
import { DEV_IDP_SCOPES } from '../../dev/idp.js';

export interface IdpRef {
  issuer: string;
  clientId: string;
  audience: string;
  /** Scopes to request when `opts.scope` is not given; default: the dev IdP's scopes. */
  scopes?: string[];
}

export interface LoginOptions {
  /** Space-separated scope; default `idp.scopes` (or the dev IdP's scopes). */
  scope?: string;
  /** Loopback redirect URI to use; default `http://127.0.0.1:<random port>/callback`. */
  redirectUri?: string;
}

export interface IdpTokens {
  accessToken: string;
  refreshToken?: string;
  idToken: string;
  /** Seconds, as returned by the token endpoint. */
  expiresIn: number;
  scope?: string;
  tokenType: string;
  /** Decoded (not separately verified) ID token claims, as validated by openid-client. */
  idTokenClaims: Record<string, unknown>;
}

/** Thrown when the browser part of the flow does not reach the redirect URI (e.g. wrong password). */
export class IdpLoginError extends Error {
  constructor(
    message: string,
    /** HTTP status of the last response the "browser" got. */
    readonly status: number,
    /** Body of the last response (the re-shown login form, an error page, ...). */
    readonly body: string,
    /** URL of the last response. */
    readonly url: string,
  ) {
    super(message);
    this.name = 'IdpLoginError';
  }
}

/** openid-client configuration for the desktop (public, native) client; plain http is allowed for loopback. */
export async function discoverIdp(idp: IdpRef): Promise<client.Configuration> {
  return client.discovery(new URL(idp.issuer), idp.clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
}

export async function loginWithPassword(
  idp: IdpRef,
  user: { username: string; password: string },
  opts: LoginOptions = {},
): Promise<IdpTokens> {
  const config = await discoverIdp(idp);
  const scope = opts.scope ?? (idp.scopes ?? DEV_IDP_SCOPES).join(' ');
  const redirectUri = opts.redirectUri ?? `http://127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}/callback`;

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();

  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    resource: idp.audience,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const browser = new MiniBrowser();
  const isCallback = (url: URL): boolean => {
    const expected = new URL(redirectUri);
    return url.origin === expected.origin && url.pathname === expected.pathname;
  };

  // 1. Follow the authorization request to the login form.
  let page = await browser.navigate(authorizationUrl, { stopAt: isCallback });
  if (page.kind === 'redirect') {
    throw new IdpLoginError('redirected to the app before any login form was shown', 302, '', page.location.href);
  }
  const action = findFormAction(page.body, /\/login$/);
  if (!action) {
    throw new IdpLoginError('no login form on the page', page.status, page.body, page.url.href);
  }

  // 2. Submit the credentials and follow redirects (consent is automatic) until the loopback redirect URI.
  page = await browser.navigate(new URL(action, page.url), {
    stopAt: isCallback,
    method: 'POST',
    form: new URLSearchParams({ username: user.username, password: user.password }),
  });
  if (page.kind !== 'redirect') {
    throw new IdpLoginError('login did not redirect to the app', page.status, page.body, page.url.href);
  }
  const callbackUrl = page.location;
  const callbackError = callbackUrl.searchParams.get('error');
  if (callbackError) {
    throw new IdpLoginError(
      `authorization error: ${callbackError} ${callbackUrl.searchParams.get('error_description') ?? ''}`.trim(),
      303,
      '',
      callbackUrl.href,
    );
  }

  // 3. Exchange the code (openid-client checks iss, state, PKCE and the ID token incl. nonce).
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return toIdpTokens(tokens);
}

/**
 * The system browser's part of the app's own sign-in: follows `authorizationUrl` (as the app opened
 * it), submits the login form, and delivers the code to the app's loopback redirect listener.
 * `fetchImpl` is the browser's network, kept apart from the app's in tests that watch the app's.
 */
export async function completeLoginInBrowser(
  authorizationUrl: string,
  user: { username: string; password: string },
  fetchImpl?: typeof fetch,
): Promise<void> {
  const start = new URL(authorizationUrl);
  const redirect = new URL(start.searchParams.get('redirect_uri') ?? '');
  const browser = new MiniBrowser(fetchImpl);
  const isCallback = (url: URL) => url.origin === redirect.origin && url.pathname === redirect.pathname;
  const form = await browser.navigate(start, { stopAt: isCallback });
  const action = form.kind === 'page' ? findFormAction(form.body, /\/login$/) : null;
  if (form.kind !== 'page' || !action) throw new Error('no login form on the identity provider page');
  const done = await browser.navigate(new URL(action, form.url), {
    stopAt: isCallback,
    method: 'POST',
    form: new URLSearchParams({ username: user.username, password: user.password }),
  });
  if (done.kind !== 'redirect') throw new Error('the login did not redirect to the app');
  const res = await (fetchImpl ?? fetch)(done.location);
  await res.body?.cancel();
}

export type RefreshedTokens = Omit<IdpTokens, 'idToken' | 'idTokenClaims'> & {
  idToken?: string;
  idTokenClaims?: Record<string, unknown>;
};

/** Uses a refresh token at the token endpoint; returns the new tokens (incl. the rotated refresh token). */
export async function refreshTokens(idp: IdpRef, refreshToken: string): Promise<RefreshedTokens> {
  const config = await discoverIdp(idp);
  return toTokens(await client.refreshTokenGrant(config, refreshToken));
}

function toIdpTokens(tokens: TokenResponse): IdpTokens {
  const result = toTokens(tokens);
  if (!result.idToken || !result.idTokenClaims) throw new Error('no id_token in token response');
  return { ...result, idToken: result.idToken, idTokenClaims: result.idTokenClaims };
}

type TokenResponse = Awaited<ReturnType<typeof client.authorizationCodeGrant>>;

function toTokens(tokens: TokenResponse): RefreshedTokens {
  if (typeof tokens.expires_in !== 'number') throw new Error('no expires_in in token response');
  const claims = tokens.claims();
  return {
    accessToken: tokens.access_token,
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
    ...(claims ? { idTokenClaims: { ...claims } } : {}),
    expiresIn: tokens.expires_in,
    ...(tokens.scope ? { scope: tokens.scope } : {}),
    tokenType: tokens.token_type,
  };
}

// ---------------------------------------------------------------------------------------------------------

type PageResult =
  | { kind: 'page'; status: number; url: URL; body: string }
  | { kind: 'redirect'; location: URL };

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expiresAt?: number;
}

/** Just enough of a browser for one origin: cookies (name/path/expiry) and manual redirect following. */
class MiniBrowser {
  private cookies: StoredCookie[] = [];

  constructor(private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init)) {}

  async navigate(
    start: URL,
    opts: { stopAt: (url: URL) => boolean; method?: 'GET' | 'POST'; form?: URLSearchParams },
  ): Promise<PageResult> {
    let url = start;
    let method = opts.method ?? 'GET';
    let body: URLSearchParams | undefined = opts.form;
    for (let hop = 0; hop < 20; hop += 1) {
      if (opts.stopAt(url)) return { kind: 'redirect', location: url };
      const headers: Record<string, string> = { accept: 'text/html' };
      const cookie = this.cookieHeader(url);
      if (cookie) headers.cookie = cookie;
      if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await this.fetchImpl(url, {
        method,
        headers,
        redirect: 'manual',
        ...(body ? { body: body.toString() } : {}),
      });
      this.store(url, res.headers.getSetCookie());
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        url = new URL(location, url);
        // 303 (and, as browsers do, 301/302 after POST) turn into GET.
        if (res.status !== 307 && res.status !== 308) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      return { kind: 'page', status: res.status, url, body: await res.text() };
    }
    throw new Error(`too many redirects starting at ${start.href}`);
  }

  private cookieHeader(url: URL): string {
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expiresAt === undefined || c.expiresAt > now);
    return this.cookies
      .filter((c) => pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie: StoredCookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        path: defaultPath(url.pathname),
      };
      for (const attr of attrs) {
        const [rawKey = '', ...rest] = attr.split('=');
        const key = rawKey.trim().toLowerCase();
        const value = rest.join('=').trim();
        if (key === 'path' && value.startsWith('/')) cookie.path = value;
        if (key === 'expires') {
          const at = Date.parse(value);
          if (!Number.isNaN(at)) cookie.expiresAt = at;
        }
        if (key === 'max-age') cookie.expiresAt = Date.now() + Number(value) * 1000;
      }
      this.cookies = this.cookies.filter((c) => !(c.name === cookie.name && c.path === cookie.path));
      if (cookie.expiresAt === undefined || cookie.expiresAt > Date.now()) this.cookies.push(cookie);
    }
  }
}

function defaultPath(pathname: string): string {
  const idx = pathname.lastIndexOf('/');
  return idx <= 0 ? '/' : pathname.slice(0, idx);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** The `action` of the first POST form whose action matches `pattern` (HTML entities in it decoded). */
export function findFormAction(html: string, pattern: RegExp): string | undefined {
  for (const m of html.matchAll(/<form\b[^>]*\baction="([^"]*)"[^>]*>/gi)) {
    const action = decodeEntities(m[1] ?? '');
    if (pattern.test(action)) return action;
  }
  return undefined;
}

function decodeEntities(value: string): string {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
