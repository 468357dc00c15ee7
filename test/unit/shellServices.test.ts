import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeLog from 'electron-log/node';
import { afterEach, describe, expect, it } from 'vitest';
import { toAuthError } from '../../electron/main/auth/oidcFlow.js';
import { checkSubmitUrl, homeRelative, startCrashReports } from '../../electron/main/crashReports.js';
import type { DesktopService, DesktopServiceDeps } from '../../electron/main/desktopService.js';
import { configureMainLog } from '../../electron/main/mainLog.js';
import { NetworkPrivacySetting, proxyFromAnswer } from '../../electron/main/networkPrivacy.js';
import { NO_MANAGED_CONFIG } from '../../electron/main/managedConfig.js';
import { shellSettingsFromEnv } from '../../electron/main/shellSettings.js';
import { UpdateService } from '../../electron/main/updates/UpdateService.js';
import { DiagnosticsDocument } from '../../shared/diagnostics/document.js';
import { findSecrets } from '../../shared/diagnostics/redact.js';
import type { IpHandlingPolicy } from '../../shared/ipc/shellServices.js';
import { ALL_SECRETS, diagnosticsFixture, SECRETS } from '../support/diagnosticsFixture.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

const dirs: string[] = [];
const services: DesktopService[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zr-shell-'));
  dirs.push(dir);
  return dir;
}

/** The main-process service with no server chosen: nothing here reaches a network. */
function service(dir: string, extra: Partial<DesktopServiceDeps> = {}): DesktopService {
  const s = createTestDesktopService({ userDataDir: dir, openExternal: async () => undefined, networkInterfaces: () => ({}), ...extra });
  services.push(s);
  return s;
}

afterEach(async () => {
  for (const s of services.splice(0)) await s.dispose();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('WebRTC IP handling', () => {
  it('defaults to every interface; a choice is applied at once and kept across restarts', async () => {
    const dir = tempDir();
    const applied: IpHandlingPolicy[] = [];
    const s = service(dir, { applyIpPolicy: (p) => applied.push(p) });
    expect(await s.networkPrivacy()).toMatchObject({ ok: true, value: { ipHandlingPolicy: 'default', managed: false } });
    expect(await s.setIpHandlingPolicy('disable_non_proxied_udp')).toMatchObject({ ok: true, value: { ipHandlingPolicy: 'disable_non_proxied_udp' } });
    expect(applied).toEqual(['disable_non_proxied_udp']);
    expect(JSON.parse(readFileSync(join(dir, 'network-privacy.json'), 'utf8'))).toEqual({ ipHandlingPolicy: 'disable_non_proxied_udp' });
    await s.dispose();
    const again = service(dir);
    expect(again.shell.ipHandlingPolicy).toBe('disable_non_proxied_udp');
  });

  it('a policy the organisation set wins, and the user cannot change it', async () => {
    const applied: IpHandlingPolicy[] = [];
    const s = service(tempDir(), { managedIpPolicy: 'default_public_interface_only', applyIpPolicy: (p) => applied.push(p) });
    expect(s.shell.ipHandlingPolicy).toBe('default_public_interface_only');
    expect(await s.setIpHandlingPolicy('default')).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringMatching(/organisation/) } });
    expect(applied).toEqual([]);
    expect(await s.networkPrivacy()).toMatchObject({ value: { ipHandlingPolicy: 'default_public_interface_only', managed: true } });
  });

  it('reads the proxy kinds from a PAC answer, never its hosts or credentials', () => {
    expect(proxyFromAnswer('DIRECT')).toEqual({ inUse: false, kinds: [] });
    expect(proxyFromAnswer('PROXY alice:s3cret@proxy.corp:3128; DIRECT')).toEqual({ inUse: true, kinds: ['PROXY'] });
    expect(proxyFromAnswer('HTTPS proxy.corp:443;SOCKS5 10.0.0.1:1080')).toEqual({ inUse: true, kinds: ['HTTPS', 'SOCKS5'] });
    expect(proxyFromAnswer('')).toEqual({ inUse: null, kinds: [] });
  });

  it('a proxy resolution that fails or never answers reads as unknown', async () => {
    const failing = new NetworkPrivacySetting({ userDataDir: tempDir(), apply: () => undefined, resolveProxy: () => Promise.reject(new Error('no')) });
    expect(await failing.proxyStatus('https://calls.example.com')).toEqual({ checkedFor: 'https://calls.example.com', inUse: null, kinds: [] });
    const silent = new NetworkPrivacySetting({ userDataDir: tempDir(), apply: () => undefined, resolveProxy: () => new Promise(() => undefined), resolveTimeoutMs: 20 });
    expect(await silent.proxyStatus('https://calls.example.com')).toMatchObject({ inUse: null });
  });
});

