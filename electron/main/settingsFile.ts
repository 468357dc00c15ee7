import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { NetworkPolicy } from '../../shared/ipc/desktopApi.js';
import { parseServerOrigin, type LinkRules } from '../../shared/links.js';

/** What the app keeps between runs about servers and the user's network choice (`servers.json`). */
export interface Settings {
  /** The server connected last, reconnected at start. */
  current: string | null;
  /** Servers the user has chosen to trust (origins). */
  known: string[];
  networkPolicy: NetworkPolicy;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({ current: null, known: [], networkPolicy: 'auto' });

export interface LoadedSettings {
  settings: Settings;
  /** Where an unreadable file was moved aside (`<file>.corrupt`), so a bad file is never lost silently. */
  keptCorruptAt: string | null;
}

function defaults(): Settings {
  return { ...DEFAULT_SETTINGS, known: [] };
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
  return { settings: { current, known: [...new Set(known)], networkPolicy: policy.success ? policy.data : 'auto' }, keptCorruptAt: null };
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
