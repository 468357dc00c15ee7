import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { NetworkPolicy, Preferences } from '../../shared/ipc/desktopApi.js';
import { parseServerOrigin, type LinkRules } from '../../shared/links.js';

/** The main window's place when it was last closed (normal bounds, in screen coordinates). */
export const WindowState = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().min(1).max(100_000),
  height: z.number().int().min(1).max(100_000),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof WindowState>;

/** What the app keeps between runs (`servers.json`): servers, the network choice, call preferences, the window. */
export interface Settings {
  /** The server connected last, reconnected at start. */
  current: string | null;
  /** Servers the user has chosen to trust (origins). */
  known: string[];
  networkPolicy: NetworkPolicy;
  preferences: Preferences;
  window: WindowState | null;
}

export const DEFAULT_PREFERENCES: Readonly<Preferences> = Object.freeze({
  devices: Object.freeze({ audioinput: null, videoinput: null, audiooutput: null }),
  startMuted: false,
  startCameraOff: false,
});

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({ current: null, known: [], networkPolicy: 'auto', preferences: DEFAULT_PREFERENCES, window: null });

export interface LoadedSettings {
  settings: Settings;
  /** Where an unreadable file was moved aside (`<file>.corrupt`), so a bad file is never lost silently. */
  keptCorruptAt: string | null;
}

function defaults(): Settings {
  return { ...DEFAULT_SETTINGS, known: [], preferences: structuredClone(DEFAULT_PREFERENCES) };
}

/** Each preference on its own: one bad field falls back to its default without losing the others. */
function readPreferences(raw: unknown): Preferences {
  const fields = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const devices = (fields.devices !== null && typeof fields.devices === 'object' ? fields.devices : {}) as Record<string, unknown>;
  const device = (kind: keyof Preferences['devices']) => {
    const parsed = Preferences.shape.devices.shape[kind].safeParse(devices[kind]);
    return parsed.success ? parsed.data : null;
  };
  return {
    devices: { audioinput: device('audioinput'), videoinput: device('videoinput'), audiooutput: device('audiooutput') },
    startMuted: fields.startMuted === true,
    startCameraOff: fields.startCameraOff === true,
  };
}

/**
 * Reads the settings. A missing file gives the defaults; a file that is not a JSON object is moved
 * aside to `<file>.corrupt` (the user or support can still read it) and the defaults are used. The
 * file is ours, but it is still input: only origins that pass today's rules are kept.
 */
export function loadSettings(file: string, rules: LinkRules): LoadedSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { settings: defaults(), keptCorruptAt: null }; // none yet (or unreadable: the next save replaces it)
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = null;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    const aside = `${file}.corrupt`;
    try {
      renameSync(file, aside);
    } catch {
      return { settings: defaults(), keptCorruptAt: null };
    }
    return { settings: defaults(), keptCorruptAt: aside };
  }
  const fields = raw as Partial<Record<keyof Settings, unknown>>;
  const known = Array.isArray(fields.known) ? fields.known.filter((o): o is string => typeof o === 'string' && parseServerOrigin(o, rules).ok) : [];
  const current = typeof fields.current === 'string' && known.includes(fields.current) ? fields.current : null;
  const policy = NetworkPolicy.safeParse(fields.networkPolicy);
  const window = WindowState.safeParse(fields.window);
  return {
    settings: {
      current,
      known: [...new Set(known)],
      networkPolicy: policy.success ? policy.data : 'auto',
      preferences: readPreferences(fields.preferences),
      window: window.success ? window.data : null,
    },
    keptCorruptAt: null,
  };
}

/** Writes the settings owner-only, whole or not at all: a crash mid-write leaves the previous file. */
export function saveSettings(file: string, settings: Settings): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(settings, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