describe('diagnostics from main', () => {
  it('carry the IP policy, the proxy in use, the crash dumps folder and the recent main log, redacted', async () => {
    const dir = tempDir();
    const log = nodeLog.create({ logId: 'shell-diagnostics' });
    log.transports.console.level = false;
    const mainLog = configureMainLog(log, { dir: join(dir, 'logs') });
    mainLog.info('update: checking');
    mainLog.warn(`refresh failed: refresh_token=${SECRETS.refreshToken} from 203.0.113.7`);
    const resolved: string[] = [];
    const s = service(dir, {
      log: mainLog,
      crashReports: { dir: '~/.config/ZeroRange/Crashpad', uploadTo: null, warning: null },
      resolveProxy: async (url) => (resolved.push(url), 'PROXY user:pw@proxy.corp:3128; DIRECT'),
      saveDialog: async () => join(dir, 'out.json'),
    });
    await s.setIpHandlingPolicy('default_public_interface_only');
    // The page may claim anything about the desktop; main replaces it.
    const fromPage = { ...diagnosticsFixture(), desktop: { ipHandlingPolicy: 'default', proxy: { checkedFor: null, inUse: false, kinds: [] }, crashDumps: { dir: null, uploadTo: null }, mainLog: ['forged'] } };
    expect(await s.saveDiagnostics(fromPage, { format: 'json', includeAddresses: false })).toMatchObject({ ok: true });
    const written = readFileSync(join(dir, 'out.json'), 'utf8');
    const doc = DiagnosticsDocument.parse(JSON.parse(written));
    expect(doc.desktop).toMatchObject({
      ipHandlingPolicy: 'default_public_interface_only',
      // No server chosen in this test: nothing to resolve the proxy for.
      proxy: { checkedFor: null, inUse: null },
      crashDumps: { dir: '~/.config/ZeroRange/Crashpad', uploadTo: null },
    });
    expect(doc.desktop!.mainLog.join('\n')).toContain('update: checking');
    expect(doc.desktop!.mainLog).not.toContain('forged');
    expect(findSecrets(written, [...ALL_SECRETS, '203.0.113.7'])).toEqual([]);
    // With a server, the proxy is resolved for it: the kind is kept, the host and credentials are not.
    expect(await s.shell.diagnostics('https://calls.example.com')).toMatchObject({ proxy: { checkedFor: 'https://calls.example.com', inUse: true, kinds: ['PROXY'] } });
    expect(resolved).toEqual(['https://calls.example.com']);

    await s.saveDiagnostics(diagnosticsFixture(), { format: 'html', includeAddresses: false });
    const html = readFileSync(join(dir, 'out.json'), 'utf8');
    expect(html).toContain('Main process log');
    expect(html).toContain('default_public_interface_only');
  });
});

