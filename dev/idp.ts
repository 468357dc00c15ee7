/**
 * Development OpenID Provider for ZeroRange.
 *
 * An embedded `oidc-provider` instance with an in-memory adapter, a fixed set of development users and
 * one registered client: the desktop app (a native public client using the authorization code flow with
 * PKCE and a loopback redirect, RFC 8252). It issues RFC 9068 JWT access tokens (`typ: at+jwt`, ES256)
 * for the signaling server's audience; those carry `name`, `email`, `groups` and `preferred_username`
 * so the signaling server does not need to call userinfo.
 *
 * Used by `npm start` and by the integration tests. It is NOT a production identity provider: passwords
 * are fixed and documented below, all state (sessions, grants, tokens) lives in memory and is lost on
 * restart, cookie keys and (unless given) the signing key are generated per run.
 *
 * Endpoints (relative to the issuer): discovery `/.well-known/openid-configuration`, `/auth`, `/token`,
 * `/jwks`, `/me` (userinfo), `/token/revocation`, `/session/end` (RP-initiated logout), and the login
 * pages under `/interaction/<uid>` served by this module.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  expiredPage,
  loginPage,
  methodNotAllowedPage,
  notFoundPage,
  providerErrorPage,
  restartPage,
  sendHtml,
  unexpectedErrorPage,
} from './idpPages.js';
// oidc-provider ships no type declarations and @types/oidc-provider is not a dependency, so the import is
// untyped; the small part of its API used here is described by the local interfaces below. (If
// @types/oidc-provider is ever added, tsc reports this directive as unused: drop it and the casts.)
// @ts-expect-error -- TS7016: no declaration file for module 'oidc-provider'
import ProviderModule, { errors as providerErrors } from 'oidc-provider';

export interface DevUser {
  /** Stable subject identifier (`sub`). */
  sub: string;
  /** Login name typed into the login form; also the `preferred_username` claim. */
  username: string;
  /** Development password (plain text, documented, never use outside development). */
  password: string;
  name: string;
  email: string;
  groups: string[];
}

export interface DevIdp {
  /** `http://<host>:<port>` (no trailing slash). */
  issuer: string;
  port: number;
  /** Audience (`aud`) of the JWT access tokens, i.e. the resource indicator of the signaling server. */
  audience: string;
  /** client_id of the desktop app (native public client). */
  clientId: string;
  /** Scopes the desktop app should request. */
  scopes: string[];
  users: DevUser[];
  /** The private key the provider signs ID tokens and access tokens with (for tests that forge variants). */
  signingJwk: JWK;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
  /** Outage drills: stops accepting connections (and drops open ones), or listens again on the same port. */
  setListening(up: boolean): Promise<void>;
}

export interface DevIdpOptions {
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** TCP port; `0` (the default) picks an ephemeral port. */
  port?: number;
  /**
   * Access token audience and resource indicator (RFC 8707) of the signaling server; default
   * `urn:zerorange:signaling`. oidc-provider only accepts absolute URIs as resource indicators.
   */
  audience?: string;
  /** Desktop client id; default `zerorange-desktop`. */
  clientId?: string;
  /** Access token lifetime; default 300 s. */
  accessTokenTtlSeconds?: number;
  /** Users that can log in; default {@link DEV_USERS}. */
  users?: DevUser[];
  /** Private signing JWK (ES256 / P-256, must include `d`); default: generated per run. */
  signingKey?: JWK;
}

/**
 * Development users. Passwords are `<username>-dev-password`:
 *
 * | username | password              | groups          |
 * |----------|-----------------------|-----------------|
 * | alice    | `alice-dev-password`  | staff           |
 * | bob      | `bob-dev-password`    | staff, ops      |
 * | carol    | `carol-dev-password`  | guests          |
 */
export const DEV_USERS: readonly DevUser[] = Object.freeze([
  {
    sub: '7d0f3c1e-6a55-4c1b-9f59-a11ce0000001',
    username: 'alice',
    password: 'alice-dev-password',
    name: 'Alice Anders',
    email: 'alice@example.test',
    groups: ['staff'],
  },
  {
    sub: '7d0f3c1e-6a55-4c1b-9f59-b0b000000002',
    username: 'bob',
    password: 'bob-dev-password',
    name: 'Bob Berger',
    email: 'bob@example.test',
    groups: ['staff', 'ops'],
  },
  {
    sub: '7d0f3c1e-6a55-4c1b-9f59-ca7010000003',
    username: 'carol',
    password: 'carol-dev-password',
    name: 'Carol Castro',
    email: 'carol@example.test',
    groups: ['guests'],
  },
]);

