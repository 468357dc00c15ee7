import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDesktopService, type DesktopService } from '../../electron/main/desktopService.js';
import type { ScreenSource } from '../../shared/ipc/desktopApi.js';
import { fakeSafeStorage } from '../support/fakeSafeStorage.js';

const dirs: string[] = [];
const services: DesktopService[] = [];

function service(dir = mkdtempSync(join(tmpdir(), 'zr-service-'))): DesktopService {
  dirs.push(dir);
  const s = createDesktopService({
    appInfo: () => ({ name: 'ZeroRange', version: '0', electron: null, chrome: null, node: null, platform: 'linux', arch: 'x64', packaged: false }),
    openExternal: async () => undefined,
    safeStorage: fakeSafeStorage(),
    userDataDir: dir,
    platform: 'linux',
    allowInsecureLoopback: true,
    networkInterfaces: () => ({ eth0: [{ address: '10.1.2.3', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '10.1.2.3/24' }] }),
    // Nothing here may reach a network.
    fetch: async () => {
      throw new Error('no network in this test');
    },
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