describe('renderer errors and the call signal', () => {
  it('errors the page reports land in the main log; updates wait for the call to end', async () => {
    const dir = tempDir();
    const log = nodeLog.create({ logId: 'shell-errors' });
    log.transports.console.level = false;
    const mainLog = configureMainLog(log, { dir });
    let checks = 0;
    let updates: UpdateService | null = null;
    const s = service(dir, {
      log: mainLog,
      createUpdates: (inCall) =>
        (updates = new UpdateService({
          updater: {
            autoDownload: true,
            autoInstallOnAppQuit: false,
            channel: null,
            on: () => undefined as never,
            checkForUpdates: async () => ((checks += 1), null),
            downloadUpdate: async () => [],
            quitAndInstall: () => undefined,
          },
          enabled: true,
          inCall,
          setTimer: () => () => undefined,
        })),
    });
    expect(await s.reportError({ source: 'unhandledrejection', message: `fetch failed with Bearer ${SECRETS.accessToken}` })).toEqual({ ok: true, value: null });
    const text = readFileSync(join(dir, 'main.log'), 'utf8');
    expect(text).toMatch(/renderer \(unhandledrejection\): fetch failed/);
    expect(findSecrets(text, ALL_SECRETS)).toEqual([]);

    const statuses: string[] = [];
    s.subscribe('update', (st) => statuses.push(`${st.state}${st.inCall ? ' in call' : ''}`));
    expect(await s.setInCall(true)).toEqual({ ok: true, value: null });
    await updates!.check();
    expect(checks).toBe(0);
    expect(await s.updateStatus()).toMatchObject({ value: { state: 'deferred', inCall: true } });
    expect(await s.restartToUpdate()).toMatchObject({ ok: false, error: { code: 'busy' } });
    // The call ends: the check that waited runs.
    await s.setInCall(false);
    await expect.poll(() => checks).toBe(1);
    await expect.poll(() => statuses.at(-1)).toBe('idle');
    expect(readFileSync(join(dir, 'main.log'), 'utf8')).toMatch(/call: started[\s\S]*call: ended/);
  });
});

describe('crash reports', () => {
  const reporter = () => {
    const started: unknown[] = [];
    return { started, start: (o: unknown) => void started.push(o) };
  };
  const deps = { dumpsDir: '/home/alice/.config/ZeroRange/Crashpad', homeDir: '/home/alice', productName: 'ZeroRange', allowInsecureLoopback: false };

  it('start with uploads off by default; the dumps folder is reported without the account name', () => {
    const r = reporter();
    expect(startCrashReports(r, {}, deps)).toEqual({ dir: '~/.config/ZeroRange/Crashpad', uploadTo: null, warning: null });
    expect(r.started).toEqual([{ productName: 'ZeroRange', uploadToServer: false, compress: true }]);
  });

  it('upload to an organisation’s collector over HTTPS; a bad address keeps uploads off and says why', () => {
    const r = reporter();
    expect(startCrashReports(r, { uploadToServer: true, submitUrl: 'https://crash.example.com/submit' }, deps)).toMatchObject({ uploadTo: 'https://crash.example.com/submit', warning: null });
    expect(r.started.at(-1)).toMatchObject({ uploadToServer: true, submitURL: 'https://crash.example.com/submit' });
    expect(startCrashReports(r, { uploadToServer: true, submitUrl: 'http://crash.example.com/submit' }, deps)).toMatchObject({ uploadTo: null, warning: expect.stringMatching(/https/) });
    expect(r.started.at(-1)).toMatchObject({ uploadToServer: false });
    expect(startCrashReports(r, { uploadToServer: true }, deps).warning).toMatch(/no crash report address/);
    expect(checkSubmitUrl('https://u:p@crash.example.com/', false)).toMatchObject({ ok: false });
    expect(checkSubmitUrl('http://127.0.0.1:9000/submit', true)).toMatchObject({ ok: true });
    expect(homeRelative('/home/alicex/dumps', '/home/alice')).toBe('/home/alicex/dumps');
  });
});