/**
 * Default audience. It doubles as the RFC 8707 resource indicator the app sends (`resource=`), which
 * oidc-provider requires to be an absolute URI, hence a URN rather than a bare name like `zerorange-signaling`.
 */
export const DEV_IDP_DEFAULT_AUDIENCE = 'urn:zerorange:signaling';
export const DEV_IDP_DEFAULT_CLIENT_ID = 'zerorange-desktop';
/** Resource-server scope for the signaling API; it is what appears in the access token's `scope` claim. */
export const SIGNALING_SCOPE = 'signaling';
/** What the desktop app requests: OIDC scopes (ID token, refresh token) plus the signaling API scope. */
export const DEV_IDP_SCOPES: readonly string[] = Object.freeze([
  'openid',
  'profile',
  'email',
  'offline_access',
  SIGNALING_SCOPE,
]);

const SIGNING_ALG = 'ES256';

// ---------------------------------------------------------------------------------------------------------
// The subset of oidc-provider's API used here.

interface ProviderGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}

interface InteractionDetails {
  uid: string;
  prompt: {
    name: string;
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
  lastSubmission?: unknown;
}

interface InteractionResult {
  login?: { accountId: string; remember?: boolean };
  consent?: { grantId?: string };
  error?: string;
  error_description?: string;
}

interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionResult(
    req: IncomingMessage,
    res: ServerResponse,
    result: InteractionResult,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<string>;
  Grant: {
    new (init: { accountId: string; clientId: string }): ProviderGrant;
    find(id: string): Promise<ProviderGrant | undefined>;
  };
}

type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

const Provider = ProviderModule as unknown as ProviderConstructor;
const InvalidTarget = (providerErrors as { InvalidTarget: new (description?: string) => Error }).InvalidTarget;

/** Minimal view of the token model passed to `extraTokenClaims`. */
interface TokenLike {
  accountId?: string;
}

/** Minimal view of the client model passed to `issueRefreshToken`. */
interface ClientLike {
  grantTypeAllowed(grantType: string): boolean;
}

interface ScopedLike {
  scopes: Set<string>;
}

// ---------------------------------------------------------------------------------------------------------

export async function startDevIdp(opts: DevIdpOptions = {}): Promise<DevIdp> {
  const host = opts.host ?? '127.0.0.1';
  const audience = opts.audience ?? DEV_IDP_DEFAULT_AUDIENCE;
  if (!URL.canParse(audience) || audience.includes('#')) {
    throw new Error(`audience must be an absolute URI without a fragment (it is the resource indicator): ${audience}`);
  }
  const clientId = opts.clientId ?? DEV_IDP_DEFAULT_CLIENT_ID;
  const accessTokenTtl = opts.accessTokenTtlSeconds ?? 300;
  const users: DevUser[] = (opts.users ?? DEV_USERS).map((u) => ({ ...u, groups: [...u.groups] }));
  const scopes = [...DEV_IDP_SCOPES];

  const usersBySub = new Map(users.map((u) => [u.sub, u]));
  const usersByName = new Map(users.map((u) => [u.username, u]));

  const signingJwk = await resolveSigningKey(opts.signingKey);

  // Listen first so an ephemeral port is known before the Provider (and therefore the issuer) exists.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let provider: ProviderInstance;
  try {
    provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          redirect_uris: ['http://127.0.0.1/callback'],
          post_logout_redirect_uris: ['http://127.0.0.1/logout-callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          id_token_signed_response_alg: SIGNING_ALG,
        },
      ],
      clientDefaults: { id_token_signed_response_alg: SIGNING_ALG },
      jwks: { keys: [signingJwk] },
      cookies: {
        keys: [randomBytes(32).toString('base64url')],
      },
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      claims: {
        openid: ['sub'],
        profile: ['name', 'preferred_username', 'groups'],
        email: ['email', 'email_verified'],
      },
      // Put scope-requested claims (name, email, groups) into the ID token too, not only into userinfo.
      conformIdTokenClaims: false,
      findAccount: async (_ctx: unknown, sub: string) => {
        const user = usersBySub.get(sub);
        if (!user) return undefined;
        return {
          accountId: user.sub,
          claims: async () => ({
            sub: user.sub,
            name: user.name,
            preferred_username: user.username,
            email: user.email,
            email_verified: true,
            groups: [...user.groups],
          }),
        };
      },
      extraTokenClaims: async (_ctx: unknown, token: TokenLike) => {
        const user = token.accountId ? usersBySub.get(token.accountId) : undefined;
        if (!user) return undefined;
        return {
          name: user.name,
          email: user.email,
          groups: [...user.groups],
          preferred_username: user.username,
        };
      },
      // Refresh tokens whenever offline_access was requested (and granted), for clients allowed to use them.
      issueRefreshToken: async (_ctx: unknown, client: ClientLike, code: ScopedLike) =>
        client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
      // Always rotate: the desktop client is public, so every refresh invalidates the previous refresh token.
      rotateRefreshToken: true,
      pkce: { required: () => true },
      interactions: {
        url: async (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      features: {
        devInteractions: { enabled: false },
        revocation: {
          enabled: true,
          // A client may only revoke its own tokens. For a public client a foreign token is silently not
          // revoked (RFC 7009 lets the response be 200 either way), so it cannot probe other clients' tokens.
          allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
            token.clientId === client.clientId,
        },
        rpInitiatedLogout: { enabled: true },
        userinfo: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => audience,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: unknown, resourceIndicator: string) => {
            if (resourceIndicator !== audience) {
              throw new InvalidTarget(`unknown resource ${resourceIndicator}`);
            }
            return {
              audience,
              scope: SIGNALING_SCOPE,
              accessTokenFormat: 'jwt',
              accessTokenTTL: accessTokenTtl,
              jwt: { sign: { alg: SIGNING_ALG } },
            };
          },
        },
      },
      ttl: {
        AccessToken: accessTokenTtl,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 3600,
        Grant: 14 * 24 * 3600,
        Session: 14 * 24 * 3600,
        RefreshToken: 14 * 24 * 3600,
      },
      renderError: async (ctx: { type: string; body: string }, out: Record<string, unknown>) => {
        ctx.type = 'html';
        ctx.body = providerErrorPage(out);
      },
    });
  } catch (err) {
    await closeServer(server);
    throw err;
  }

  const providerCallback = provider.callback();
  const interactions = makeInteractionHandler(provider, clientId, usersByName);
  handler = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === AUTHORIZATION_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      req.url = withConsentPromptForOfflineAccess(url);
    }
    if (path.startsWith('/interaction/')) {
      interactions(req, res, path).catch((err: unknown) => {
        if (!res.headersSent) {
          sendHtml(res, 500, unexpectedErrorPage(err));
        } else {
          res.destroy();
        }
      });
      return;
    }
    providerCallback(req, res);
  };

  let closing: Promise<void> | undefined;
  return {
    issuer,
    port,
    audience,
    clientId,
    scopes,
    users,
    signingJwk,
    close: () => (closing ??= closeServer(server)),
    async setListening(up) {
      if (closing) throw new Error('the IdP is closed');
      if (up && !server.listening) await listen(server, port, host);
      else if (!up) await closeServer(server);
    },
  };
}

