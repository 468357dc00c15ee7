import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, loadSettings, saveSettings } from '../../electron/main/settingsFile.js';
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
    const settings = { current: 'https://calls.example.org', known: ['https://calls.example.org', 'https://other.example'], networkPolicy: 'relay-tls' as const };
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
    expect(loadSettings(file, rules).settings).toEqual({ current: null, known: ['https://ok.example'], networkPolicy: 'auto' });
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
});
