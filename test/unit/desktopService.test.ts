import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SaveDialogRequest } from '../../electron/main/diagnosticsFile.js';
import type { DesktopService, DesktopServiceDeps } from '../../electron/main/desktopService.js';
import { DiagnosticsDocument } from '../../shared/diagnostics/document.js';
import { findSecrets } from '../../shared/diagnostics/redact.js';
import type { ScreenSource } from '../../shared/ipc/desktopApi.js';
import { ALL_ADDRESSES, ALL_SECRETS, diagnosticsFixture } from '../support/diagnosticsFixture.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

const dirs: string[] = [];
const services: DesktopService[] = [];

function service(dir = mkdtempSync(join(tmpdir(), 'zr-service-')), extra: Partial<DesktopServiceDeps> = {}): DesktopService {
  dirs.push(dir);
  const s = createTestDesktopService({
    openExternal: async () => undefined,
    userDataDir: dir,
    platform: 'linux',
    networkInterfaces: () => ({ eth0: [{ address: '10.1.2.3', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '10.1.2.3/24' }] }),
    // Nothing here may reach a network.
    fetch: async () => {
      throw new Error('no network in this test');
    },
    ...extra,
  });
  services.push(s);
  return s;
}

afterEach(async () => {
  for (const s of services.splice(0)) await s.dispose();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sources: ScreenSource[] = [
  { id: 'screen:0:0', name: 'Entire screen', kind: 'screen', thumbnail: null },
  { id: 'window:42:0', name: 'Slides', kind: 'window', thumbnail: 'data:image/png;base64,AAAA' },
];

describe('screen share picker', () => {
  it('offers the sources to the renderer and grants only the one the user picked', async () => {
    const s = service();
    const offered: ScreenSource[][] = [];
    s.subscribe('screen-share', (list) => offered.push(list));
    const chosen = s.requestScreenSource(sources);
    expect(offered).toEqual([sources]);
    expect(await s.chooseScreenSource('window:99:0')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await s.chooseScreenSource('window:42:0')).toEqual({ ok: true, value: null });
    expect(await chosen).toEqual(sources[1]);
    // The answer was used up.
    expect(await s.chooseScreenSource('window:42:0')).toMatchObject({ ok: false });
  });

  it('cancel shares nothing; one request at a time; nobody listening shares nothing', async () => {
    const s = service();
    expect(await s.requestScreenSource(sources)).toBeNull();
    s.subscribe('screen-share', () => undefined);
    const first = s.requestScreenSource(sources);
    expect(await s.requestScreenSource(sources)).toBeNull();
    expect(await s.chooseScreenSource(null)).toEqual({ ok: true, value: null });
    expect(await first).toBeNull();
  });
});

describe('network policy and memory', () => {
  it('keeps the policy across restarts and remembers a restrictive network until forgotten', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zr-service-'));
    const s = service(dir);
    expect(await s.getState()).toMatchObject({ ok: true, value: { networkPolicy: 'auto', restrictiveNetwork: false } });
    expect(await s.setNetworkPolicy('relay-tls')).toMatchObject({ ok: true, value: { networkPolicy: 'relay-tls' } });
    expect(await s.rememberNetwork(true)).toMatchObject({ value: { restrictiveNetwork: true } });
    await s.dispose();
    const again = service(dir);
    expect(await again.getState()).toMatchObject({ value: { networkPolicy: 'relay-tls', restrictiveNetwork: true } });
    expect(await again.forgetNetworks()).toMatchObject({ value: { restrictiveNetwork: false } });
  });
});

describe('saving diagnostics', () => {
  function saving(answer: (request: SaveDialogRequest, dir: string) => string | null) {
    const dir = mkdtempSync(join(tmpdir(), 'zr-service-'));
    const downloads = join(dir, 'Downloads');
    const requests: SaveDialogRequest[] = [];
    const s = service(dir, {
      downloadsDir: downloads,
      saveDialog: async (request) => {
        requests.push(request);
        return answer(request, dir);
      },
    });
    return { s, dir, downloads, requests };
  }

  it('writes where the user chose, redacted again in main, owner-only, in the chosen format', async () => {
    const { s, dir, downloads, requests } = saving((_r, d) => join(d, 'diag.json'));
    // The renderer sends the document unredacted: main does not rely on it.
    const res = await s.saveDiagnostics(diagnosticsFixture(), { format: 'json', includeAddresses: false });
    expect(res).toEqual({ ok: true, value: { path: join(dir, 'diag.json') } });
    expect(requests).toHaveLength(1);
    expect(dirname(requests[0]!.defaultPath)).toBe(downloads);
    expect(basename(requests[0]!.defaultPath)).toMatch(/^zerorange-diagnostics-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.json$/);
    expect(requests[0]!.filters).toEqual([{ name: expect.any(String), extensions: ['json'] }]);
    const text = readFileSync(join(dir, 'diag.json'), 'utf8');
    expect(findSecrets(text, ALL_SECRETS)).toEqual([]);
    expect(findSecrets(text, ALL_ADDRESSES)).toEqual([]);
    expect(DiagnosticsDocument.safeParse(JSON.parse(text)).success).toBe(true);
    if (process.platform !== 'win32') expect(statSync(join(dir, 'diag.json')).mode & 0o777).toBe(0o600);
    // No temporary file left behind.
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it.each([
    ['webrtc-internals', 'txt', (text: string) => expect(JSON.parse(text)).toHaveProperty('PeerConnections')],
    ['html', 'html', (text: string) => expect(text).toMatch(/^<!doctype html>/)],
  ] as const)('%s: a .%s file, still without secrets, addresses kept when asked', async (format, ext, check) => {
    const { s, requests } = saving((r, d) => join(d, `out.${r.filters[0]!.extensions[0]}`));
    const res = await s.saveDiagnostics(diagnosticsFixture(), { format, includeAddresses: true });
    expect(requests[0]!.defaultPath.endsWith(`.${ext}`)).toBe(true);
    const path = res.ok ? res.value!.path : '';
    expect(path.endsWith(`out.${ext}`)).toBe(true);
    const text = readFileSync(path, 'utf8');
    check(text);
    expect(findSecrets(text, ALL_SECRETS)).toEqual([]);
    expect(findSecrets(text, ['10.77.0.12'])).toEqual(['10.77.0.12']);
  });

  it('cancel writes nothing and resolves null', async () => {
    const { s, dir } = saving(() => null);
    const before = readdirSync(dir);
    expect(await s.saveDiagnostics(diagnosticsFixture(), { format: 'json', includeAddresses: false })).toEqual({ ok: true, value: null });
    expect(readdirSync(dir)).toEqual(before);
  });

  it.each([
    ['junk', 'not a document', { format: 'json', includeAddresses: false }],
    ['a wrong version', { ...diagnosticsFixture(), version: 7 }, { format: 'json', includeAddresses: false }],
    ['an unknown format', diagnosticsFixture(), { format: 'pdf', includeAddresses: false }],
  ])('refuses %s as invalid-argument, before any dialog', async (_name, doc, options) => {
    const { s, requests } = saving(() => '/nowhere');
    const res = await s.saveDiagnostics(doc, options as never);
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(requests).toEqual([]);
  });

  it('refuses clearly without a save dialog, and reports a path it cannot write', async () => {
    const plain = service();
    const res = await plain.saveDiagnostics(diagnosticsFixture(), { format: 'json', includeAddresses: false });
    expect(res).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringMatching(/cannot save files/) } });
    const { s, dir } = saving((_r, d) => join(d, 'missing', 'deeper', 'diag.json'));
    const failed = await s.saveDiagnostics(diagnosticsFixture(), { format: 'json', includeAddresses: false });
    expect(failed).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringMatching(/could not write .*ENOENT/) } });
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
