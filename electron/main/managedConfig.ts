import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { NetworkPolicy } from '../../shared/ipc/desktopApi.js';
import { IpHandlingPolicy } from '../../shared/ipc/shellServices.js';
import { parseServerOrigin, type LinkRules } from '../../shared/links.js';

/**
 * The managed configuration an administrator rolls out beside the app (Group Policy file copy, MDM,
 * configuration management): the server to use, updates off or on a pinned channel, and a fixed
 * network policy. Read once at start; the app never writes it. A file that cannot be used is logged
 * and ignored as a whole (half an organisation's policy is worse than none); it never stops the app.
 */

/** Where the file is on each platform (machine-wide, writable only by administrators). */
export function managedConfigPath(platform: NodeJS.Platform, env: Readonly<Record<string, string | undefined>>): string {
  if (platform === 'win32') return path.win32.join(env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData', 'ZeroRange', 'config.json');
  if (platform === 'darwin') return '/Library/Application Support/ZeroRange/config.json';
  return '/etc/zerorange/config.json';
}


const FileSchema = z.object({
  /** The server the app connects to when the user has none yet (https://host[:port]). */
  serverUrl: z.string().max(512).optional(),
  /** Only `serverUrl` may be used: the user cannot connect elsewhere or forget it. */
  lockServer: z.boolean().optional(),
  /** The network policy for every call; the user cannot change it. */
  networkPolicy: NetworkPolicy.optional(),
  /** The WebRTC IP-handling policy; the user cannot change it. */
  webrtcIpHandling: IpHandlingPolicy.optional(),
  updates: z
    .object({
      /** false: the app never checks for, downloads or installs updates. */
      enabled: z.boolean().optional(),
      /** Pins the update channel (e.g. `stable`, `beta`); the feed's `<channel>.yml`. */
      channel: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a channel is lowercase letters, digits and hyphens').optional(),
      /** The organisation's own update server (electron-updater's generic provider): an https URL. */
      feedUrl: z
        .url({ protocol: /^https$/, error: 'must be an https URL such as https://updates.example.com/zerorange/' })
        .max(512)
        .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry a user name or password')
        .optional(),
    })
    .strict()
    .optional(),
});
type FileShape = z.infer<typeof FileSchema>;
const KNOWN_KEYS = new Set(Object.keys(FileSchema.shape));

export interface ManagedConfig {
  /** The file the values came from, or null when there was none (or it was ignored). */
  source: string | null;
  server: { origin: string; locked: boolean } | null;
  networkPolicy: NetworkPolicy | null;
  webrtcIpHandling: IpHandlingPolicy | null;
  /** For the updater: whether it may run at all, the channel it must follow and where from (null: its own). */
  updates: { enabled: boolean; channel: string | null; feedUrl: string | null };
}

export const NO_MANAGED_CONFIG: Readonly<ManagedConfig> = Object.freeze({
  source: null,
  server: null,
  networkPolicy: null,
  webrtcIpHandling: null,
  updates: Object.freeze({ enabled: true, channel: null, feedUrl: null }),
});

export type ParsedManagedConfig = { ok: true; config: ManagedConfig; warnings: string[] } | { ok: false; problems: string[] };

/** Validates a file's text. Unknown keys are warned about (a newer app's setting, a typo) and skipped. */
export function parseManagedConfig(text: string, source: string, rules: LinkRules): ParsedManagedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [`not JSON: ${(err as Error).message}`] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, problems: ['not a JSON object'] };
  const warnings = Object.keys(raw)
    .filter((key) => !KNOWN_KEYS.has(key))
    .map((key) => `unknown setting "${key}" ignored (known: ${[...KNOWN_KEYS].join(', ')})`);
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`) };
  return toConfig(parsed.data, source, rules, warnings);
}

function toConfig(file: FileShape, source: string, rules: LinkRules, warnings: string[]): ParsedManagedConfig {
  let server: ManagedConfig['server'] = null;
  if (file.serverUrl !== undefined) {
    const origin = parseServerOrigin(file.serverUrl.trim(), rules);
    if (!origin.ok) return { ok: false, problems: [`serverUrl: ${origin.reason}`] };
    server = { origin: origin.origin, locked: file.lockServer === true };
  } else if (file.lockServer) {
    return { ok: false, problems: ['lockServer: needs serverUrl'] };
  }
  return {
    ok: true,
    warnings,
    config: {
      source,
      server,
      networkPolicy: file.networkPolicy ?? null,
      webrtcIpHandling: file.webrtcIpHandling ?? null,
      updates: { enabled: file.updates?.enabled ?? true, channel: file.updates?.channel ?? null, feedUrl: file.updates?.feedUrl ?? null },
    },
  };
}

export interface LoadManagedConfigOptions {
  file: string;
  rules: LinkRules;
  /** Where problems with the file go (main's log). */
  warn: (message: string) => void;
  readFile?: (file: string) => string;
}

/** Reads the file if there is one. Absent: nothing is managed. Unusable: logged, and nothing is managed. */
export function loadManagedConfig(options: LoadManagedConfigOptions): ManagedConfig {
  const read = options.readFile ?? ((file: string) => readFileSync(file, 'utf8'));
  let text: string;
  try {
    text = read(options.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') options.warn(`managed configuration ${options.file} could not be read (${code ?? String(err)}); ignored`);
    return NO_MANAGED_CONFIG;
  }
  const parsed = parseManagedConfig(text, options.file, options.rules);
  if (!parsed.ok) {
    options.warn(`managed configuration ${options.file} ignored: ${parsed.problems.join('; ')}`);
    return NO_MANAGED_CONFIG;
  }
  for (const warning of parsed.warnings) options.warn(`managed configuration ${options.file}: ${warning}`);
  return parsed.config;
}
