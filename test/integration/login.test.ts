/**
 * Desktop sign-in against the real dev IdP, with Playwright's Chromium standing in for the system
 * browser: PKCE + loopback redirect, the listener's refusals, refresh/rotation, restore, sign-out, and
 * the token store in keystore and memory modes.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEV_USERS, startDevIdp, type DevIdp } from '../../dev/idp.js';
import { AuthSession, type AuthSessionOptions } from '../../electron/main/auth/AuthSession.js';
import { startLoopbackRedirect } from '../../electron/main/auth/loopbackRedirect.js';
import { AuthError, discover, refresh } from '../../electron/main/auth/oidcFlow.js';
import { createTokenStore, type SafeStorageLike, type TokenStore } from '../../electron/main/auth/tokenStore.js';
import { chromiumArgs } from '../../playwright.config.js';
import type { ClientConfig } from '../../shared/protocol/http.js';
import { roomIdRules } from '../../shared/protocol/rooms.js';

const SERVER = 'https://zerorange.example';
const alice = DEV_USERS.find((u) => u.username === 'alice')!;

/** AES-GCM stand-in for Electron's safeStorage. */
function fakeSafeStorage(opts: { available?: boolean; backend?: string } = {}) {
  const key = randomBytes(32);
  const calls = { encrypt: 0 };
  const storage: SafeStorageLike = {
    isEncryptionAvailable: () => opts.available ?? true,
    getSelectedStorageBackend: () => opts.backend ?? 'gnome_libsecret',
    encryptString(plain) {
      calls.encrypt += 1;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decryptString(data) {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
  return { storage, calls };
}

function portRefuses(port: number | string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('desktop sign-in (authorization code + PKCE, loopback redirect)', () => {
  let idp: DevIdp;
  let config: ClientConfig;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  let offset: number; // fake clock: how far the session's "now" is ahead of the real one
  const sessions: AuthSession[] = [];

  const configFor = (p: DevIdp): ClientConfig => ({
    issuer: p.issuer,
    clientId: p.clientId,
    scopes: p.scopes,
    audience: p.audience,
    signalingUrl: 'ws://127.0.0.1:9/v1/signaling',
    roomId: roomIdRules,
    protocolVersion: 1,
  });

  /** The "system browser": opens IdP authorization URLs and signs in as alice (or cancels, or idles). */
  function systemBrowser(opts: { action?: 'login' | 'cancel' | 'idle'; before?: (u: URL) => Promise<void> } = {}) {
    const opened: URL[] = [];
    const openExternal = async (href: string): Promise<void> => {
      const url = new URL(href);
      opened.push(url);
      if (url.pathname !== '/auth') return; // logout URLs: the test drives those itself
      await opts.before?.(url);
      await page.goto(href, { waitUntil: 'domcontentloaded' });
      const action = opts.action ?? 'login';
      if (action === 'cancel') await page.click('button.secondary');
      if (action !== 'login') return;
      await page.fill('#username', alice.username);
      await page.fill('#password', alice.password);
      await page.click('button[type="submit"]:not(.secondary)');
    };
    return { opened, openExternal };
  }

  const keystore = (): TokenStore => createTokenStore({ safeStorage: fakeSafeStorage().storage, dir, platform: 'linux' });

  function newSession(store: TokenStore, openExternal: (url: string) => Promise<void>, extra: Partial<AuthSessionOptions> = {}) {
    const session = new AuthSession({
      server: SERVER,
      config,
      store,
      openExternal,
      allowInsecureLoopback: true,
      now: () => Date.now() + offset,
      ...extra,
    });
    sessions.push(session);
    return session;
  }

  const rejection = (p: Promise<unknown>): Promise<AuthError> =>
    p.then(() => expect.fail('expected a rejection'), (err: unknown) => err as AuthError);

  beforeAll(async () => {
    idp = await startDevIdp();
    config = configFor(idp);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await idp?.close();
  });
  beforeEach(async () => {
    offset = 0;
    dir = await mkdtemp(join(tmpdir(), 'zr-tokens-'));
    context = await browser.newContext(); // fresh cookies: a fresh IdP session per test
    page = await context.newPage();
  });
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.dispose();
    await context.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs in with PKCE S256, state, nonce and resource and returns the user; the port is then closed', async () => {
    const { opened, openExternal } = systemBrowser();
    const session = newSession(keystore(), openExternal);
    const changes: boolean[] = [];
    session.onChange(() => changes.push(session.signingIn));

    const user = await session.signIn();
    expect(user).toEqual({ sub: alice.sub, name: alice.name, email: alice.email, username: 'alice' });
    expect(session.user).toEqual(user);
    expect(changes).toEqual([true, false]);

    const auth = opened[0]!.searchParams;
    expect(auth.get('code_challenge_method')).toBe('S256');
    expect(auth.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(auth.get('state')).toBeTruthy();
    expect(auth.get('nonce')).toBeTruthy();
    expect(auth.get('resource')).toBe(idp.audience);
    expect(auth.get('scope')).toBe(idp.scopes.join(' '));
    const redirect = new URL(auth.get('redirect_uri')!);
    expect(redirect.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    const claims = decodeJwt(await session.getAccessToken());
    expect(claims).toMatchObject({ sub: alice.sub, aud: idp.audience, client_id: idp.clientId });

    await page.waitForURL((u) => u.pathname === '/callback');
    expect(await page.textContent('body')).toContain('You can return to ZeroRange');

    // A second callback (even with the right state) finds nothing listening.
    expect(await portRefuses(redirect.port)).toBe(true);
    const replay = `${redirect.href}?code=again&state=${auth.get('state')}`;
    await expect(fetch(replay)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });

  it('refuses a forged callback (wrong state: 400), a wrong path (404) and POST (405) without ending the attempt', async () => {
    const seen: { status: number; body: string }[] = [];
    const probe = async (url: string, init?: RequestInit) => {
      const res = await fetch(url, init);
      seen.push({ status: res.status, body: await res.text() });
    };
    const { openExternal } = systemBrowser({
      before: async (auth) => {
        const redirect = auth.searchParams.get('redirect_uri')!;
        const state = auth.searchParams.get('state')!;
        await probe(`${redirect}?code=forged&state=not-${state}`);
        await probe(`${redirect}?code=forged`);
        await probe(`${new URL(redirect).origin}/elsewhere?code=forged&state=${state}`);
        await probe(`${redirect}?code=forged&state=${state}`, { method: 'POST' });
      },
    });
    const session = newSession(keystore(), openExternal);
    expect(await session.signIn()).toMatchObject({ sub: alice.sub });
    expect(seen.map((s) => s.status)).toEqual([400, 400, 404, 405]);
    expect(seen[0]!.body).toMatch(/old or different sign-in attempt/);
  });

  it('times out with sign-in-timeout and closes the port', async () => {
    const { opened, openExternal } = systemBrowser({ action: 'idle' });
    const session = newSession(keystore(), openExternal, { loginTimeoutMs: 800 });
    const error = await rejection(session.signIn());
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('sign-in-timeout');
    expect(session.signingIn).toBe(false);
    expect(await portRefuses(new URL(opened[0]!.searchParams.get('redirect_uri')!).port)).toBe(true);
  });

  it('is one sign-in at a time (busy) and can be cancelled (sign-in-cancelled)', async () => {
    let busy: unknown;
    const { opened, openExternal } = systemBrowser({
      action: 'idle',
      before: async () => {
        busy = await session.signIn().catch((err: unknown) => err);
        session.cancelSignIn();
      },
    });
    const session = newSession(keystore(), openExternal);
    const error = await rejection(session.signIn());
    expect(busy).toMatchObject({ code: 'busy' });
    expect(error.code).toBe('sign-in-cancelled');
    expect(session.signingIn).toBe(false);
    expect(session.user).toBeNull();
    expect(await portRefuses(new URL(opened[0]!.searchParams.get('redirect_uri')!).port)).toBe(true);
  });

  it("reports the IdP's access_denied (Cancel on the login page) as sign-in-failed with a readable message", async () => {
    const { openExternal } = systemBrowser({ action: 'cancel' });
    const session = newSession(keystore(), openExternal);
    const error = await rejection(session.signIn());
    expect(error.code).toBe('sign-in-failed');
    expect(error.message).toBe('The identity provider refused the sign-in: End-User aborted interaction (access_denied).');
    await page.waitForURL((u) => u.pathname === '/callback');
    expect(await page.textContent('body')).toContain('End-User aborted interaction');
  });

  it("shows the IdP's error escaped, under a strict CSP, and closes the connection", async () => {
    const listener = await startLoopbackRedirect({ path: '/callback', expectedState: 's1', timeoutMs: 5_000 });
    try {
      const res = await fetch(`${listener.redirectUri}?state=s1&error=access_denied&error_description=%3Cscript%3Ex%3C%2Fscript%3E`);
      const body = await res.text();
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
      expect(res.headers.get('connection')).toBe('close');
      expect(body).toContain('&lt;script&gt;x&lt;/script&gt;');
      expect(body).not.toContain('<script>');
      expect((await listener.result).searchParams.get('error')).toBe('access_denied');
    } finally {
      await listener.close();
    }
    expect(await portRefuses(new URL(listener.redirectUri).port)).toBe(true);
  });

  it('refreshes before expiry, single-flight, rotating the stored refresh token; the old one is refused', async () => {
    const store = keystore();
    const session = newSession(store, systemBrowser().openExternal);
    await session.signIn();
    const first = await session.getAccessToken();
    const firstRefresh = await store.load(SERVER);
    expect(await session.getAccessToken()).toBe(first); // not close to expiry: no refresh

    offset = 250_000; // 50 s before the 300 s token expires
    const tokens = await Promise.all([session.getAccessToken(), session.getAccessToken(), session.getAccessToken()]);
    // Three refreshes with one rotating refresh token would have failed (reuse detection); one was shared.
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(first);
    const secondRefresh = await store.load(SERVER);
    expect(secondRefresh).toBeTruthy();
    expect(secondRefresh).not.toBe(firstRefresh);

    const oidc = await discover(config, { allowInsecureLoopback: true });
    const old = await rejection(refresh(oidc, config, firstRefresh!));
    expect(old).toMatchObject({ code: 'not-signed-in', cause: { error: 'invalid_grant' } });
  });

  it('handleUnauthorized refreshes once per rejected token and signs out when the IdP refuses', async () => {
    const store = keystore();
    const session = newSession(store, systemBrowser().openExternal);
    await session.signIn();
    const rejected = await session.getAccessToken();
    const [a, b] = await Promise.all([session.handleUnauthorized(rejected), session.handleUnauthorized(rejected)]);
    expect(a).toBe(b);
    expect(a).not.toBe(rejected);
    expect(await session.handleUnauthorized(rejected)).toBe(a); // already replaced: no second refresh

    // The refresh token is used elsewhere, so the session's copy is rotated out and the IdP refuses it.
    const oidc = await discover(config, { allowInsecureLoopback: true });
    const current = await store.load(SERVER);
    await refresh(oidc, config, current!);
    let changed = 0;
    session.onChange(() => (changed += 1));
    expect((await rejection(session.handleUnauthorized())).code).toBe('not-signed-in');
    expect(session.user).toBeNull();
    expect(changed).toBe(1);
    expect(await store.load(SERVER)).toBeNull();
    expect((await rejection(session.getAccessToken())).code).toBe('not-signed-in');
  });

  it('restores from the store in a new AuthSession; a refused stored token is cleared', async () => {
    const store = keystore();
    const first = newSession(store, systemBrowser().openExternal);
    await first.signIn();
    const stored = await store.load(SERVER);
    first.dispose();

    const second = newSession(store, systemBrowser().openExternal);
    expect(await second.restore()).toEqual({ sub: alice.sub, name: alice.name, email: alice.email, username: 'alice' });
    expect(decodeJwt(await second.getAccessToken()).sub).toBe(alice.sub);
    expect(await store.load(SERVER)).not.toBe(stored); // rotated on use

    await store.save(SERVER, 'not-a-refresh-token');
    const third = newSession(store, systemBrowser().openExternal);
    expect(await third.restore()).toBeNull();
    expect(await store.load(SERVER)).toBeNull();
    expect(await third.restore()).toBeNull(); // nothing stored
  });

  it('signs out: revokes, clears the store, and ends the IdP session via a loopback post-logout redirect', async () => {
    const store = keystore();
    const { opened, openExternal } = systemBrowser();
    const session = newSession(store, openExternal);
    await session.signIn();
    const refreshToken = await store.load(SERVER);
    await session.signOut();
    expect(session.user).toBeNull();
    expect(await store.load(SERVER)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
    const oidc = await discover(config, { allowInsecureLoopback: true });
    expect(await rejection(refresh(oidc, config, refreshToken!))).toMatchObject({ cause: { error: 'invalid_grant' } });

    const logout = opened.at(-1)!;
    expect(logout.pathname).toBe('/session/end');
    expect(logout.searchParams.get('id_token_hint')).toBeTruthy();
    const postLogout = logout.searchParams.get('post_logout_redirect_uri')!;
    expect(postLogout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/logout-callback$/);
    // The sign-in's redirect may still be loading in that browser page (the app has the code as soon as
    // the request arrives): let it finish, or the next navigation interrupts it.
    await page.waitForURL((u) => u.pathname === '/callback', { waitUntil: 'domcontentloaded' });
    // The user confirms in the browser; the dev IdP accepts the loopback redirect on this ephemeral port.
    await page.goto(logout.href, { waitUntil: 'domcontentloaded' });
    await page.click('button[name="logout"][value="yes"]');
    await page.waitForURL((u) => u.href.startsWith(postLogout));
    expect(await page.textContent('body')).toContain('You are signed out of ZeroRange');
    expect(await portRefuses(new URL(postLogout).port)).toBe(true);
  });

  it('clears local state on sign-out even when the IdP is unreachable', async () => {
    const other = await startDevIdp();
    try {
      const store = keystore();
      const session = newSession(store, systemBrowser().openExternal, { config: configFor(other) });
      await session.signIn();
      await other.close();
      // Offline is not signed out: the stored token is kept for a later restore.
      const later = newSession(store, systemBrowser().openExternal, { config: configFor(other) });
      expect((await rejection(later.restore())).code).toBe('server-unreachable');
      expect(await store.load(SERVER)).toBeTruthy();
      offset = 290_000;
      expect((await rejection(session.getAccessToken())).code).toBe('server-unreachable');
      expect(session.user).not.toBeNull();

      await session.signOut();
      expect(session.user).toBeNull();
      expect(await store.load(SERVER)).toBeNull();
    } finally {
      await other.close();
    }
  });

  it('refreshes on a timer before expiry (short-lived tokens: at half their lifetime)', async () => {
    const shortLived = await startDevIdp({ accessTokenTtlSeconds: 2 });
    try {
      const base = keystore();
      let saves = 0;
      let onSecondSave!: () => void;
      const secondSave = new Promise<void>((resolve) => (onSecondSave = resolve));
      const store: TokenStore = {
        ...base,
        save: async (server, token) => {
          await base.save(server, token);
          if (++saves === 2) onSecondSave();
        },
      };
      const session = newSession(store, systemBrowser().openExternal, { config: configFor(shortLived) });
      await session.signIn(); // first save; the second can only come from the timer
      await secondSave;
      expect(session.user).toMatchObject({ sub: alice.sub });
    } finally {
      await shortLived.close();
    }
  });

  it('keystore mode writes only ciphertext, mode 0600, one file per origin; undecryptable files are dropped', async () => {
    const store = keystore();
    expect(store).toMatchObject({ mode: 'keystore', note: null });
    const session = newSession(store, systemBrowser().openExternal);
    await session.signIn();
    const refreshToken = (await store.load(`${SERVER}/`))!; // keyed by origin
    const name = `${createHash('sha256').update(SERVER).digest('hex')}.token`;
    expect(await readdir(dir)).toEqual([name]);
    const file = join(dir, name);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const raw = await readFile(file);
    expect(raw.includes(Buffer.from(refreshToken))).toBe(false);
    expect(raw.includes(Buffer.from(await session.getAccessToken()))).toBe(false);

    await writeFile(file, randomBytes(64));
    expect(await store.load(SERVER)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    { case: 'encryption unavailable', available: false, backend: 'unknown', platform: 'linux' as const },
    { case: 'basic_text backend', available: true, backend: 'basic_text', platform: 'linux' as const },
  ])('keeps nothing on disk without a real keystore ($case) yet works in memory', async (c) => {
    const { storage, calls } = fakeSafeStorage({ available: c.available, backend: c.backend });
    const store = createTokenStore({ safeStorage: storage, dir, platform: c.platform });
    expect(store.mode).toBe('memory');
    expect(store.note).toMatch(/No Secret Service \(GNOME Keyring or KWallet\) was found.*sign in again after restarting/);
    const session = newSession(store, systemBrowser().openExternal);
    await session.signIn();
    offset = 250_000;
    await session.getAccessToken(); // a refresh, so a rotated token is saved too
    session.dispose();
    expect(await newSession(store, systemBrowser().openExternal).restore()).toMatchObject({ sub: alice.sub });
    expect(await readdir(dir)).toEqual([]);
    expect(calls.encrypt).toBe(0);
  });

  it('names the missing keystore on other platforms', () => {
    const unavailable = fakeSafeStorage({ available: false }).storage;
    expect(createTokenStore({ safeStorage: unavailable, dir, platform: 'darwin' }).note).toMatch(/macOS Keychain/);
    expect(createTokenStore({ safeStorage: unavailable, dir, platform: 'win32' }).note).toMatch(/DPAPI/);
    expect(createTokenStore({ safeStorage: fakeSafeStorage().storage, dir, platform: 'win32' }).mode).toBe('keystore');
  });
});
