/**
 * One signed-in (or not) user on one server. Holds the access token in memory only, keeps it fresh,
 * persists the refresh token through the TokenStore, and signs out at the IdP. Never logs a token.
 */
import type { UserInfo } from '../../../shared/ipc/desktopApi.js';
import type { ClientConfig } from '../../../shared/protocol/http.js';
import {
  AuthError, discover, endSession, refresh, revokeToken, signIn, userFromClaims, withTimeout,
  type EndSessionHandle, type HttpFetch, type OidcClient, type OpenExternal, type TokenSet,
} from './oidcFlow.js';
import type { TokenStore } from './tokenStore.js';

export interface AuthSessionOptions {
  /** The server's origin: the key in the token store. */
  server: string;
  config: ClientConfig;
  store: TokenStore;
  openExternal: OpenExternal;
  /** Allow an http:// issuer on loopback (development IdP). */
  allowInsecureLoopback: boolean;
  /** Development and tests only: further http issuer hosts. */
  insecureHosts?: readonly string[];
  /** Every request to the IdP goes through it (Electron's net.fetch in the app). */
  fetch?: HttpFetch;
  /** Time the user has to finish signing in in the browser; default 5 minutes. */
  loginTimeoutMs?: number;
  now?: () => number;
}

interface HeldTokens {
  accessToken: string;
  expiresAt: number;
  /** Refresh this long before expiry: 60 s, or half the lifetime for short-lived tokens. */
  marginMs: number;
  refreshToken: string | null;
  idToken: string | null;
}

const REFRESH_MARGIN_MS = 60_000;
const DEFAULT_LIFETIME_S = 300;
const RETRY_MS = 30_000;
const SIGN_OUT_REMOTE_MS = 5_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

const notSignedIn = (cause?: unknown): AuthError =>
  new AuthError('not-signed-in', 'You are not signed in, or your session has ended. Sign in again.', { cause });

export class AuthSession {
  readonly server: string;
  readonly #opts: AuthSessionOptions;
  readonly #now: () => number;
  #client: Promise<OidcClient> | null = null;
  #tokens: HeldTokens | null = null;
  #user: UserInfo | null = null;
  #signIn: AbortController | null = null;
  #refreshing: Promise<string> | null = null;
  #restoring: Promise<UserInfo | null> | null = null;
  /** Bumped whenever tokens are replaced or dropped, so a refresh that finishes late is discarded. */
  #epoch = 0;
  #timer: NodeJS.Timeout | null = null;
  #logout: EndSessionHandle | null = null;
  readonly #listeners = new Set<() => void>();
  #disposed = false;

  constructor(opts: AuthSessionOptions) {
    this.server = opts.server;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get user(): UserInfo | null {
    return this.#user;
  }

  get signingIn(): boolean {
    return this.#signIn !== null;
  }

  /** Called when `user` or `signingIn` changes. Returns an unsubscribe function. */
  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => void this.#listeners.delete(cb);
  }

