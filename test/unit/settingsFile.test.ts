import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PREFERENCES, DEFAULT_SETTINGS, loadSettings, saveSettings, type Settings } from '../../electron/main/settingsFile.js';
import { DESKTOP_ARGS } from '../../shared/ipc/desktopApi.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

const rules = { allowInsecureLoopback: false };
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zr-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('settings file', () => {
  it('starts from the defaults when there is no file yet', () => {
    expect(loadSettings(join(dir, 'servers.json'), rules)).toEqual({ settings: DEFAULT_SETTINGS, keptCorruptAt: null });
  });

  it('writes owner-only and reads back what it wrote, leaving no temporary file', () => {
    const file = join(dir, 'servers.json');
    const settings: Settings = {
      current: 'https://calls.example.org',
      known: ['https://calls.example.org', 'https://other.example'],
      networkPolicy: 'relay-tls',
      preferences: { devices: { audioinput: { deviceId: 'mic-2', label: 'USB headset' }, videoinput: null, audiooutput: null }, startMuted: true, startCameraOff: false },
      window: { x: -1200, y: 40, width: 1000, height: 700, maximized: false },
    };
    saveSettings(file, settings);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['servers.json']);
    expect(loadSettings(file, rules)).toEqual({ settings, keptCorruptAt: null });
    // A second save replaces the file whole.
    saveSettings(file, { ...settings, known: ['https://calls.example.org'] });
    expect(loadSettings(file, rules).settings.known).toEqual(['https://calls.example.org']);
  });

  it('keeps only what passes today’s rules from a file that parses', () => {
    const file = join(dir, 'servers.json');
    writeFileSync(file, JSON.stringify({ current: 'http://plain.example', known: ['https://ok.example', 'http://plain.example', 42, 'https://ok.example'], networkPolicy: 'carrier-pigeon' }));
    expect(loadSettings(file, rules).settings).toEqual({ current: null, known: ['https://ok.example'], networkPolicy: 'auto', preferences: DEFAULT_PREFERENCES, window: null });
  });

  it('keeps each good preference when another is bad, and drops a window that is not one', () => {
    const file = join(dir, 'servers.json');
    const camera = { deviceId: 'cam-1', label: 'Built-in camera' };
    writeFileSync(
      file,
      JSON.stringify({ preferences: { devices: { videoinput: camera, audioinput: { deviceId: '' }, audiooutput: 'speaker' }, startMuted: 'yes', startCameraOff: true }, window: { x: 1, y: 2, width: -5, height: 600, maximized: false } }),
    );
    const { settings } = loadSettings(file, rules);
    expect(settings.preferences).toEqual({ devices: { videoinput: camera, audioinput: null, audiooutput: null }, startMuted: false, startCameraOff: true });
    expect(settings.window).toBeNull();
  });

  it.each([['{"current": "https://ok.exa'], ['[1, 2, 3]'], ['null'], ['']])('moves a corrupt file (%j) aside and starts from the defaults', (text) => {
    const file = join(dir, 'servers.json');
    writeFileSync(file, text);
    const loaded = loadSettings(file, rules);
    expect(loaded).toEqual({ settings: DEFAULT_SETTINGS, keptCorruptAt: `${file}.corrupt` });
    // Not lost: the bad file is still there to read, and the next save does not touch it.
    expect(readFileSync(`${file}.corrupt`, 'utf8')).toBe(text);
    expect(existsSync(file)).toBe(false);
    saveSettings(file, loaded.settings);
    expect(readFileSync(`${file}.corrupt`, 'utf8')).toBe(text);
  });

  it('the service says when it set a corrupt file aside, and carries on with the defaults', async () => {
    writeFileSync(join(dir, 'servers.json'), '{ not json');
    const warnings: string[] = [];
    const service = createTestDesktopService({ userDataDir: dir, openExternal: async () => undefined, networkInterfaces: () => ({}), warn: (m) => warnings.push(m) });
    try {
      const state = await service.getState();
      expect(state).toMatchObject({ ok: true, value: { server: null, knownServers: [], networkPolicy: 'auto' } });
      expect(warnings).toEqual([expect.stringContaining(join(dir, 'servers.json.corrupt'))]);
      await service.setNetworkPolicy('relay');
      expect(JSON.parse(readFileSync(join(dir, 'servers.json'), 'utf8'))).toMatchObject({ networkPolicy: 'relay' });
      expect(readFileSync(join(dir, 'servers.json.corrupt'), 'utf8')).toBe('{ not json');
    } finally {
      await service.dispose();
    }
  });

  it('the service keeps preferences and the window across restarts, changing only what a patch names', async () => {
    const make = () => createTestDesktopService({ userDataDir: dir, openExternal: async () => undefined, networkInterfaces: () => ({}) });
    const first = make();
    const mic = { deviceId: 'mic-2', label: 'USB headset' };
    try {
      expect(await first.getState()).toMatchObject({ value: { preferences: DEFAULT_PREFERENCES } });
      await first.setPreferences({ startMuted: true, devices: { audioinput: mic } });
      expect(await first.setPreferences({ startCameraOff: true })).toMatchObject({
        ok: true,
        value: { preferences: { startMuted: true, startCameraOff: true, devices: { audioinput: mic, videoinput: null } } },
      });
      first.saveWindowState({ x: 10, y: 20, width: 900, height: 600, maximized: true });
    } finally {
      await first.dispose();
    }
    const second = make();
    try {
      expect(await second.getState()).toMatchObject({ value: { preferences: { startMuted: true, startCameraOff: true, devices: { audioinput: mic } } } });
      expect(second.windowState()).toEqual({ x: 10, y: 20, width: 900, height: 600, maximized: true });
      // Back to the system default.
      expect(await second.setPreferences({ devices: { audioinput: null } })).toMatchObject({ value: { preferences: { devices: { audioinput: null } } } });
    } finally {
      await second.dispose();
    }
  });

  it('main refuses a preferences patch from the page that is not one', () => {
    const ok = (patch: unknown) => DESKTOP_ARGS.setPreferences.safeParse([patch]).success;
    expect(ok({ startMuted: true, devices: { videoinput: { deviceId: 'cam', label: '' } } })).toBe(true);
    expect(ok({ startMuted: 'yes' })).toBe(false);
    expect(ok({ devices: { camera: null } })).toBe(false);
    expect(ok({ devices: { videoinput: { deviceId: '', label: '' } } })).toBe(false);
    expect(ok({ window: { x: 0 } })).toBe(false);
  });
});