describe('settings an administrator gives the shell (the managed file, then the environment)', () => {
  it('defaults: updates on, the packed channel and feed, crash uploads off, the IP policy the user’s', () => {
    expect(shellSettingsFromEnv({})).toEqual({
      settings: { updates: { enabled: true, channel: null, feedUrl: null }, crashReports: { uploadToServer: false, submitUrl: null }, managedIpPolicy: null },
      problems: [],
    });
  });

  it('reads each setting, and names each bad value instead of using it', () => {
    const good = shellSettingsFromEnv({
      ZR_UPDATES: 'off',
      ZR_UPDATE_CHANNEL: 'beta',
      ZR_UPDATE_URL: 'https://updates.example.com/zerorange/',
      ZR_CRASH_SUBMIT_URL: 'https://crash.example.com/submit',
      ZR_WEBRTC_IP_POLICY: 'disable_non_proxied_udp',
    });
    expect(good).toEqual({
      settings: {
        updates: { enabled: false, channel: 'beta', feedUrl: 'https://updates.example.com/zerorange/' },
        crashReports: { uploadToServer: true, submitUrl: 'https://crash.example.com/submit' },
        managedIpPolicy: 'disable_non_proxied_udp',
      },
      problems: [],
    });
    const bad = shellSettingsFromEnv({ ZR_UPDATES: 'maybe', ZR_UPDATE_CHANNEL: '../x', ZR_UPDATE_URL: 'http://updates.example.com/', ZR_WEBRTC_IP_POLICY: 'all' });
    expect(bad.settings).toMatchObject({ updates: { enabled: true, channel: null, feedUrl: null }, managedIpPolicy: null });
    expect(bad.problems).toEqual([
      expect.stringMatching(/^ZR_UPDATES/),
      expect.stringMatching(/^ZR_UPDATE_CHANNEL/),
      expect.stringMatching(/^ZR_UPDATE_URL must be an https URL/),
      expect.stringMatching(/^ZR_WEBRTC_IP_POLICY must be one of default, default_public_interface_only, disable_non_proxied_udp/),
    ]);
  });

  it('the managed file decides where it speaks: updates off wins over the environment, its channel and IP policy over the environment’s', () => {
    const managed = { ...NO_MANAGED_CONFIG, updates: { enabled: false, channel: 'stable', feedUrl: 'https://updates.example.org/zr/' }, webrtcIpHandling: 'default_public_interface_only' as const };
    const env = { ZR_UPDATES: 'on', ZR_UPDATE_CHANNEL: 'beta', ZR_UPDATE_URL: 'https://elsewhere.example.com/', ZR_WEBRTC_IP_POLICY: 'disable_non_proxied_udp' };
    const { settings } = shellSettingsFromEnv(env, managed);
    expect(settings).toMatchObject({ updates: { enabled: false, channel: 'stable', feedUrl: 'https://updates.example.org/zr/' }, managedIpPolicy: 'default_public_interface_only' });
    // The environment can still turn off what the file leaves on.
    const off = shellSettingsFromEnv({ ZR_UPDATES: 'off' }, { ...NO_MANAGED_CONFIG, updates: { enabled: true, channel: null, feedUrl: null } });
    expect(off.settings.updates).toMatchObject({ enabled: false, channel: null });
  });
});

describe('errors of Electron’s net.fetch', () => {
  it('read as an unreachable identity provider, as Node’s fetch failures do', () => {
    for (const message of ['net::ERR_CONNECTION_REFUSED', 'net::ERR_PROXY_CONNECTION_FAILED', 'net::ERR_NAME_NOT_RESOLVED']) {
      expect(toAuthError(new Error(message), 'refresh').code).toBe('server-unreachable');
    }
    expect(toAuthError(new TypeError('fetch failed'), 'sign-in').code).toBe('server-unreachable');
    expect(toAuthError(new Error('something else'), 'sign-in').code).toBe('sign-in-failed');
  });
});
