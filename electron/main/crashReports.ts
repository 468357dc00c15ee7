import { sep } from 'node:path';

/** The part of Electron's crashReporter the app uses. */
export interface CrashReporterLike {
  start(options: { submitURL?: string; uploadToServer: boolean; productName?: string; compress?: boolean; ignoreSystemCrashHandler?: boolean }): void;
}

export interface CrashReportSettings {
  /** Send dumps to `submitUrl`. Off unless an organisation runs a collector and turns it on. */
  uploadToServer?: boolean;
  /** The organisation's crash collector (HTTPS; plain http only on loopback in development). */
  submitUrl?: string | null;
}

export interface CrashReportsInfo {
  /** Where the dumps are kept, with the home folder written as `~` (diagnostics carry it). */
  dir: string | null;
  /** Where dumps are sent; null when they stay on this computer. */
  uploadTo: string | null;
  /** Why uploads stay off although they were asked for; null when all is as configured. */
  warning: string | null;
}

export interface CrashReportDeps {
  /** app.getPath('crashDumps'). */
  dumpsDir: string | null;
  homeDir: string;
  productName: string;
  allowInsecureLoopback: boolean;
}

/** `/home/alice/.config/ZeroRange/Crashpad` → `~/.config/ZeroRange/Crashpad`: the account name is not needed to find it. */
export function homeRelative(path: string, home: string): string {
  if (!home) return path;
  if (path === home) return '~';
  return path.startsWith(home + sep) ? `~${path.slice(home.length)}` : path;
}

/** A submit URL fit to send dumps to, or the reason it is not. */
export function checkSubmitUrl(raw: string, allowInsecureLoopback: boolean): { ok: true; url: string } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `the crash report address "${raw}" is not a URL` };
  }
  if (url.username || url.password) return { ok: false, reason: 'the crash report address must not carry a user name or password' };
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback && allowInsecureLoopback)) return { ok: true, url: url.href };
  return { ok: false, reason: `the crash report address must use https: (got ${url.protocol})` };
}

/**
 * Starts Electron's crash reporter. Dumps are always written locally; they are uploaded only when
 * the settings ask for it with a valid collector address. A bad address keeps uploads off and says why.
 */
export function startCrashReports(reporter: CrashReporterLike, settings: CrashReportSettings, deps: CrashReportDeps): CrashReportsInfo {
  let uploadTo: string | null = null;
  let warning: string | null = null;
  if (settings.uploadToServer) {
    const checked = settings.submitUrl ? checkSubmitUrl(settings.submitUrl, deps.allowInsecureLoopback) : { ok: false as const, reason: 'no crash report address is set' };
    if (checked.ok) uploadTo = checked.url;
    else warning = `crash reports stay on this computer: ${checked.reason}`;
  }
  reporter.start({
    productName: deps.productName,
    uploadToServer: uploadTo !== null,
    ...(uploadTo ? { submitURL: uploadTo } : {}),
    compress: true,
  });
  return { dir: deps.dumpsDir ? homeRelative(deps.dumpsDir, deps.homeDir) : null, uploadTo, warning };
}