  /**
   * Signs in silently with a stored refresh token. A token the IdP refuses is deleted (→ null); when the
   * IdP is unreachable it is kept and AuthError 'server-unreachable' is thrown, so a later retry can work.
   */
  restore(): Promise<UserInfo | null> {
    if (this.#user || this.#signIn) return Promise.resolve(this.#user);
    this.#restoring ??= this.#doRestore().finally(() => (this.#restoring = null));
    return this.#restoring;
  }

  async #doRestore(): Promise<UserInfo | null> {
    const stored = await this.#opts.store.load(this.server);
    if (!stored) return null;
    const epoch = this.#epoch;
    let tokens: TokenSet | null;
    try {
      tokens = await this.#redeem(stored);
    } catch (err) {
      if (isUnreachable(err)) throw err;
      if (epoch === this.#epoch) await this.#safeClear();
      return null;
    }
    if (!tokens) return this.#user; // signed in or out meanwhile
    const user = userFromClaims(tokens.claims ?? {});
    if (!user) {
      await this.#safeClear();
      return null;
    }
    await this.#accept(tokens, user, stored);
    this.#emit();
    return user;
  }

  /** Sign-in in the system browser. Only one at a time: a second call fails with 'busy'. */
  async signIn(): Promise<UserInfo> {
    if (this.#disposed) throw new AuthError('sign-in-failed', 'This session has been closed.');
    if (this.#signIn) throw new AuthError('busy', 'A sign-in is already under way.');
    const controller = new AbortController();
    this.#signIn = controller;
    this.#emit();
    try {
      const oidc = await this.#oidc();
      if (controller.signal.aborted) throw new AuthError('sign-in-cancelled', 'Sign-in was cancelled.');
      const tokens = await signIn({
        client: oidc,
        config: this.#opts.config,
        openExternal: this.#opts.openExternal,
        signal: controller.signal,
        ...(this.#opts.loginTimeoutMs !== undefined ? { timeoutMs: this.#opts.loginTimeoutMs } : {}),
      });
      const user = tokens.claims ? userFromClaims(tokens.claims) : null;
      if (!user) throw new AuthError('sign-in-failed', 'The identity provider sent no usable ID token.');
      const previous = this.#tokens?.refreshToken;
      await this.#accept(tokens, user, null);
      // Signing in again replaces the old grant; do not leave its refresh token valid.
      if (previous && previous !== tokens.refreshToken) void revokeToken(oidc, previous, 'refresh_token');
      return user;
    } finally {
      if (this.#signIn === controller) this.#signIn = null;
      this.#emit();
    }
  }

  cancelSignIn(): void {
    this.#signIn?.abort();
  }

  /** A valid access token, refreshed first when it expires within the margin. */
  async getAccessToken(): Promise<string> {
    const held = this.#tokens;
    if (!held) throw notSignedIn();
    const left = held.expiresAt - this.#now();
    if (left > held.marginMs) return held.accessToken;
    if (held.refreshToken) return this.#refresh();
    if (left > 0) return held.accessToken;
    await this.#drop();
    throw notSignedIn();
  }

  /**
   * After the server answered 401: refresh now. Pass the rejected token so that callers that saw the same
   * 401 share one refresh. If the IdP refuses, the user is signed out ('not-signed-in').
   */
  async handleUnauthorized(rejected?: string): Promise<string> {
    const held = this.#tokens;
    if (!held) throw notSignedIn();
    if (rejected !== undefined && rejected !== held.accessToken) return held.accessToken;
    if (held.refreshToken) return this.#refresh();
    await this.#drop();
    throw notSignedIn();
  }

  /** Forgets everything locally first, then revokes and ends the IdP session (bounded, best effort). */
  async signOut(): Promise<void> {
    this.cancelSignIn();
    const held = this.#tokens;
    await this.#drop();
    const oidc = held && this.#client ? await this.#client.catch(() => null) : null;
    if (!held || !oidc) return;
    const refreshRevoked = held.refreshToken ? revokeToken(oidc, held.refreshToken, 'refresh_token') : null;
    await withTimeout(Promise.all([refreshRevoked, revokeToken(oidc, held.accessToken, 'access_token')]), SIGN_OUT_REMOTE_MS);
    await this.#logout?.close();
    const { openExternal } = this.#opts;
    this.#logout = await endSession({ client: oidc, idToken: held.idToken, openExternal }).catch(() => null);
  }

  /** Stops timers and listeners and forgets tokens in memory (the store is left as it is). */
  dispose(): void {
    this.#disposed = true;
    this.cancelSignIn();
    this.#epoch += 1;
    this.#clearTimer();
    this.#tokens = null;
    this.#user = null;
    this.#listeners.clear();
    void this.#logout?.close();
  }

  #oidc(): Promise<OidcClient> {
    const { config, allowInsecureLoopback, insecureHosts, fetch } = this.#opts;
    this.#client ??= discover(config, { allowInsecureLoopback, ...(insecureHosts ? { insecureHosts } : {}), ...(fetch ? { fetch } : {}) }).catch((err: unknown) => {
      this.#client = null; // retry discovery next time
      throw err;
    });
    return this.#client;
  }

  /** Single-flight: concurrent callers share one refresh (refresh tokens rotate, so two would clash). */
  #refresh(): Promise<string> {
    this.#refreshing ??= this.#doRefresh().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  async #doRefresh(): Promise<string> {
    const held = this.#tokens;
    if (!held?.refreshToken) throw notSignedIn();
    const epoch = this.#epoch;
    let tokens: TokenSet | null;
    try {
      tokens = await this.#redeem(held.refreshToken);
    } catch (err) {
      if (isUnreachable(err)) throw err; // offline is not signed out
      if (epoch === this.#epoch) await this.#drop();
      throw notSignedIn(err);
    }
    if (!tokens) {
      // Replaced (new sign-in) or dropped (sign-out) meanwhile: answer with whatever is current.
      if (this.#tokens) return this.#tokens.accessToken;
      throw notSignedIn();
    }
    const user = tokens.claims ? userFromClaims(tokens.claims) : this.#user;
    // OIDC Core §12.2: a refreshed ID token must be about the same subject.
    if (!user || (this.#user && user.sub !== this.#user.sub)) {
      await this.#drop();
      throw notSignedIn();
    }
    const changed = !sameUser(this.#user, user);
    await this.#accept(tokens, user, held.refreshToken, held.idToken);
    if (changed) this.#emit();
    return tokens.accessToken;
  }

  /** The refresh grant; null when tokens were replaced or dropped meanwhile (the result is discarded). */
  async #redeem(refreshToken: string): Promise<TokenSet | null> {
    const epoch = this.#epoch;
    const oidc = await this.#oidc();
    const tokens = await refresh(oidc, this.#opts.config, refreshToken);
    if (epoch === this.#epoch) return tokens;
    // The rotated refresh token belongs to nobody now.
    if (tokens.refreshToken) void revokeToken(oidc, tokens.refreshToken, 'refresh_token');
    return null;
  }

  /** Takes new tokens into memory, schedules the next refresh and persists a new refresh token. */
  async #accept(tokens: TokenSet, user: UserInfo, usedRefreshToken: string | null, idToken?: string | null) {
    const lifetimeMs = (tokens.expiresIn ?? DEFAULT_LIFETIME_S) * 1000;
    // Without rotation the IdP sends no new refresh token: the one used stays valid.
    const refreshToken = tokens.refreshToken ?? usedRefreshToken;
    this.#epoch += 1;
    this.#tokens = {
      accessToken: tokens.accessToken,
      expiresAt: this.#now() + lifetimeMs,
      marginMs: Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2),
      refreshToken,
      idToken: tokens.idToken ?? idToken ?? null,
    };
    this.#user = user;
    this.#schedule();
    if (refreshToken === usedRefreshToken && usedRefreshToken !== null) return;
    try {
      if (refreshToken) await this.#opts.store.save(this.server, refreshToken);
      else await this.#opts.store.clear(this.server);
    } catch (err) {
      // Still signed in for this run; only persistence failed.
      console.warn(`could not store the sign-in for ${this.server}: ${describe(err)}`);
    }
  }

  async #drop(): Promise<void> {
    const hadUser = this.#user !== null;
    this.#epoch += 1;
    this.#clearTimer();
    this.#tokens = null;
    this.#user = null;
    if (hadUser) this.#emit();
    await this.#safeClear();
  }

  async #safeClear(): Promise<void> {
    await this.#opts.store.clear(this.server).catch((err: unknown) => {
      console.warn(`could not delete the stored sign-in for ${this.server}: ${describe(err)}`);
    });
  }

  #schedule(delayMs?: number): void {
    this.#clearTimer();
    const held = this.#tokens;
    if (!held?.refreshToken || this.#disposed) return;
    const delay = delayMs ?? held.expiresAt - held.marginMs - this.#now();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#refresh().catch((err: unknown) => {
        // Offline: try again later; anything else has already signed the user out.
        if (isUnreachable(err)) this.#schedule(RETRY_MS);
      });
    }, Math.min(Math.max(delay, 1_000), MAX_TIMER_MS));
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #emit(): void {
    for (const cb of [...this.#listeners]) {
      try {
        cb();
      } catch (err) {
        console.error('AuthSession onChange listener failed', err);
      }
    }
  }
}

function sameUser(a: UserInfo | null, b: UserInfo | null): boolean {
  return a === b || (!!a && !!b && a.sub === b.sub && a.name === b.name && a.email === b.email && a.username === b.username);
}

const isUnreachable = (err: unknown): boolean => err instanceof AuthError && err.code === 'server-unreachable';

/** An error code or name only: messages from lower layers are not trusted to be free of secrets. */
const describe = (err: unknown): string =>
  (err as NodeJS.ErrnoException | undefined)?.code ?? (err instanceof Error ? err.name : 'unknown error');
