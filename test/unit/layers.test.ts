import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { PreloadApi } from '../../electron/preload/index.js';
import { DESKTOP_ARGS, DESKTOP_CALLS, DESKTOP_EVENTS, IPC_CHANNELS, type DesktopApi } from '../../shared/ipc/desktopApi.js';
import { LINT_WARM_UP_MS, importRefusals as refusals, warmUpLint } from '../support/lintProbe.js';

beforeAll(warmUpLint, LINT_WARM_UP_MS);

// The lint config is the written-down import graph; these cases prove it bites, on every import form.
const ROOT = path.resolve(import.meta.dirname, '../..');

type Case = [name: string, file: string, code: string];

describe('layer boundaries refuse', () => {
  const refused: Case[] = [
    // shared/ is pure
    ['shared importing Node', 'shared/protocol/x.ts', "import 'node:fs';"],
    ['shared importing the server', 'shared/protocol/x.ts', "import '../../server/src/app.js';"],
    ['shared importing React', 'shared/ipc/x.ts', "import 'react';"],
    ['shared importing React by type', 'shared/ipc/x.ts', "import type { FC } from 'react'; export type F = FC;"],
    ['the channel names importing zod', 'shared/ipc/channels.ts', "import { z } from 'zod'; export const s = z.string();"],
    ['the channel names importing another shared module', 'shared/ipc/channels.ts', "export { DesktopState } from './desktopApi.js';"],
    // the renderer: shared/, itself, React and zustand
    ['renderer importing Node', 'renderer/src/x.ts', "import 'node:path';"],
    ['renderer importing a bare Node builtin', 'renderer/src/x.ts', "import { readFileSync } from 'fs'; readFileSync('x');"],
    ['renderer importing Node types', 'renderer/src/x.ts', "import type { readFile } from 'node:fs'; export type R = typeof readFile;"],
    ['renderer importing Node types inline', 'renderer/src/x.ts', "import { type Stats } from 'node:fs'; export type S = Stats;"],
    ['renderer importing Electron', 'renderer/src/x.ts', "import 'electron';"],
    ['renderer loading Electron with import()', 'renderer/src/x.ts', "export async function f() { return await import('electron'); }"],
    ['renderer loading Electron with a template import()', 'renderer/src/x.ts', 'export const p = import(`electron`);'],
    ['renderer loading a computed specifier', 'renderer/src/x.ts', "const m = 'electron'; export async function f() { return await import(m); }"],
    ['renderer requiring fs', 'renderer/src/x.ts', "declare const require: (id: string) => unknown; export const fs = require('fs');"],
    ['renderer requiring through module', 'renderer/src/x.ts', "declare const module: { require(id: string): unknown }; export const fs = module.require('fs');"],
    ['renderer with import = require', 'renderer/src/x.ts', "import fs = require('fs'); export const r = fs;"],
    ['renderer with a type-level import()', 'renderer/src/x.ts', "export type W = import('electron').BrowserWindow;"],
    ['renderer referencing Node types', 'renderer/src/x.ts', '/// <reference types="node" />\nexport {};'],
    ['renderer importing prom-client', 'renderer/src/x.ts', "import 'prom-client';"],
    ['renderer importing openid-client', 'renderer/src/x.ts', "import * as oidc from 'openid-client'; export { oidc };"],
    ['renderer importing jose, ws or pino', 'renderer/src/x.ts', "import 'jose'; import 'ws'; import 'pino';"],
    ['renderer importing zod itself', 'renderer/src/x.ts', "import 'zod';"],
    ['renderer importing main-process code', 'renderer/src/x.ts', "import '../../electron/main/index.js';"],
    ['renderer re-exporting main-process code', 'renderer/src/x.ts', "export { registerIpc } from '../../electron/main/ipc.js';"],
    ['renderer re-exporting everything of the server', 'renderer/src/x.ts', "export * from '../../server/src/app.js';"],
    ['renderer importing test code', 'renderer/src/x.ts', "import '../../test/support/desktopBridge.js';"],
    // the preload: Electron's renderer-side IPC and the channel names
    ['preload importing Node', 'electron/preload/index.ts', "import 'node:fs';"],
    ['preload importing the main service', 'electron/preload/index.ts', "import { createDesktopService } from '../main/desktopService.js'; createDesktopService;"],
    ['preload importing zod', 'electron/preload/index.ts', "import { z } from 'zod'; z;"],
    ['preload importing the zod-laden contract', 'electron/preload/index.ts', "import { DESKTOP_ARGS } from '../../shared/ipc/desktopApi.js'; DESKTOP_ARGS;"],
    ['preload importing the contract by type', 'electron/preload/index.ts', "import { DESKTOP_ARGS, DESKTOP_CALLS, DESKTOP_EVENTS, IPC_CHANNELS, type DesktopApi } from '../../shared/ipc/desktopApi.js'; export type A = DesktopApi;"],
    ['preload importing main-side Electron', 'electron/preload/index.ts', "import { ipcRenderer, shell } from 'electron'; ipcRenderer; shell;"],
    ['preload importing all of Electron', 'electron/preload/index.ts', "import * as electron from 'electron'; electron;"],
    ['preload loading Electron with import()', 'electron/preload/index.ts', "export const e = import('electron');"],
    ['preload requiring Electron', 'electron/preload/index.ts', "declare const require: (id: string) => unknown; export const e = require('electron');"],
    // main and the server
    ['main importing the renderer', 'electron/main/x.ts', "import '../../renderer/src/desktop.js';"],
    ['main importing the preload', 'electron/main/x.ts', "import '../preload/index.js';"],
    ['main importing the server', 'electron/main/x.ts', "import '../../server/src/app.js';"],
    ['main importing dev code', 'electron/main/auth/x.ts', "import '../../../dev/stack.js';"],
    ['main importing React', 'electron/main/x.ts', "import 'react';"],
    ['server importing Electron', 'server/src/x.ts', "import 'electron';"],
    ['server loading Electron with import()', 'server/src/x.ts', "export async function f() { return import('electron'); }"],
    ['server loading a computed specifier', 'server/src/x.ts', "export async function f(name: string) { return import(name); }"],
    ['server importing the renderer', 'server/src/x.ts', "import '../../renderer/src/App.js';"],
    ['server importing main', 'server/src/http/x.ts', "import '../../../electron/main/ipc.js';"],
    ['server importing bench code', 'server/src/x.ts', "import '../../bench/signal/main.js';"],
    ['server importing a package it does not use', 'server/src/x.ts', "import 'openid-client';"],
  ];
  it.each(refused)('%s', async (_name, file, code) => {
    expect(await refusals(file, `${code}\n`)).not.toEqual([]);
  });
});

