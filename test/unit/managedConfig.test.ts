import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadManagedConfig, managedConfigPath, NO_MANAGED_CONFIG, parseManagedConfig } from '../../electron/main/managedConfig.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

const packaged = { allowInsecureLoopback: false };
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zr-managed-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string | null, options: { name?: string } = {}) {
  const file = join(dir, options.name ?? 'config.json');
  if (text !== null) writeFileSync(file, text);
  const warnings: string[] = [];
  const config = loadManagedConfig({ file, rules: packaged, warn: (m) => warnings.push(m) });
  return { config, warnings };
}

describe('managed configuration: where', () => {
  it('is machine-wide on each platform', () => {
    expect(managedConfigPath('linux', {})).toBe('/etc/zerorange/config.json');
    expect(managedConfigPath('darwin', {})).toBe('/Library/Application Support/ZeroRange/config.json');
    expect(managedConfigPath('win32', { ProgramData: 'D:\\ProgramData' })).toBe('D:\\ProgramData\\ZeroRange\\config.json');
    expect(managedConfigPath('win32', {})).toBe('C:\\ProgramData\\ZeroRange\\config.json');
  });
});

describe('managed configuration: reading', () => {
  it('absent: nothing is managed, and nothing is said', () => {
    expect(load(null)).toEqual({ config: NO_MANAGED_CONFIG, warnings: [] });
  });

  it('reads every setting', () => {
    const text = JSON.stringify({
      serverUrl: 'https://Signal.Example.com/',
      lockServer: true,
      networkPolicy: 'relay-tls',
      webrtcIpHandling: 'disable_non_proxied_udp',
      updates: { enabled: false, channel: 'beta', feedUrl: 'https://updates.example.com/zerorange/' },
    });
    expect(load(text)).toEqual({
      warnings: [],
      config: {
        source: join(dir, 'config.json'),
        server: { origin: 'https://signal.example.com', locked: true },
        networkPolicy: 'relay-tls',
        webrtcIpHandling: 'disable_non_proxied_udp',
        updates: { enabled: false, channel: 'beta', feedUrl: 'https://updates.example.com/zerorange/' },
      },
    });
  });

  it('pins a channel with updates left on, and presets a server without locking it', () => {
    const { config } = load(JSON.stringify({ serverUrl: 'https://calls.example.org', updates: { channel: 'stable' } }));
    expect(config.server).toEqual({ origin: 'https://calls.example.org', locked: false });
    expect(config.updates).toEqual({ enabled: true, channel: 'stable', feedUrl: null });
    expect(config.networkPolicy).toBeNull();
  });

  it.each([
    ['{ "serverUrl": ', /not JSON/],
    ['["https://calls.example.org"]', /not a JSON object/],
    ['{ "serverUrl": "http://calls.example.org" }', /serverUrl: the server must use https/],
    ['{ "serverUrl": "https://calls.example.org/path" }', /serverUrl: .*just https/],
    ['{ "lockServer": true }', /lockServer: needs serverUrl/],
    ['{ "networkPolicy": "carrier-pigeon" }', /networkPolicy:/],
    ['{ "updates": { "enabled": "no" } }', /updates\.enabled:/],
    ['{ "updates": { "channel": "../../latest" } }', /updates\.channel: a channel is/],
    ['{ "updates": { "chanel": "beta" } }', /updates:.*chanel/],
    ['{ "updates": { "feedUrl": "http://updates.example.com/" } }', /updates\.feedUrl: must be an https URL/],
    ['{ "updates": { "feedUrl": "https://user:pw@updates.example.com/" } }', /updates\.feedUrl: must not carry a user name or password/],
  ])('a broken file (%s) is logged, naming the problem, and ignored as a whole', (text, problem) => {
    const { config, warnings } = load(text);
    expect(config).toEqual(NO_MANAGED_CONFIG);
    expect(warnings).toEqual([expect.stringMatching(problem)]);
    expect(warnings[0]).toContain(join(dir, 'config.json'));
  });

  it('an unknown top-level setting is warned about and the rest applies', () => {
    const { config, warnings } = load(JSON.stringify({ networkPolicy: 'relay', autoStart: true }));
    expect(config.networkPolicy).toBe('relay');
    expect(warnings).toEqual([expect.stringMatching(/unknown setting "autoStart" ignored/)]);
  });

  it('a file that cannot be read is logged and ignored, never thrown', () => {
    mkdirSync(join(dir, 'config.json'));
    expect(load(null)).toMatchObject({ config: NO_MANAGED_CONFIG, warnings: [expect.stringMatching(/could not be read \(EISDIR\)/)] });
    if (process.getuid?.() !== 0) {
      // (root reads anything: the permission case only means something for other users)
      writeFileSync(join(dir, 'locked.json'), '{}');
      chmodSync(join(dir, 'locked.json'), 0o000);
      expect(load(null, { name: 'locked.json' }).warnings).toEqual([expect.stringMatching(/EACCES/)]);
    }
  });

  it('plain http is accepted only by an unpackaged build on loopback', () => {
    const text = '{ "serverUrl": "http://127.0.0.1:8787" }';
    expect(parseManagedConfig(text, 'f', packaged).ok).toBe(false);
    expect(parseManagedConfig(text, 'f', { allowInsecureLoopback: true })).toMatchObject({ ok: true, config: { server: { origin: 'http://127.0.0.1:8787' } } });
  });
});

describe('managed configuration in the desktop service', () => {
  const service = (managedText: string) => {
    const managed = parseManagedConfig(managedText, 'config.json', { allowInsecureLoopback: true });
    if (!managed.ok) throw new Error(managed.problems.join('; '));
    return createTestDesktopService({ userDataDir: join(dir, 'user'), openExternal: async () => undefined, networkInterfaces: () => ({}), managed: managed.config });
  };

  it('a fixed network policy wins over the user’s, cannot be changed, and says who set it', async () => {
    const s = service('{ "networkPolicy": "relay-tls" }');
    try {
      expect(await s.getState()).toMatchObject({ ok: true, value: { networkPolicy: 'relay-tls', managed: { networkPolicy: true, server: false } } });
      expect(await s.setNetworkPolicy('auto')).toEqual({ ok: false, error: { code: 'forbidden', message: 'the network policy is set by your organisation' } });
      expect(await s.getState()).toMatchObject({ value: { networkPolicy: 'relay-tls' } });
    } finally {
      await s.dispose();
    }
  });

  it('a locked server is the only one: trusted, not forgettable, no other can be set', async () => {
    // Nothing listens here: the service keeps the server chosen and reports it unreachable.
    const s = service('{ "serverUrl": "http://127.0.0.1:9", "lockServer": true }');
    try {
      const state = await s.getState();
      expect(state).toMatchObject({ ok: true, value: { knownServers: ['http://127.0.0.1:9'], managed: { server: true, networkPolicy: false } } });
      expect(await s.setServer('http://127.0.0.1:10')).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringMatching(/set by your organisation/) } });
      expect(await s.forgetServer('http://127.0.0.1:9')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect((await s.setNetworkPolicy('relay')).ok).toBe(true);
    } finally {
      await s.dispose();
    }
  });

  it('a preset server that is not locked can be left for another', async () => {
    const s = service('{ "serverUrl": "http://127.0.0.1:9" }');
    try {
      expect(await s.getState()).toMatchObject({ value: { knownServers: ['http://127.0.0.1:9'], managed: { server: false } } });
      expect(await s.forgetServer('http://127.0.0.1:9')).toMatchObject({ ok: true, value: { knownServers: [] } });
    } finally {
      await s.dispose();
    }
  });
});
