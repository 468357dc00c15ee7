import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  APP_SCHEME_PRIVILEGES,
  buildCsp,
  connectSourcesFor,
  createAppRequestHandler,
  createConnectPolicy,
  mimeType,
  registerAppScheme,
  resolveAppPath,
} from '../../electron/main/appProtocol.js';
import { registerIpc, type IpcEventLike, type IpcService, type RendererLike } from '../../electron/main/ipc.js';
import { findJoinLinkInArgv, protocolClientArgs } from '../../electron/main/protocolLinks.js';
import {
  applySessionPolicy,
  devCertificateSwitches,
  externalUrlAllowed,
  guardedOpenExternal,
  isAppOrigin,
  permissionDecision,
  validateSender,
} from '../../electron/main/security.js';
import { createMainWindow, hardenWebContents, mainWindowOptions } from '../../electron/main/window.js';
import { judge, parseCsv, parseReport, type Finding } from '../../scripts/electronScan.js';
import {
  DESKTOP_CALLS,
  IPC_CHANNELS,
  type DesktopState,
  type JoinLinkEvent,
  type ScreenSource,
  type Result,
} from '../../shared/ipc/desktopApi.js';
import type { UpdateStatus } from '../../shared/ipc/shellServices.js';
import { diagnosticsFixture } from '../support/diagnosticsFixture.js';

const APP = 'app://zerorange/index.html';