describe('layer boundaries allow', () => {
  const allowed: Case[] = [
    ['shared importing zod', 'shared/protocol/x.ts', "import 'zod';"],
    ['shared importing shared', 'shared/ipc/x.ts', "import '../protocol/index.js';"],
    ['renderer importing shared', 'renderer/src/x.ts', "import '../../shared/protocol/index.js';"],
    ['renderer importing shared by type', 'renderer/src/call/x.ts', "import type { DesktopApi } from '../../../shared/ipc/desktopApi.js'; export type A = DesktopApi;"],
    ['renderer importing itself, lazily', 'renderer/src/x.ts', "export const p = import('./store/index.js');"],
    ['renderer importing its stylesheet', 'renderer/src/x.ts', "import './styles.css';"],
    ['renderer importing React', 'renderer/src/x.tsx', "import { useState } from 'react'; import { createRoot } from 'react-dom/client'; useState; createRoot;"],
    ['renderer importing zustand', 'renderer/src/x.ts', "import { create } from 'zustand'; import { createStore } from 'zustand/vanilla'; create; createStore;"],
    ['preload importing its IPC', 'electron/preload/x.ts', "import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'; contextBridge; ipcRenderer; export type E = IpcRendererEvent;"],
    ['preload importing the channel names', 'electron/preload/x.ts', "import { IPC_CHANNELS } from '../../shared/ipc/channels.js'; IPC_CHANNELS;"],
    ['main importing Node, Electron and its packages', 'electron/main/auth/x.ts', "import 'node:fs'; import 'electron'; import 'openid-client'; import 'jose'; import 'zod';"],
    ['main importing shared and itself', 'electron/main/auth/x.ts', "import '../../../shared/ipc/desktopApi.js'; import '../ipc.js';"],
    ['server importing Node and its packages', 'server/src/http/x.ts', "import 'node:http'; import 'ws'; import 'pino'; import 'prom-client'; import 'jose'; import 'zod'; import 'ioredis'; import 'rate-limiter-flexible';"],
    ['server importing shared', 'server/src/x.ts', "import '../../shared/protocol/index.js';"],
    ['tests importing anything', 'test/unit/x.ts', "import '../../electron/main/ipc.js'; import '../../renderer/src/desktop.js'; import 'electron';"],
  ];
  it.each(allowed)('%s', async (_name, file, code) => {
    expect(await refusals(file, `${code}\n`)).toEqual([]);
  });
});

