import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as Fuses from '@electron/fuses';
import { signingPlan } from '../../scripts/signingPlan.js';
import { describe, expect, it } from 'vitest';

// electron-builder validates its configuration with its own schema; so does this test, without packaging.
const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '../..');
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: object | null): Promise<BuilderConfig>;
  validateConfiguration(config: object, debugLogger: object): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => object };
const fuses = require('@electron/fuses') as typeof Fuses;
const hook = require(path.join(ROOT, 'electron/build/afterPack.cjs')) as {
  afterPack(context: object): Promise<void>;
  fuses: Record<number, boolean>;
  electronBinaryPath(context: object): string;
};

interface BuilderConfig {
  appId: string;
  productName: string;
  files: (string | { from?: string; to?: string; filter: string[] })[];
  asar: boolean;
  afterPack: string;
  protocols: { name: string; schemes: string[] }[];
  linux: { target: string[]; mimeTypes: string[]; executableName: string; icon: string };
  deb: { depends: string[]; recommends: string[] };
  rpm: { depends: string[] };
  mac: { target: string; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string; extendInfo: Record<string, string>; icon: string; notarize: boolean };
  win: { target: string[]; icon: string; signtoolOptions: { signingHashAlgorithms: string[]; rfc3161TimeStampServer: string } };
  nsis: { oneClick: boolean; perMachine: boolean };
  msi: { perMachine: boolean; upgradeCode: string };
}

const load = () => getConfig(ROOT, path.join(ROOT, 'electron-builder.yml'), null);