/** oidc-provider's default authorization endpoint path (`routes.authorization`). */
const AUTHORIZATION_PATH = '/auth';

/**
 * OpenID Connect Core 1.0 §11 says `offline_access` MUST be ignored unless the request has `prompt=consent`,
 * and oidc-provider enforces that by dropping the scope. The desktop app must not need to know that about
 * this particular OP, and consent is always an interaction step for a native client anyway (it is granted
 * automatically here), so an authorization request asking for `offline_access` gets `consent` added to
 * its `prompt`, unless it is `prompt=none`. Returns the (possibly rewritten) path + query.
 */
function withConsentPromptForOfflineAccess(url: URL): string {
  const original = `${url.pathname}${url.search}`;
  const params = url.searchParams;
  const scopes = (params.get('scope') ?? '').split(' ');
  if (!scopes.includes('offline_access') || params.has('request') || params.has('request_uri')) return original;
  const prompt = (params.get('prompt') ?? '').split(' ').filter(Boolean);
  if (prompt.includes('consent') || prompt.includes('none')) return original;
  params.set('prompt', [...prompt, 'consent'].join(' '));
  return `${url.pathname}?${params.toString()}`;
}

// ---------------------------------------------------------------------------------------------------------
// Interactions: our own login page and automatic consent for the registered desktop client.

