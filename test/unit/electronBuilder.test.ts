import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as Fuses from '@electron/fuses';
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
  linux: { target: string[]; mimeTypes: string[]; executableName: string };
  mac: { target: string; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string; extendInfo: Record<string, string> };
  win: { target: string };
  nsis: { oneClick: boolean; perMachine: boolean };
}

const load = () => getConfig(ROOT, path.join(ROOT, 'electron-builder.yml'), null);

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema", async () => {
    await expect(validateConfiguration(await load(), new DebugLogger(false))).resolves.toBeUndefined();
  });

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

  it('builds AppImage, deb and rpm, a hardened dmg and NSIS', async () => {
    const config = await load();
    expect(config.linux.target).toEqual(['AppImage', 'deb', 'rpm']);
    expect(config.mac.target).toBe('dmg');
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.win.target).toBe('nsis');
    expect(config.nsis).toMatchObject({ oneClick: false, perMachine: false });
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