describe('electron-builder.yml', () => {
  // The first validation compiles electron-builder's large JSON schema: seconds on a loaded machine.
  // Nothing here is timed; it only must finish.
  it("passes electron-builder's own schema", async () => {
    await expect(validateConfiguration(await load(), new DebugLogger(false))).resolves.toBeUndefined();
  }, 60_000);

  it('the schema check bites', async () => {
    const config = await load();
    await expect(validateConfiguration({ ...config, afterPak: 'typo' }, new DebugLogger(false))).rejects.toThrow(/afterPak/);
    await expect(validateConfiguration({ ...config, mac: { ...config.mac, hardenedRuntime: 'yes' } }, new DebugLogger(false))).rejects.toThrow();
  });

  it('names the app and registers zerorange: everywhere', async () => {
    const config = await load();
    expect(config.appId).toBe('org.zerorange.desktop');
    expect(config.productName).toBe('ZeroRange');
    expect(config.protocols.flatMap((p) => p.schemes)).toEqual(['zerorange']);
    expect(config.linux.mimeTypes).toContain('x-scheme-handler/zerorange');
  });

  it('builds AppImage, deb and rpm, a hardened and notarised dmg, NSIS and a per-machine MSI', async () => {
    const config = await load();
    expect(config.linux.target).toEqual(['AppImage', 'deb', 'rpm']);
    expect(config.mac.target).toBe('dmg');
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.notarize).toBe(true);
    expect(config.win.target).toEqual(['nsis', 'msi']);
    expect(config.nsis).toMatchObject({ oneClick: false, perMachine: false });
    // A fixed upgrade code: an MSI of the next version upgrades this one instead of installing beside it.
    expect(config.msi.perMachine).toBe(true);
    expect(config.msi.upgradeCode).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(config.win.signtoolOptions).toMatchObject({ signingHashAlgorithms: ['sha256'], rfc3161TimeStampServer: expect.stringMatching(/^https?:\/\//) });
  });

  it('makes deb and rpm packages depend on what Electron loads, and the keystore safeStorage uses', async () => {
    const { deb, rpm } = await load();
    for (const name of ['libgtk-3-0', 'libnss3', 'xdg-utils', 'libsecret-1-0']) expect(deb.depends).toContain(name);
    expect(deb.depends).toContain('libasound2 | libasound2t64'); // renamed in Debian 13 and Ubuntu 24.04
    expect(deb.recommends.join(' ')).toMatch(/gnome-keyring/); // a Secret Service for the refresh token
    for (const name of ['gtk3', 'nss', 'xdg-utils', 'libsecret']) expect(rpm.depends).toContain(name);
  });

  it('uses the icons rendered from icon.svg on every platform', async () => {
    const config = await load();
    expect(config.linux.icon).toBe('electron/resources/icons');
    expect(config.mac.icon).toBe('electron/resources/icon.icns');
    expect(config.win.icon).toBe('electron/resources/icon.ico');
    for (const file of [config.mac.icon, config.win.icon, path.join(config.linux.icon, '512x512.png')]) expect(existsSync(path.join(ROOT, file)), file).toBe(true);
  });

  it('asks for camera and microphone with usage descriptions and matching entitlements', async () => {
    const { mac } = await load();
    expect(mac.extendInfo.NSCameraUsageDescription).toMatch(/camera/i);
    expect(mac.extendInfo.NSMicrophoneUsageDescription).toMatch(/microphone/i);
    for (const file of [mac.entitlements, mac.entitlementsInherit]) {
      const plist = readFileSync(path.join(ROOT, file), 'utf8');
      expect(plist).toContain('<key>com.apple.security.device.camera</key>');
      expect(plist).toContain('<key>com.apple.security.device.audio-input</key>');
      // Hardened runtime exceptions that would re-open what the fuses close.
      expect(plist).not.toContain('com.apple.security.cs.allow-dyld-environment-variables');
      expect(plist).not.toContain('com.apple.security.cs.disable-library-validation');
    }
  });

  it('packs only the build output, into an asar', async () => {
    const config = await load();
    expect(config.asar).toBe(true);
    // getConfig normalises `files` into filter sets; none may copy from elsewhere.
    const patterns = config.files.flatMap((f) => (typeof f === 'string' ? [f] : (expect(f.from).toBeUndefined(), f.filter)));
    for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
      expect(pattern === 'package.json' || pattern.startsWith('build/'), pattern).toBe(true);
    }
    expect(patterns).toContain('build/electron/preload/index.cjs');
    expect(patterns).toContain('build/renderer/**');
    expect(patterns).toContain('!**/*.map');
  });

  it('runs the fuses hook after packing', async () => {
    const config = await load();
    expect(config.afterPack).toBe('./electron/build/afterPack.cjs');
    expect(existsSync(path.join(ROOT, config.afterPack))).toBe(true);
    expect(typeof hook.afterPack).toBe('function');
  });
});

describe('fuses', () => {
  const { FuseV1Options } = fuses;

  it('are set as reviewed', () => {
    expect(hook.fuses).toEqual({
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    });
  });

  it('find the Electron binary as electron-builder lays it out', () => {
    const packager = { appInfo: { productFilename: 'ZeroRange' }, executableName: 'zerorange' };
    expect(hook.electronBinaryPath({ appOutDir: '/out/linux-unpacked', electronPlatformName: 'linux', packager })).toBe('/out/linux-unpacked/zerorange');
    expect(hook.electronBinaryPath({ appOutDir: '/out/win-unpacked', electronPlatformName: 'win32', packager })).toBe('/out/win-unpacked/ZeroRange.exe');
    expect(hook.electronBinaryPath({ appOutDir: '/out/mac', electronPlatformName: 'darwin', packager })).toBe('/out/mac/ZeroRange.app');
  });

  it('are flipped in the packed binary by the hook', async () => {
    // A stand-in binary: the fuse sentinel, wire version 1, and a wire one fuse longer than this
    // @electron/fuses knows (as in newer Electrons), starting from Electron's defaults.
    const dir = await mkdtemp(path.join(tmpdir(), 'zr-fuses-'));
    try {
      const binary = path.join(dir, 'zerorange');
      const defaults = '101100011';
      await writeFile(binary, Buffer.concat([Buffer.from('ELF…'), Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'), Buffer.from([1, defaults.length]), Buffer.from(defaults), Buffer.from('…')]));
      await hook.afterPack({ appOutDir: dir, electronPlatformName: 'linux', packager: { executableName: 'zerorange', appInfo: { productFilename: 'ZeroRange' } } });
      const wire = await fuses.getCurrentFuseWire(binary);
      const state = (option: number) => String.fromCharCode(wire[option as keyof typeof wire] as number);
      expect(state(FuseV1Options.RunAsNode)).toBe('0');
      expect(state(FuseV1Options.EnableCookieEncryption)).toBe('1');
      expect(state(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe('0');
      expect(state(FuseV1Options.EnableNodeCliInspectArguments)).toBe('0');
      expect(state(FuseV1Options.EnableEmbeddedAsarIntegrityValidation)).toBe('1');
      expect(state(FuseV1Options.OnlyLoadAppFromAsar)).toBe('1');
      expect(state(FuseV1Options.LoadBrowserProcessSpecificV8Snapshot)).toBe('0'); // left as Electron ships it
      expect(state(FuseV1Options.GrantFileProtocolExtraPrivileges)).toBe('0');
      expect(String.fromCharCode((await readFile(binary)).at(-4)!)).toBe('1'); // the unknown ninth fuse is untouched
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('signing plan (npm run dist)', () => {
  const step = (plan: ReturnType<typeof signingPlan>, name: string) => plan.steps.find((s) => s.step === name);

  it('skips, saying which variables would turn it on, when nothing is set', () => {
    const mac = signingPlan({}, 'darwin');
    expect(mac.errors).toEqual([]);
    expect(step(mac, 'macOS signing')).toMatchObject({ enabled: false, message: expect.stringMatching(/CSC_LINK.*CSC_KEY_PASSWORD/) });
    expect(step(mac, 'macOS notarisation')).toMatchObject({ enabled: false, message: expect.stringMatching(/APPLE_API_KEY.*APPLE_ID.*APPLE_KEYCHAIN_PROFILE/) });
    expect(step(signingPlan({}, 'win32'), 'Windows signing')).toMatchObject({ enabled: false, message: expect.stringMatching(/WIN_CSC_LINK/) });
    expect(signingPlan({}, 'linux')).toEqual({ steps: [], errors: [] });
  });

  it('signs and notarises when a whole group is set', () => {
    const mac = signingPlan({ CSC_LINK: '/secure/dev-id.p12', CSC_KEY_PASSWORD: 'pw', APPLE_API_KEY: '/secure/key.p8', APPLE_API_KEY_ID: 'K', APPLE_API_ISSUER: 'I' }, 'darwin');
    expect(mac.errors).toEqual([]);
    expect(mac.steps.every((s) => s.enabled)).toBe(true);
    expect(step(mac, 'macOS notarisation')!.message).toMatch(/API key/);
    // Windows targets built on Linux are signed too when a Windows certificate is given.
    expect(step(signingPlan({ WIN_CSC_LINK: 'cert.pfx', WIN_CSC_KEY_PASSWORD: 'pw' }, 'linux'), 'Windows signing')).toMatchObject({ enabled: true });
  });

  it('stops on half a group, before a long build', () => {
    expect(signingPlan({ APPLE_ID: 'a@example.com', APPLE_TEAM_ID: 'T' }, 'darwin').errors).toEqual([expect.stringMatching(/APPLE_APP_SPECIFIC_PASSWORD missing/)]);
    expect(signingPlan({ WIN_CSC_LINK: 'cert.pfx' }, 'win32').errors).toEqual([expect.stringMatching(/WIN_CSC_LINK is set but .*PASSWORD/)]);
  });

  it('makes a skipped step an error when signing is required', () => {
    expect(signingPlan({ ZR_REQUIRE_SIGNING: '1' }, 'darwin').errors).toHaveLength(2);
    expect(signingPlan({ ZR_REQUIRE_SIGNING: '1', WIN_CSC_LINK: 'c.pfx', WIN_CSC_KEY_PASSWORD: 'pw' }, 'win32').errors).toEqual([]);
  });
});
