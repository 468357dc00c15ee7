import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Packs the app with electron-builder itself (its `files` globs, its production-dependency
// collection, the afterPack hook), for Linux into a directory, from a stand-in Electron so nothing
// is downloaded, then reads the app.asar it wrote: that is exactly what an installer would carry.
const require = createRequire(import.meta.url);
const ROOT = path.resolve(import.meta.dirname, '../..');
const builder = require('electron-builder') as {
  build(options: object): Promise<string[]>;
  Platform: { LINUX: { createTarget(type: string, arch: number): unknown } };
  Arch: { x64: number };
};
const asar = require('@electron/asar') as { listPackage(file: string, options?: object): string[] };
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string> };
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
};

type LintBlock = { files?: string[]; rules?: Record<string, unknown> };
// The layers' import allowlists are the record of what each runtime uses.
const eslintConfig = ((await import(pathToFileURL(path.join(ROOT, 'eslint.config.js')).href)) as { default: LintBlock[] }).default;

/** The packages a layer may import (eslint.config.js's allowlist) that are production dependencies. */
function layerPackages(files: string): string[] {
  const block = eslintConfig.find((c) => c.files?.includes(files));
  const rule = block?.rules?.['local/import-patterns'] as [string, { allow: (string | { module: string })[] }] | undefined;
  if (!rule) throw new Error(`no import allowlist for ${files}`);
  return rule[1].allow.map((a) => (typeof a === 'string' ? a : a.module)).filter((name) => name in pkg.dependencies);
}

/** Every package name `roots` bring in at run time, resolved through package-lock.json as Node would. */
function closure(roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const names = new Set<string>();
  const stack = roots.map((name) => ({ from: '', name }));
  while (stack.length > 0) {
    const { from, name } = stack.pop()!;
    let dir = from;
    let key: string | null = null;
    for (;;) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock.packages[candidate]) {
        key = candidate;
        break;
      }
      if (!dir) break;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up < 0 ? '' : dir.slice(0, up);
    }
    if (!key) throw new Error(`${name} (needed by ${from || 'the app'}) is not in package-lock.json`);
    if (seen.has(key)) continue;
    seen.add(key);
    names.add(name);
    const entry = lock.packages[key]!;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) stack.push({ from: key, name: dep });
  }
  return names;
}

/** Package names present under node_modules in the archive, nested ones included. */
function packedPackages(files: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    const parts = file.split('/');
    for (let i = parts.indexOf('node_modules'); i >= 0 && i < parts.length - 1; i = parts.indexOf('node_modules', i + 1)) {
      const name = parts[i + 1]!.startsWith('@') ? parts.slice(i + 1, i + 3).join('/') : parts[i + 1]!;
      if (name.includes('/') || !name.startsWith('@')) names.add(name);
    }
  }
  return names;
}

// Server-only: what the server may import and neither main nor shared may. Every other production
// dependency is the desktop's (electron-updater and electron-log are, before main imports them).
const DESKTOP_LAYERS = new Set([...layerPackages('electron/main/**/*.ts'), ...layerPackages('shared/**/*.ts')]);
const SERVER = layerPackages('server/**/*.ts').filter((name) => !DESKTOP_LAYERS.has(name));
const DESKTOP = Object.keys(pkg.dependencies).filter((name) => !SERVER.includes(name));

let work = '';
let files: string[] = [];

beforeAll(async () => {
  // What `npm run build` compiles (main, shared, server); the renderer bundle is not needed here.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b'], { cwd: ROOT, stdio: 'inherit' });
  work = mkdtempSync(path.join(tmpdir(), 'zr-pack-'));
  const electronDist = path.join(work, 'electron-dist');
  mkdirSync(electronDist);
  // A stand-in Electron binary that carries the fuse wire, so the afterPack hook runs as it would.
  writeFileSync(path.join(electronDist, 'electron'), Buffer.concat([Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'), Buffer.from([1, 9]), Buffer.from('101100011')]), { mode: 0o755 });
  const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
  await builder.build({
    projectDir: ROOT,
    targets: builder.Platform.LINUX.createTarget('dir', builder.Arch.x64),
    config: { electronDist, electronVersion, directories: { output: path.join(work, 'out') } },
    publish: 'never',
  });
  files = asar.listPackage(path.join(work, 'out/linux-unpacked/resources/app.asar'), { isPack: false }).map((f) => f.replaceAll('\\', '/'));
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packaged desktop app', () => {
  it('knows which packages are the desktop’s and which the server’s', () => {
    expect(DESKTOP).toEqual(expect.arrayContaining(['openid-client', 'jose', 'zod', 'ipaddr.js']));
    expect(SERVER).toEqual(expect.arrayContaining(['pino', 'prom-client', 'ws', 'ioredis', 'rate-limiter-flexible']));
  });

  it('holds the compiled main process, preload, renderer and shared code, and nothing of the server or dev tools', () => {
    const top = new Set(files.map((f) => f.split('/')[1]));
    expect([...top].sort()).toEqual(['build', 'node_modules', 'package.json']);
    const built = new Set(files.filter((f) => f.startsWith('/build/')).map((f) => f.split('/')[2]));
    expect([...built].every((dir) => ['electron', 'shared', 'renderer'].includes(dir!)), [...built].join(', ')).toBe(true);
    expect(files).toContain(`/${pkg.main}`);
    expect(files.filter((f) => f.startsWith('/build/') && /\.(map|ts|tsbuildinfo)$/.test(f))).toEqual([]);
  });

  it('carries exactly the desktop’s production dependencies, none of the server’s', () => {
    const packed = packedPackages(files);
    const needed = closure(DESKTOP);
    const serverOnly = [...closure(SERVER)].filter((name) => !needed.has(name));
    expect(serverOnly.filter((name) => packed.has(name)), 'server-only packages in the app: exclude them in electron-builder.yml').toEqual([]);
    expect([...needed].filter((name) => !packed.has(name)), 'packages the desktop needs but the app lacks').toEqual([]);
    expect([...packed].filter((name) => !needed.has(name)), 'packages nothing in the desktop needs').toEqual([]);
  });

  it('flipped the fuses in the packed binary', () => {
    const binary = readFileSync(path.join(work, 'out/linux-unpacked/zerorange'));
    expect(existsSync(path.join(work, 'out/linux-unpacked/zerorange'))).toBe(true);
    // RunAsNode (fuse 0) off after the hook; it was on in the stand-in.
    expect(String.fromCharCode(binary[34]!)).toBe('0');
  });
});