describe('main-process modules', () => {
  it('only index.ts imports Electron at run time (the rest is testable in Node)', async () => {
    const dir = path.resolve(import.meta.dirname, '../../electron/main');
    // Every form that loads a module at run time; `import type` and `export type` are erased.
    const runtimeElectron = [
      /^\s*import\s+(?!type\b)[^;]*?from\s*['"]electron(\/[^'"]*)?['"]/m,
      /^\s*import\s*['"]electron(\/[^'"]*)?['"]/m,
      /^\s*export\s+(?!type\b)[^;]*?from\s*['"]electron(\/[^'"]*)?['"]/m,
      /\bimport\s*\(\s*['"`]electron/,
      /\brequire\s*\(\s*['"`]electron/,
    ];
    const names = (await readdir(dir, { recursive: true })).filter((name) => name.endsWith('.ts') && name !== 'index.ts');
    // Subfolders (auth/ …) are walked too.
    expect(names.some((name) => name.includes(path.sep))).toBe(true);
    for (const name of names) {
      const source = await readFile(path.join(dir, name), 'utf8');
      for (const pattern of runtimeElectron) expect(source, name).not.toMatch(pattern);
    }
  });
});

describe('Content-Security-Policy', () => {
  it('is exactly the strict policy, with the configured servers in connect-src', () => {
    expect(buildCsp({ connectSrc: ['https://calls.example.org', 'wss://calls.example.org', 'https://id.example.org'] })).toBe(
      "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
        "media-src 'self' blob: mediastream:; connect-src 'self' https://calls.example.org wss://calls.example.org https://id.example.org; " +
        "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
    );
  });

  it("is 'self' only without a server", () => {
    expect(buildCsp({ connectSrc: [] })).toContain("connect-src 'self'; font-src");
  });

  it.each([
    'https://a.example; script-src *', // directive injection
    "https://a.example 'unsafe-eval'",
    'https://a.example/path',
    '*',
    'https:',
    'http://calls.example.org', // plain http off loopback
    'ws://calls.example.org',
    'javascript:alert(1)',
  ])('refuses %j as a connect source', (source) => {
    expect(() => buildCsp({ connectSrc: [source] })).toThrow();
  });

  it('accepts plain http and ws on loopback (development stack)', () => {
    expect(buildCsp({ connectSrc: ['http://127.0.0.1:8787', 'ws://127.0.0.1:8787', 'http://[::1]:9400'] })).toContain(
      "connect-src 'self' http://127.0.0.1:8787 ws://127.0.0.1:8787 http://[::1]:9400;",
    );
  });
});

function stateWith(origin: string, signalingUrl: string, issuer: string): Pick<DesktopState, 'server'> {
  return {
    server: {
      origin,
      config: { issuer, clientId: 'zerorange-desktop', scopes: ['openid'], audience: 'zr', signalingUrl, roomId: { pattern: '^[a-z0-9-]{3,64}$', maxLength: 64 }, protocolVersion: 1 },
    } as DesktopState['server'],
  };
}

describe('connect sources', () => {
  it('are the server, its signaling endpoint and its IdP, as https and wss origins', () => {
    expect(connectSourcesFor(stateWith('https://calls.example.org', 'wss://signal.example.org/v1/signal', 'https://id.example.org/realms/zr'))).toEqual([
      'https://calls.example.org',
      'https://id.example.org',
      'https://signal.example.org',
      'wss://calls.example.org',
      'wss://id.example.org',
      'wss://signal.example.org',
    ]);
    expect(connectSourcesFor(null)).toEqual([]);
    expect(connectSourcesFor({ server: null })).toEqual([]);
  });

  it('drop plain http off loopback instead of breaking the page', () => {
    const sources = connectSourcesFor(stateWith('https://calls.example.org', 'ws://signal.example.org/ws', 'https://id.example.org'));
    expect(sources.some((s) => s.includes('signal.example.org'))).toBe(false);
    expect(() => buildCsp({ connectSrc: sources })).not.toThrow();
  });

  it('tell when the page must reload to get a new policy', () => {
    const policy = createConnectPolicy();
    expect(policy.csp()).toContain("connect-src 'self';");
    const a = stateWith('https://a.example', 'wss://a.example/ws', 'https://id.example');
    expect(policy.update(null)).toBe(false);
    expect(policy.update(a)).toBe(true);
    expect(policy.csp()).toContain('wss://a.example');
    expect(policy.update(a)).toBe(false); // same server, e.g. a sign-in state change
    expect(policy.update({ server: null })).toBe(true);
  });
});

describe('app:// scheme', () => {
  it('is standard, secure and fetchable, and never bypasses the CSP', () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual({ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } });
    const protocol = { registerSchemesAsPrivileged: vi.fn() };
    registerAppScheme(protocol);
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([APP_SCHEME_PRIVILEGES]);
  });

  it('maps URLs to files inside the root', () => {
    const root = path.resolve('/srv/renderer');
    expect(resolveAppPath(root, 'app://zerorange/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppPath(root, 'app://zerorange')).toBe(path.join(root, 'index.html'));
    expect(resolveAppPath(root, 'app://zerorange/assets/index-abc.js?v=1#x')).toBe(path.join(root, 'assets', 'index-abc.js'));
    expect(resolveAppPath(root, 'app://zerorange/assets/a%20b.png')).toBe(path.join(root, 'assets', 'a b.png'));
  });

  it.each([
    'app://zerorange/..%2f..%2fetc%2fpasswd',
    'app://zerorange/%2E%2E%2Fsecret.txt',
    'app://zerorange/..%5csecret.txt',
    'app://zerorange/..\\secret.txt',
    'app://zerorange/assets\\..\\..\\secret.txt',
    'app://zerorange//etc/passwd',
    'app://zerorange/%2Fetc%2Fpasswd',
    'app://zerorange/C:/Windows/win.ini',
    'app://zerorange/C%3A%5CWindows%5Cwin.ini',
    'app://zerorange/index.html%00.png',
    'app://zerorange/%E0%A4%A',
    'app://zerorange/assets/',
    'app://other/index.html',
    'app://zerorange:8080/index.html',
    'app://user@zerorange/index.html',
    'file:///etc/passwd',
    'https://zerorange/index.html',
    'not a url',
  ])('refuses %s', (url) => {
    expect(resolveAppPath(path.resolve('/srv/renderer'), url)).toBeNull();
  });

  it('keeps dot segments the URL parser resolves inside the root', () => {
    // WHATWG URL (and Chromium) resolve `..` and `%2e%2e` before we see the path.
    const root = path.resolve('/srv/renderer');
    expect(resolveAppPath(root, 'app://zerorange/../../etc/passwd')).toBe(path.join(root, 'etc', 'passwd'));
    expect(resolveAppPath(root, 'app://zerorange/%2e%2e/%2e%2e/secret.txt')).toBe(path.join(root, 'secret.txt'));
  });

  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['assets/index-abc.js', 'text/javascript; charset=utf-8'],
    ['assets/index.CSS', 'text/css; charset=utf-8'],
    ['icon.svg', 'image/svg+xml'],
    ['ring.ogg', 'audio/ogg'],
    ['font.woff2', 'font/woff2'],
    ['module.wasm', 'application/wasm'],
    ['archive.zip', 'application/octet-stream'],
    ['README', 'application/octet-stream'],
  ])('serves %s as %s', (file, type) => {
    expect(mimeType(file)).toBe(type);
  });
});

describe('app:// request handler', () => {
  let work: string;
  let root: string;
  const reads: string[] = [];
  let handler: (request: Request) => Promise<Response>;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'zr-app-protocol-'));
    root = path.join(work, 'renderer');
    await mkdir(path.join(root, 'assets'), { recursive: true });
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>ZeroRange</title>');
    await writeFile(path.join(root, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(path.join(work, 'secret.txt'), 'outside the root');
    handler = createAppRequestHandler({
      root,
      csp: () => buildCsp({ connectSrc: ['https://calls.example.org'] }),
      readFile: async (file) => {
        reads.push(file);
        return readFile(file);
      },
    });
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('serves the page with its type and the CSP', async () => {
    const res = await handler(new Request(APP));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(buildCsp({ connectSrc: ['https://calls.example.org'] }));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<title>ZeroRange</title>');
    const js = await handler(new Request('app://zerorange/assets/app.js'));
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('answers HEAD without a body and other methods with 405', async () => {
    const head = await handler(new Request(APP, { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await handler(new Request(APP, { method: 'POST', body: 'x' }))).status).toBe(405);
  });

  it.each([
    'app://zerorange/../secret.txt',
    'app://zerorange/%2e%2e/secret.txt',
    'app://zerorange/..%2fsecret.txt',
    'app://zerorange/..%5Csecret.txt',
    'app://zerorange/..\\secret.txt',
    'app://zerorange/missing.js',
    'app://zerorange/assets',
    'app://zerorange/assets/',
  ])('404 for %s, never reading outside the root', async (url) => {
    const res = await handler(new Request(url));
    expect(res.status).toBe(404);
    for (const file of reads) expect(path.relative(root, file).startsWith('..')).toBe(false);
  });

  it('404 for an absolute path to a real file', async () => {
    const res = await handler(new Request(`app://zerorange/${encodeURIComponent(path.join(work, 'secret.txt'))}`));
    expect(res.status).toBe(404);
    expect(reads.some((file) => file.endsWith('secret.txt') && !file.startsWith(root))).toBe(false);
  });
});

describe('origins and senders', () => {
  it.each([
    [APP, true],
    ['app://zerorange', true],
    ['app://zerorange/assets/x.js?q#h', true],
    ['app://zerorange.evil.example/', false],
    ['app://evil/', false],
    ['app://zerorange:1/', false],
    ['app://u:p@zerorange/', false],
    ['https://zerorange/', false],
    ['file:///app/index.html', false],
    ['http://127.0.0.1:5173/', false],
    ['about:blank', false],
    ['', false],
  ])('isAppOrigin(%j) is %s', (url, expected) => {
    expect(isAppOrigin(url)).toBe(expected);
  });

  it('accepts IPC only from the app main frame', () => {
    expect(validateSender({ url: APP, parent: null })).toBe(true);
    expect(validateSender({ url: APP })).toBe(true);
    expect(validateSender(null)).toBe(false);
    expect(validateSender(undefined)).toBe(false);
    expect(validateSender({ url: APP, parent: { url: APP } })).toBe(false); // an app-origin subframe
    expect(validateSender({ url: 'https://evil.example/', parent: null })).toBe(false);
    expect(validateSender({ url: 'file:///tmp/x.html', parent: null })).toBe(false);
    expect(validateSender({ url: 'about:blank', parent: null })).toBe(false);
    const disposed = {
      parent: null,
      get url(): string {
        throw new Error('Render frame was disposed');
      },
    };
    expect(validateSender(disposed)).toBe(false);
  });
});

describe('permissions', () => {
  const origin = 'app://zerorange';
  it.each([
    ['media', origin, undefined, true],
    ['media', origin, { isMainFrame: true, requestingUrl: APP }, true],
    ['display-capture', origin, { isMainFrame: true }, true],
    ['clipboard-sanitized-write', origin, undefined, true],
    // A signaling server on the organisation's private network must be reachable from the app.
    ['local-network-access', origin, undefined, true],
    ['local-network-access', 'https://evil.example', undefined, false],
    ['media', origin, { isMainFrame: false, requestingUrl: APP }, false], // subframe
    ['media', origin, { isMainFrame: true, requestingUrl: 'https://evil.example/' }, false],
    ['media', 'https://evil.example', undefined, false],
    ['media', 'file:///', undefined, false],
    ['display-capture', 'https://evil.example', undefined, false],
    ['clipboard-read', origin, undefined, false],
    ['geolocation', origin, undefined, false],
    ['notifications', origin, undefined, false],
    ['openExternal', origin, undefined, false],
    ['fullscreen', origin, undefined, false],
    ['hid', origin, undefined, false],
    ['usb', origin, undefined, false],
    ['serial', origin, undefined, false],
    ['midiSysex', origin, undefined, false],
    ['unknown', origin, undefined, false],
  ] as const)('%s for %s %j → %s', (permission, from, details, granted) => {
    expect(permissionDecision(permission, from, details)).toBe(granted);
  });

  it('installs request, check and device handlers on the session', () => {
    const handlers: Record<string, (...args: never[]) => unknown> = {};
    const session = {
      setPermissionRequestHandler: (h: (...args: never[]) => unknown) => (handlers.request = h),
      setPermissionCheckHandler: (h: (...args: never[]) => unknown) => (handlers.check = h),
      setDevicePermissionHandler: (h: (...args: never[]) => unknown) => (handlers.device = h),
      on: (event: string, h: (...args: never[]) => unknown) => (handlers[event] = h),
    };
    applySessionPolicy(session as unknown as Parameters<typeof applySessionPolicy>[0]);
    const request = handlers.request as unknown as (c: unknown, p: string, cb: (ok: boolean) => void, d: object) => void;
    const answers: boolean[] = [];
    request({}, 'media', (ok) => answers.push(ok), { isMainFrame: true, requestingUrl: APP });
    request({}, 'media', (ok) => answers.push(ok), { isMainFrame: true, requestingUrl: 'https://evil.example/' });
    request({}, 'geolocation', (ok) => answers.push(ok), { isMainFrame: true, requestingUrl: APP });
    expect(answers).toEqual([true, false, false]);
    const check = handlers.check as unknown as (c: unknown, p: string, o: string, d: object) => boolean;
    expect(check(null, 'media', 'app://zerorange', { isMainFrame: true })).toBe(true);
    expect(check(null, 'media', 'https://evil.example', { isMainFrame: true })).toBe(false);
    expect((handlers.device as unknown as (d: object) => boolean)({ deviceType: 'usb', origin: 'app://zerorange' })).toBe(false);
    const download = { preventDefault: vi.fn() };
    (handlers['will-download'] as unknown as (e: typeof download) => void)(download);
    expect(download.preventDefault).toHaveBeenCalled();
  });
});

describe('external links', () => {
  it.each([
    ['https://docs.example.org/help', true],
    ['mailto:support@example.org', true],
    ['HTTPS://EXAMPLE.ORG/', true],
    ['http://example.org/', false],
    ['http://127.0.0.1:9400/auth', false],
    ['javascript:alert(1)', false],
    ['JavaScript:alert(1)', false],
    [' javascript:alert(1)', false],
    ['file:///etc/passwd', false],
    ['file://server/share/evil.exe', false],
    ['smb://server/share', false],
    ['zerorange://join/room?server=https://x', false],
    ['ms-msdt:/id PCWDiagnostic', false],
    ['vbscript:msgbox(1)', false],
    ['data:text/html,<script>alert(1)</script>', false],
    ['app://zerorange/index.html', false],
    ['https://bank.example@evil.example/', false],
    ['https://user:pass@example.org/', false],
    ['https://exаmple.org/', false], // Cyrillic а
    ['https://example.org/\n', false],
    [`https://example.org/${'a'.repeat(2100)}`, false],
    ['//example.org/', false],
    ['', false],
  ])('%j → %s', (url, allowed) => {
    expect(externalUrlAllowed(url)).toBe(allowed);
  });

  it('allows plain http only on loopback and only when asked (development IdP)', () => {
    expect(externalUrlAllowed('http://127.0.0.1:9400/auth', { allowInsecureLoopback: true })).toBe(true);
    expect(externalUrlAllowed('http://localhost:9400/auth', { allowInsecureLoopback: true })).toBe(true);
    expect(externalUrlAllowed('http://[::1]:9400/auth', { allowInsecureLoopback: true })).toBe(true);
    expect(externalUrlAllowed('http://example.org/', { allowInsecureLoopback: true })).toBe(false);
    expect(externalUrlAllowed('http://127.0.0.1.evil.example/', { allowInsecureLoopback: true })).toBe(false);
  });

  it('never hands a refused URL to the OS', async () => {
    const open = vi.fn(async () => undefined);
    const guarded = guardedOpenExternal(open);
    await expect(guarded('file:///etc/passwd')).rejects.toThrow(/refused/);
    await guarded('https://example.org/');
    expect(open).toHaveBeenCalledTimes(1);
    expect(open).toHaveBeenCalledWith('https://example.org/');
  });
});

describe('development TURN certificate trust', () => {
  const spki = Buffer.alloc(32, 7).toString('base64');

  it('adds the SPKI switch only to unpackaged builds', () => {
    expect(devCertificateSwitches({ ZR_DEV_TURN_SPKI: spki }, false)).toEqual(['ignore-certificate-errors-spki-list', spki]);
    expect(devCertificateSwitches({ ZR_DEV_TURN_SPKI: spki }, true)).toBeNull();
    expect(devCertificateSwitches({ ZR_DEV_TURN_SPKI: 'garbage' }, true)).toBeNull();
    expect(devCertificateSwitches({}, false)).toBeNull();
    expect(devCertificateSwitches({ ZR_DEV_TURN_SPKI: '' }, false)).toBeNull();
  });

  it.each([
    'not base64!',
    Buffer.alloc(20, 1).toString('base64'), // SHA-1 length
    Buffer.alloc(33, 1).toString('base64'),
    `${spki},${spki}`, // a list would widen the trust
    `${spki} --remote-debugging-port=9222`,
    spki.replace(/=$/, ''),
    Buffer.alloc(32, 7).toString('base64url'),
  ])('refuses a malformed SPKI %j', (value) => {
    expect(() => devCertificateSwitches({ ZR_DEV_TURN_SPKI: value }, false)).toThrow(/ZR_DEV_TURN_SPKI/);
  });
});

describe('join links from the OS', () => {
  const link = 'zerorange://join/team-standup?server=https%3A%2F%2Fcalls.example.org';

  it.each([
    [['/opt/ZeroRange/zerorange', link], link],
    [['/opt/ZeroRange/zerorange', '--no-sandbox', link], link],
    [['/opt/ZeroRange/zerorange', '--', link], link],
    [['C:\\Program Files\\ZeroRange\\ZeroRange.exe', '--allow-file-access-from-files', '--', link], link],
    [['C:\\Program Files\\ZeroRange\\ZeroRange.exe', link, '--original-process-start-time=13370000000000000'], link],
    [['/usr/lib/electron/electron', '/home/me/zerorange', link], link], // development: electron <app> <link>
    [['ZeroRange.exe', 'ZERORANGE://join/x?server=https%3A%2F%2Fa.example'], 'ZERORANGE://join/x?server=https%3A%2F%2Fa.example'],
    [['/opt/ZeroRange/zerorange'], null],
    [['/opt/ZeroRange/zerorange', '--inspect', 'https://calls.example.org/join/x'], null],
    [['/opt/ZeroRange/zerorange', `--flag=${link}`], null],
    [['/opt/ZeroRange/zerorange', 'zerorange:join'], null],
    [['/opt/ZeroRange/zerorange', `zerorange://join/${'x'.repeat(2100)}`], null],
    [[link], null], // argv[0] is the executable, never a link
  ])('%j → %j', (argv, expected) => {
    expect(findJoinLinkInArgv(argv)).toBe(expected);
  });

  it('registers the protocol client with the app path when run as `electron <app>`', () => {
    expect(protocolClientArgs(false, '/opt/ZeroRange/zerorange', '/anything')).toEqual(['zerorange']);
    expect(protocolClientArgs(true, '/usr/lib/electron/electron', '/home/me/zerorange')).toEqual([
      'zerorange',
      '/usr/lib/electron/electron',
      ['/home/me/zerorange'],
    ]);
  });
});

class FakeContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.openHandler = handler;
  }
}

function navigation(url: string) {
  return { url, preventDefault: vi.fn() };
}

describe('window', () => {
  it('is created with the hardened web preferences', () => {
    const options = mainWindowOptions('/app/build/electron/preload/index.cjs', false);
    expect(options.show).toBe(false);
    expect(options.webPreferences).toMatchObject({
      preload: '/app/build/electron/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      devTools: false,
    });
    expect(options.webPreferences).not.toHaveProperty('enableBlinkFeatures');
    expect(options.webPreferences).not.toHaveProperty('additionalArguments');
  });

  it('keeps navigation inside the app and sends allowed links to the system browser', async () => {
    const contents = new FakeContents();
    const opened: string[] = [];
    hardenWebContents(contents as never, async (url) => {
      opened.push(url);
    });
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      const away = navigation('https://evil.example/');
      contents.emit(event, away);
      expect(away.preventDefault, event).toHaveBeenCalled();
      const file = navigation('file:///etc/passwd');
      contents.emit(event, file);
      expect(file.preventDefault, event).toHaveBeenCalled();
      const inside = navigation('app://zerorange/index.html#/call');
      contents.emit(event, inside);
      expect(inside.preventDefault, event).not.toHaveBeenCalled();
    }
    const webview = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', webview, {}, {});
    expect(webview.preventDefault).toHaveBeenCalled();

    expect(contents.openHandler!({ url: 'https://docs.example.org/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'app://zerorange/index.html' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    await Promise.resolve();
    expect(opened).toEqual(['https://docs.example.org/']);
  });

  it('is hardened once even when also seen by web-contents-created', () => {
    const contents = new FakeContents();
    hardenWebContents(contents as never, async () => undefined);
    hardenWebContents(contents as never, async () => undefined);
    expect(contents.listenerCount('will-navigate')).toBe(1);
  });

  it('loads app://zerorange and reports page changes', () => {
    const created: { options: unknown; win: FakeWindow }[] = [];
    class FakeWindow extends EventEmitter {
      webContents = new FakeContents();
      loadURL = vi.fn(async () => undefined);
      show = vi.fn();
      constructor(options: unknown) {
        super();
        created.push({ options, win: this });
      }
    }
    const page = { pageCommitted: vi.fn(), pageLeaving: vi.fn() };
    createMainWindow({ BrowserWindow: FakeWindow as never, preloadPath: '/p/index.cjs', openExternal: async () => undefined, devTools: true, page });
    const { win, options } = created[0]!;
    expect(options).toMatchObject({ webPreferences: { preload: '/p/index.cjs', sandbox: true, devTools: true } });
    expect(win.loadURL).toHaveBeenCalledWith('app://zerorange/index.html');
    expect(win.webContents.listenerCount('will-navigate')).toBe(1);
    win.emit('ready-to-show');
    expect(win.show).toHaveBeenCalled();
    win.webContents.emit('did-navigate');
    expect(page.pageCommitted).toHaveBeenCalledTimes(1);
    win.webContents.emit('render-process-gone');
    win.emit('closed');
    expect(page.pageLeaving).toHaveBeenCalledTimes(2);
  });
});

type Handler = (event: IpcEventLike, ...args: unknown[]) => Promise<Result<unknown>>;

function ipcHarness() {
  const handlers = new Map<string, Handler>();
  const ipcMain = {
    handle: (channel: string, listener: Handler) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel: string) => handlers.delete(channel),
  };
  const listeners: {
    state: ((s: DesktopState) => void)[];
    'join-link': ((e: JoinLinkEvent) => boolean)[];
    'screen-share': ((s: ScreenSource[]) => void)[];
    update: ((s: UpdateStatus) => void)[];
  } = { state: [], 'join-link': [], 'screen-share': [], update: [] };
  const calls = Object.fromEntries(DESKTOP_CALLS.map((call) => [call, vi.fn(async (...args: unknown[]) => ({ ok: true, value: { call, args } }))]));
  const service = {
    ...calls,
    subscribe: (event: keyof typeof listeners, cb: never) => {
      listeners[event].push(cb);
      return () => {
        listeners[event] = listeners[event].filter((l) => l !== cb) as never;
      };
    },
  } as unknown as IpcService;
  const sent: [string, unknown][] = [];
  const contents: RendererLike = { send: (channel, payload) => sent.push([channel, payload]), isDestroyed: () => false };
  let main: RendererLike | null = contents;
  const onError = vi.fn();
  const ipc = registerIpc(ipcMain, service, { mainContents: () => main, onError });
  const invoke = (call: string, args: unknown[] = [], frame: IpcEventLike['senderFrame'] = { url: APP, parent: null }) =>
    handlers.get(IPC_CHANNELS[call as keyof typeof IPC_CHANNELS])!({ senderFrame: frame }, ...args);
  return {
    handlers,
    calls,
    ipc,
    sent,
    invoke,
    onError,
    emitState: (s: DesktopState) => listeners.state.forEach((l) => l(s)),
    emitLink: (e: JoinLinkEvent) => listeners['join-link'].map((l) => l(e)),
    emitScreenShare: (sources: ScreenSource[]) => listeners['screen-share'].forEach((l) => l(sources)),
    emitUpdate: (status: UpdateStatus) => listeners.update.forEach((l) => l(status)),
    closeWindow: () => {
      main = null;
    },
    openWindow: () => {
      main = contents;
    },
  };
}

const link = (roomId: string): JoinLinkEvent => ({ ok: true, link: { roomId, server: 'https://calls.example.org', knownServer: true } });

describe('registerIpc', () => {
  it('handles every call of the contract', () => {
    const h = ipcHarness();
    expect([...h.handlers.keys()].sort()).toEqual(DESKTOP_CALLS.map((c) => IPC_CHANNELS[c]).sort());
  });

  it.each([
    ['no frame', null],
    ['a subframe of the app', { url: APP, parent: { url: APP } }],
    ['another origin', { url: 'https://evil.example/', parent: null }],
    ['a file page', { url: 'file:///tmp/evil.html', parent: null }],
    ['a look-alike host', { url: 'app://zerorange.evil/', parent: null }],
  ])('refuses calls from %s', async (_name, frame) => {
    const h = ipcHarness();
    const res = await h.invoke('setServer', ['https://calls.example.org'], frame);
    expect(res).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(h.calls.setServer).not.toHaveBeenCalled();
  });

  it.each([
    ['setServer', [42]],
    ['setServer', []],
    ['setServer', ['']],
    ['setServer', ['https://a.example', 'room', 'extra']],
    ['setServer', ['https://a.example', '../Not A Room']],
    ['setServer', ['x'.repeat(513)]],
    ['joinRoom', [{ toString: () => 'room' }]],
    ['resolveLink', [null]],
    ['getState', ['unexpected']],
  ])('answers invalid-argument to %s%j without calling the service', async (call, args) => {
    const h = ipcHarness();
    const res = await h.invoke(call, args);
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(h.calls[call]).not.toHaveBeenCalled();
  });

  it('checks saveDiagnostics in main: a schema-valid document and exactly the known options', async () => {
    const h = ipcHarness();
    const options = { format: 'json', includeAddresses: false };
    for (const args of [
      [{ version: 1 }, options],
      [diagnosticsFixture(), { format: 'json' }],
      // The renderer cannot name the file: the user does, in main's save dialog.
      [diagnosticsFixture(), { ...options, path: '/etc/passwd' }],
      [diagnosticsFixture()],
    ]) {
      expect(await h.invoke('saveDiagnostics', args)).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    }
    expect(h.calls.saveDiagnostics).not.toHaveBeenCalled();
    const extra = { ...diagnosticsFixture(), smuggled: 'x' };
    expect(await h.invoke('saveDiagnostics', [extra, options])).toMatchObject({ ok: true });
    // The parsed document (unknown keys dropped) is what reaches the service.
    expect(h.calls.saveDiagnostics).toHaveBeenCalledWith(diagnosticsFixture(), options);
  });

  it('calls the service with the parsed arguments and returns its result', async () => {
    const h = ipcHarness();
    expect(await h.invoke('setServer', ['https://calls.example.org'])).toEqual({ ok: true, value: { call: 'setServer', args: ['https://calls.example.org'] } });
    expect(h.calls.setServer).toHaveBeenCalledWith('https://calls.example.org');
    expect(await h.invoke('getState')).toEqual({ ok: true, value: { call: 'getState', args: [] } });
  });

  it('turns a throwing service into an internal error, never an exception across IPC', async () => {
    const h = ipcHarness();
    h.calls.joinRoom!.mockRejectedValueOnce(new Error('secret stack'));
    const res = await h.invoke('joinRoom', ['team-standup']);
    expect(res).toEqual({ ok: false, error: { code: 'internal', message: 'the desktop shell failed unexpectedly' } });
    expect(h.onError).toHaveBeenCalledWith('joinRoom', expect.any(Error));
  });

  it('forwards screen share requests to the main window', () => {
    const h = ipcHarness();
    const sources: ScreenSource[] = [{ id: 'screen:0:0', name: 'Screen', kind: 'screen', thumbnail: null }];
    h.emitScreenShare(sources);
    expect(h.sent).toEqual([[IPC_CHANNELS.onScreenShareRequest, sources]]);
  });

  it('the shell calls check their arguments like every call; update status reaches the main window', async () => {
    const h = ipcHarness();
    expect(await h.invoke('setIpHandlingPolicy', ['disable_non_proxied_udp'])).toMatchObject({ ok: true });
    expect(await h.invoke('setIpHandlingPolicy', ['default_public_and_private_interfaces'])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await h.invoke('setInCall', ['yes'])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await h.invoke('reportError', [{ source: 'error', message: 'x'.repeat(2001) }])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await h.invoke('reportError', [{ source: 'error', message: 'boom', extra: 1 }])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await h.invoke('reportError', [{ source: 'error', message: 'boom', stack: 'at x' }])).toMatchObject({ ok: true });
    expect(h.calls.setIpHandlingPolicy).toHaveBeenCalledTimes(1);
    expect(h.calls.reportError).toHaveBeenCalledTimes(1);
    const status: UpdateStatus = { state: 'ready', version: '0.2.0', percent: 100, message: null, inCall: false };
    h.emitUpdate(status);
    expect(h.sent).toEqual([[IPC_CHANNELS.onUpdateStatus, status]]);
  });

  it('forwards state changes to the main window', () => {
    const h = ipcHarness();
    const state = { server: null, user: null, signingIn: false, tokenStorage: 'memory', tokenStorageNote: null, knownServers: [] } as unknown as DesktopState;
    h.emitState(state);
    expect(h.sent).toEqual([[IPC_CHANNELS.onStateChanged, state]]);
    h.closeWindow();
    h.emitState(state); // no window: nothing to send to, and no throw
    expect(h.sent).toHaveLength(1);
  });

  it('sends join links to the main window, and tells the service when it could not', () => {
    const h = ipcHarness();
    expect(h.emitLink(link('live'))).toEqual([true]);
    expect(h.sent).toEqual([[IPC_CHANNELS.onJoinLink, link('live')]]);
    h.closeWindow();
    expect(h.emitLink(link('no window'))).toEqual([false]); // the service's inbox keeps it for the next page
    expect(h.sent).toHaveLength(1);
  });

  it('removes its handlers and subscriptions on dispose', () => {
    const h = ipcHarness();
    h.ipc.dispose();
    expect(h.handlers.size).toBe(0);
    h.emitState({} as DesktopState);
    expect(h.sent).toEqual([]);
  });
});

describe('electron-scan gate', () => {
  const csv = [
    'issue, severity, confidence, filename, location, sample, description, url',
    'CSP_GLOBAL_CHECK,"MEDIUM","CERTAIN","N/A","0:0",N/A,"No CSP has been detected in the target application",https://github.com/doyensec/electronegativity/wiki/CSP_GLOBAL_CHECK',
    'OPEN_EXTERNAL_JS_CHECK,"MEDIUM","TENTATIVE","main/index.ts","19:46","shell.openExternal(url, ""x"")","Review the use of openExternal",https://github.com/doyensec/electronegativity/wiki/OPEN_EXTERNAL_JS_CHECK',
    'LIMIT_NAVIGATION_GLOBAL_CHECK,"INFORMATIONAL","CERTAIN","main/window.ts","1:1","a,\nb","d",https://github.com/doyensec/electronegativity/wiki/LIMIT_NAVIGATION_GLOBAL_CHECK',
    'SANDBOX_JS_CHECK,"HIGH","FIRM","main\\window.ts","3:4","x","d",https://github.com/doyensec/electronegativity/wiki/SANDBOX_JS_CHECK',
    '',
  ].join('\n');

  it('reads the CSV report, quotes and line breaks included', () => {
    expect(parseCsv('a,"b,""c""\nd"\r\ne,f\n')).toEqual([['a', 'b,"c"\nd'], ['e', 'f']]);
    const findings = parseReport(csv, 'electron');
    expect(findings.map((f) => [f.check, f.severity, f.file])).toEqual([
      ['CSP_GLOBAL_CHECK', 'MEDIUM', 'N/A'],
      ['OPEN_EXTERNAL_JS_CHECK', 'MEDIUM', 'electron/main/index.ts'],
      ['LIMIT_NAVIGATION_GLOBAL_CHECK', 'INFORMATIONAL', 'electron/main/window.ts'],
      ['SANDBOX_JS_CHECK', 'HIGH', 'electron/main/window.ts'],
    ]);
    expect(findings[1]!.sample).toBe('shell.openExternal(url, "x")');
  });

  it('refuses a garbled report rather than reading it as "no findings"', () => {
    expect(() => parseReport('', 'electron')).toThrow(/header/);
    expect(() => parseReport(csv.replace('issue, severity', 'OPEN_EXTERNAL_JS_CHECK,"MEDIUM"'), 'electron')).toThrow();
    expect(() => parseReport(csv.replace('"HIGH"', '"SEVERE"'), 'electron')).toThrow(/malformed/);
    expect(() => parseReport(`${csv}X,"HIGH"\n`, 'electron')).toThrow(/malformed/);
  });

  it('fails on unexplained medium and high findings and on stale allow-list entries', () => {
    const findings = parseReport(csv, 'electron');
    const verdict = judge(findings, {
      entries: [
        { check: 'CSP_GLOBAL_CHECK', file: 'N/A', reason: 'the CSP is a protocol handler header' },
        { check: 'OPEN_EXTERNAL_JS_CHECK', file: 'electron/main/other.ts', reason: 'reviewed somewhere else entirely' },
      ],
    });
    const names = (list: Finding[]) => list.map((f) => f.check);
    expect(verdict.allowed.map((a) => a.finding.check)).toEqual(['CSP_GLOBAL_CHECK']);
    expect(names(verdict.unexplained)).toEqual(['OPEN_EXTERNAL_JS_CHECK', 'SANDBOX_JS_CHECK']);
    expect(names(verdict.minor)).toEqual(['LIMIT_NAVIGATION_GLOBAL_CHECK']);
    expect(verdict.stale.map((e) => e.file)).toEqual(['electron/main/other.ts']);
  });
});
