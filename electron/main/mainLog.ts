import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type nodeLog from 'electron-log/node';
import { redactText, redactValue } from '../../shared/diagnostics/redact.js';
import type { RendererErrorReport } from '../../shared/ipc/shellServices.js';

/** electron-log's logger (`electron-log/main` in the app, `electron-log/node` in tests). */
export type ElectronLogger = typeof nodeLog;

export interface MainLogOptions {
  /** The user's log folder (app.getPath('logs')). */
  dir: string;
  /** Past this size main.log becomes main.old.log and a new one starts; 1 MiB. */
  maxBytes?: number;
  level?: 'error' | 'warn' | 'info' | 'debug';
  /** Renderer error reports kept per minute; more are counted and said once. 30. */
  rendererReportsPerMinute?: number;
  now?: () => number;
}

export interface MainLog {
  readonly file: string;
  error(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  info(...data: unknown[]): void;
  /** An error the page did not handle, forwarded over IPC; rate-limited so a page in a loop cannot fill the disk. */
  rendererError(report: RendererErrorReport): void;
  /** The latest lines, oldest first, across the rotated file and the current one; redacted again. */
  recent(maxLines?: number): string[];
}

// In the file secrets never appear; addresses stay (the file is on the user's own disk), and the
// diagnostics export masks them unless the user asks to include them.
const FILE_RULES = { includeAddresses: true };

function redactArgument(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value, FILE_RULES);
  if (value instanceof Error) return redactText(value.stack ?? `${value.name}: ${value.message}`, FILE_RULES);
  if (value !== null && typeof value === 'object') {
    // Plain data is redacted field by field (secret-named fields dropped); anything else as text.
    const proto = Object.getPrototypeOf(value) as unknown;
    if (Array.isArray(value) || proto === Object.prototype || proto === null) return redactValue(value, FILE_RULES);
    return redactText(inspect(value, { depth: 4 }), FILE_RULES);
  }
  return value;
}

/**
 * Sets electron-log up for the main process: `main.log` in the user's log folder, rotated at
 * `maxBytes` to `main.old.log`, every message redacted by the diagnostics rules before any transport
 * sees it (never a token, credential or SDP fingerprint).
 */
export function configureMainLog(log: ElectronLogger, options: MainLogOptions): MainLog {
  const file = join(options.dir, 'main.log');
  const now = options.now ?? Date.now;
  log.transports.file.resolvePathFn = () => file;
  log.transports.file.maxSize = options.maxBytes ?? 1024 * 1024;
  log.transports.file.level = options.level ?? 'info';
  // Owner-only: server addresses and account names are nobody else's business.
  log.transports.file.writeOptions = { flag: 'a', mode: 0o600, encoding: 'utf8' };
  log.hooks.push((message) => ({ ...message, data: message.data.map(redactArgument) }));

  const budget = options.rendererReportsPerMinute ?? 30;
  let windowStart = now();
  let used = 0;
  let dropped = 0;

  return {
    file,
    error: (...data) => log.error(...data),
    warn: (...data) => log.warn(...data),
    info: (...data) => log.info(...data),
    rendererError(report) {
      if (now() - windowStart >= 60_000) {
        if (dropped > 0) log.warn(`renderer: ${dropped} more error reports in the last minute were not logged`);
        windowStart = now();
        used = 0;
        dropped = 0;
      }
      if (used >= budget) {
        dropped += 1;
        return;
      }
      used += 1;
      // The page's text cannot pose as log lines of its own: one line for the message, the stack indented.
      const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ');
      const stack = report.stack ? `\n    ${report.stack.split(/\r?\n/).map((l) => l.trim()).join('\n    ')}` : '';
      log.error(`renderer (${oneLine(report.source)}): ${oneLine(report.message)}${stack}`);
    },
    recent(maxLines = 500) {
      const lines = [join(options.dir, 'main.old.log'), file].flatMap((path) => {
        try {
          return readFileSync(path, 'utf8').split('\n').filter(Boolean);
        } catch {
          return [];
        }
      });
      return lines.slice(-maxLines).map((line) => redactText(line, FILE_RULES));
    },
  };
}