function makeInteractionHandler(
  provider: ProviderInstance,
  clientId: string,
  usersByName: Map<string, DevUser>,
): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> {
  return async (req, res, path) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(path);
    const method = req.method ?? 'GET';
    if (!match) {
      sendHtml(res, 404, notFoundPage());
      return;
    }
    const [, uid, action] = match;

    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      sendHtml(res, 400, expiredPage());
      return;
    }
    if (details.uid !== uid) {
      sendHtml(res, 400, restartPage('Interaction mismatch'));
      return;
    }

    if (action === undefined && (method === 'GET' || method === 'HEAD')) {
      if (details.prompt.name === 'login') {
        sendHtml(res, 200, loginPage(uid!, details.params, {}));
        return;
      }
      if (details.prompt.name === 'consent') {
        await autoConsent(provider, req, res, details, clientId);
        return;
      }
      await finish(provider, req, res, {
        error: 'access_denied',
        error_description: `unsupported interaction prompt ${details.prompt.name}`,
      });
      return;
    }

    if (method !== 'POST') {
      res.setHeader('Allow', action ? 'POST' : 'GET, HEAD');
      sendHtml(res, 405, methodNotAllowedPage());
      return;
    }

    if (action === 'abort') {
      await finish(provider, req, res, {
        error: 'access_denied',
        error_description: 'End-User aborted interaction',
      });
      return;
    }

    // action === 'login'
    if (details.prompt.name !== 'login') {
      sendHtml(res, 400, restartPage('Not expecting a login'));
      return;
    }
    const form = await readForm(req);
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    const user = usersByName.get(username);
    if (!user || !passwordMatches(password, user.password)) {
      sendHtml(res, 200, loginPage(uid!, details.params, { username, error: 'Invalid username or password.' }));
      return;
    }
    await finish(provider, req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  };
}

async function autoConsent(
  provider: ProviderInstance,
  req: IncomingMessage,
  res: ServerResponse,
  details: InteractionDetails,
  clientId: string,
): Promise<void> {
  const accountId = details.session?.accountId;
  if (details.params.client_id !== clientId || !accountId) {
    await finish(provider, req, res, {
      error: 'access_denied',
      error_description: 'consent is only given automatically to the registered desktop client',
    });
    return;
  }

  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  if (missingResourceScopes) {
    for (const [indicator, resourceScopes] of Object.entries(missingResourceScopes)) {
      grant.addResourceScope(indicator, resourceScopes.join(' '));
    }
  }
  const grantId = await grant.save();
  await finish(provider, req, res, { consent: existing ? {} : { grantId } }, { mergeWithLastSubmission: true });
}

async function finish(
  provider: ProviderInstance,
  req: IncomingMessage,
  res: ServerResponse,
  result: InteractionResult,
  options?: { mergeWithLastSubmission?: boolean },
): Promise<void> {
  const returnTo = await provider.interactionResult(req, res, result, options);
  res.statusCode = 303;
  res.setHeader('Location', returnTo);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', '0');
  res.end();
}

function passwordMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

const MAX_FORM_BYTES = 16 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form body too large');
    chunks.push(chunk);
  }
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// ---------------------------------------------------------------------------------------------------------
// Keys and server lifecycle

async function resolveSigningKey(given: JWK | undefined): Promise<JWK> {
  if (given) {
    if (given.kty !== 'EC' || given.crv !== 'P-256' || typeof given.d !== 'string') {
      throw new Error('signingKey must be a private P-256 EC JWK (ES256)');
    }
    return { ...given, alg: SIGNING_ALG, use: 'sig', kid: given.kid ?? randomBytes(8).toString('hex') };
  }
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: SIGNING_ALG, use: 'sig', kid: randomBytes(8).toString('hex') };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