/** The preload as `npm run build:preload` bundles it, in memory. */
async function bundlePreload() {
  const script = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')).scripts['build:preload'] as string;
  expect(script).toContain('electron/preload/index.ts --bundle --platform=node --format=cjs --external:electron ');
  return build({
    absWorkingDir: ROOT,
    entryPoints: ['electron/preload/index.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['electron'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

describe('the preload', { timeout: 60_000 }, () => {
  it('bundles to a few kilobytes, without zod or the contract', async () => {
    const result = await bundlePreload();
    const bundle = result.outputFiles[0]!;
    expect(bundle.contents.byteLength).toBeLessThan(10 * 1024);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => input.includes('node_modules'))).toEqual([]);
    expect(inputs.sort()).toEqual(['electron/preload/index.ts', 'shared/ipc/channels.ts']);
    expect(bundle.text).not.toMatch(/zod/i);
  });

  it('exposes one function per method of the contract, each on its own channel', async () => {
    const bundle = (await bundlePreload()).outputFiles[0]!.text;
    const invoked: unknown[][] = [];
    const listeners = new Map<string, (event: unknown, value: unknown) => void>();
    const exposed: Record<string, Record<string, (...args: unknown[]) => unknown>> = {};
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...args: unknown[]) => unknown>) => (exposed[key] = api) },
      ipcRenderer: {
        invoke: async (...args: unknown[]) => invoked.push(args),
        on: (channel: string, listener: (event: unknown, value: unknown) => void) => listeners.set(channel, listener),
        removeListener: (channel: string, listener: unknown) => listeners.get(channel) === listener && listeners.delete(channel),
      },
    };
    // The sandboxed preload's require gives it Electron and nothing else.
    const preloadRequire = (id: string) => {
      if (id !== 'electron') throw new Error(`the preload required ${id}`);
      return electron;
    };
    new Function('require', 'module', 'exports', bundle)(preloadRequire, { exports: {} }, {});
    const desktop = exposed.desktop!;
    expect(Object.keys(exposed)).toEqual(['desktop']);
    expect(Object.keys(desktop).sort()).toEqual([...DESKTOP_CALLS, ...DESKTOP_EVENTS].sort());
    for (const call of DESKTOP_CALLS) {
      invoked.length = 0;
      const args = DESKTOP_ARGS[call].def.items.map((_, i) => `arg${i}`);
      await desktop[call]!(...args);
      expect(invoked, call).toEqual([[IPC_CHANNELS[call], ...args]]);
    }
    for (const event of DESKTOP_EVENTS) {
      const received: unknown[] = [];
      const unsubscribe = desktop[event]!((value: unknown) => received.push(value)) as () => void;
      listeners.get(IPC_CHANNELS[event])!({ sender: 'main' }, { from: event });
      expect(received, event).toEqual([{ from: event }]);
      unsubscribe();
      expect(listeners.has(IPC_CHANNELS[event]), event).toBe(false);
    }
  });

  it('exposes exactly the contract, by type', () => {
    expectTypeOf<keyof PreloadApi>().toEqualTypeOf<keyof DesktopApi>();
    expectTypeOf<PreloadApi>().toExtend<DesktopApi>();
  });
});

const rendererConfig = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'renderer/tsconfig.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: () => undefined,
})!;
// Library and package declarations are parsed once for all probes.
const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** Type-checks one renderer file written here, with renderer/tsconfig.json's options; returns its errors. */
function rendererTypeErrors(code: string): string[] {
  // Checked alone, not as a build: shared/ comes in as source, so the root is the repository's.
  const options = { ...rendererConfig.options, noEmit: true, composite: false, rootDir: ROOT };
  const probe = path.join(ROOT, 'renderer/src/layerProbe.ts');
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists } = host;
  host.fileExists = (file) => file === probe || fileExists(file);
  host.getSourceFile = (file, language, ...rest) => {
    if (file === probe) return ts.createSourceFile(file, code, language);
    if (!parsedFiles.has(file)) parsedFiles.set(file, getSourceFile(file, language, ...rest));
    return parsedFiles.get(file);
  };
  const program = ts.createProgram({ rootNames: [probe], options, host });
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(probe)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

describe('the renderer type-checks without Node', { timeout: 60_000 }, () => {
  const notAModule = /nodeOnly\.d\.ts' is not a module/;
  const noNode = /Cannot find name '(node:fs|Buffer)'/;
  it.each([
    ['Electron by import()', "export async function f() { return await import('electron'); }", notAModule],
    ['Electron by type', "export type W = import('electron').BrowserWindow;", notAModule],
    ['Node types', "import type { readFile } from 'node:fs'; export type R = typeof readFile;", noNode],
    ['a server package', "export type C = typeof import('prom-client');", notAModule],
    ['a main-process package', "export type O = typeof import('openid-client');", notAModule],
    ['Node globals', 'export const b = Buffer.from([]);', noNode],
  ])('refuses %s', (_name, code, why) => {
    const errors = rendererTypeErrors(code);
    expect(errors.some((error) => why.test(error)), errors.join('\n')).toBe(true);
  });

  it('accepts what the renderer uses', () => {
    expect(rendererTypeErrors("import { create } from 'zustand'; import type { DesktopApi } from '../../shared/ipc/desktopApi.js'; export const c = create; export type D = DesktopApi;")).toEqual([]);
  });
});
