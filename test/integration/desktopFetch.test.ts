/**
 * Every HTTP request the desktop main process makes goes through the fetch it is given (Electron's
 * net.fetch in the app, so system proxies and PAC files apply): client configuration, sign-in with
 * openid-client (discovery, token), restore by refresh, join, ICE servers and revocation.
 * Node's global fetch is replaced by one that refuses, so a request that slipped past the injected
 * fetch fails the test. Real dev IdP and signaling server on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEV_USERS } from '../../dev/idp.js';
import type { DesktopService } from '../../electron/main/desktopService.js';
import { fakeSafeStorage } from '../support/fakeSafeStorage.js';
import { completeLoginInBrowser } from '../support/idpLogin.js';
import { SignalingHarness } from '../support/signalingHarness.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

const alice = DEV_USERS.find((u) => u.username === 'alice')!;

describe('the main process makes every HTTP request through the injected fetch', () => {
  const nodeFetch = globalThis.fetch;
  let harness: SignalingHarness;
  let dir: string;
  const services: DesktopService[] = [];
  /** Requests that reached Node's global fetch (there must be none from the app). */
  const leaked: string[] = [];
  /** Requests the app made through the injected fetch: method and URL. */
  const injected: string[] = [];
  const appFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    injected.push(`${init?.method ?? (input instanceof Request ? input.method : 'GET')} ${url}`);
    return nodeFetch(input, init);
  };

  beforeAll(async () => {
    harness = await SignalingHarness.start();
    // The server shares this process and fetches the IdP's keys with Node's fetch: warm its cache
    // first, so that from here on every fetch call in the process is the app's.
    await harness.join('warm-up-room', 'alice');
    dir = mkdtempSync(join(tmpdir(), 'zr-fetch-'));
    vi.stubGlobal('fetch', (input: string | URL | Request) => {
      leaked.push(String(input instanceof Request ? input.url : input));
      return Promise.reject(new TypeError('Node fetch is not for the app in this test'));
    });
  });

  afterAll(async () => {
    vi.unstubAllGlobals();
    for (const s of services) await s.dispose();
    await harness?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function service(safeStorage: ReturnType<typeof fakeSafeStorage>): DesktopService {
    const s = createTestDesktopService({
      userDataDir: dir,
      safeStorage,
      fetch: appFetch,
      // The system browser has a network of its own (Node's real fetch), as it would on a desktop.
      openExternal: (url) => completeLoginInBrowser(url, alice, nodeFetch),
      networkInterfaces: () => ({}),
    });
    services.push(s);
    return s;
  }

  const paths = () => injected.map((line) => {
    const [method, url] = line.split(' ');
    return `${method} ${new URL(url!).pathname}`;
  });

  it('client configuration, sign-in, join, ICE servers, restore and sign-out', async () => {
    const storage = fakeSafeStorage();
    const first = service(storage);
    expect(await first.setServer(harness.baseUrl)).toMatchObject({ ok: true });
    expect(await first.signIn()).toMatchObject({ ok: true, value: { user: { username: 'alice' } } });
    expect(await first.joinRoom('fetch-check-room')).toMatchObject({ ok: true, value: { roomToken: expect.any(String) } });
    expect(await first.networkCheckConfig()).toMatchObject({ ok: true });
    const issuerPath = new URL(harness.idp.issuer).pathname.replace(/\/$/, '');
    expect(paths()).toEqual(
      expect.arrayContaining([
        'GET /v1/client-config',
        `GET ${issuerPath}/.well-known/openid-configuration`,
        expect.stringMatching(/^POST .*\/token$/),
        'POST /v1/rooms/fetch-check-room/join',
        'POST /v1/ice-servers',
      ]),
    );

    // A second start restores the session with the refresh token: discovery and refresh, injected too.
    await first.dispose();
    injected.length = 0;
    const second = service(storage);
    await expect.poll(async () => ((await second.getState()) as { value?: { user?: unknown } }).value?.user ?? null).toMatchObject({ username: 'alice' });
    expect(paths()).toEqual(expect.arrayContaining(['GET /v1/client-config', expect.stringMatching(/^POST .*\/token$/)]));

    injected.length = 0;
    expect(await second.signOut()).toMatchObject({ ok: true, value: { user: null } });
    expect(paths()).toEqual(expect.arrayContaining([expect.stringMatching(/^POST .*\/token\/revocation$/)]));

    expect(leaked).toEqual([]);
  });
});
