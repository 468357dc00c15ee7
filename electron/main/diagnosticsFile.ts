import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { DiagnosticsDocumentArg, SaveDiagnosticsOptions, type DiagnosticsDesktop, type DiagnosticsFormat } from '../../shared/diagnostics/document.js';
import { DIAGNOSTICS_FORMATS, diagnosticsFileName, serializeDiagnostics } from '../../shared/diagnostics/export.js';
import type { DesktopErrorCode } from '../../shared/ipc/desktopApi.js';

export class DiagnosticsSaveError extends Error {
  constructor(
    readonly code: DesktopErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SaveDialogFilter {
  name: string;
  extensions: string[];
}

export interface SaveDialogRequest {
  defaultPath: string;
  filters: SaveDialogFilter[];
}

/** Asks the user where to save: an absolute path, or null when they cancelled. */
export type SaveDialog = (request: SaveDialogRequest) => Promise<string | null>;

/** What to offer in the save dialog: `zerorange-diagnostics-<time>.<ext>` in `dir` (the Downloads folder). */
export function diagnosticsSaveRequest(format: DiagnosticsFormat, at: Date, dir: string | undefined): SaveDialogRequest {
  const name = diagnosticsFileName(format, at);
  const info = DIAGNOSTICS_FORMATS[format];
  return { defaultPath: dir ? join(dir, name) : name, filters: [{ name: info.label, extensions: [info.extension] }] };
}

/**
 * Writes `text` to `path` so that the file is either the old one or complete: a temporary file next
 * to it (created exclusively, owner-only), synced, then renamed over it. Readable by the owner only
 * (0600, also when the umask would allow more).
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      fchmodSync(fd, 0o600);
      const bytes = Buffer.from(text, 'utf8');
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export interface SaveDiagnosticsDeps {
  saveDialog: SaveDialog | undefined;
  downloadsDir: string | undefined;
  /** The shell's own section (IP policy, proxy, crash dumps, recent main log); it replaces whatever the page sent. */
  desktop?: () => Promise<DiagnosticsDesktop>;
}

/**
 * saveDiagnostics in main: validates the document and options, redacts and renders the document
 * (again: the renderer is not trusted to have redacted it), asks the user where to save, writes.
 * Null when the user cancelled. Throws DiagnosticsSaveError.
 */
export async function saveDiagnosticsFile(document: unknown, options: unknown, deps: SaveDiagnosticsDeps): Promise<{ path: string } | null> {
  const opts = SaveDiagnosticsOptions.safeParse(options);
  if (!opts.success) throw new DiagnosticsSaveError('invalid-argument', `diagnostics options: ${opts.error.issues[0]?.message ?? 'invalid'}`);
  const doc = DiagnosticsDocumentArg.safeParse(document);
  if (!doc.success) {
    const issue = doc.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new DiagnosticsSaveError('invalid-argument', `not a diagnostics document: ${where}${issue?.message ?? 'invalid'}`);
  }
  if (!deps.saveDialog) throw new DiagnosticsSaveError('internal', 'this build of the app cannot save files (it has no save dialog)');
  // Only main knows the desktop section: the page's claim about it is not kept.
  const { desktop: _fromPage, ...fromPage } = doc.data;
  const full = deps.desktop ? { ...fromPage, desktop: await deps.desktop() } : fromPage;
  // Rendered before asking, so a failure shows before the user has picked a file.
  const text = serializeDiagnostics(full, opts.data);
  const path = await deps.saveDialog(diagnosticsSaveRequest(opts.data.format, new Date(), deps.downloadsDir));
  if (path === null) return null;
  if (!isAbsolute(path)) throw new DiagnosticsSaveError('invalid-argument', 'the save dialog returned a relative path');
  try {
    writeFileAtomic(path, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DiagnosticsSaveError('internal', `could not write ${path}${code ? ` (${code})` : ''}`);
  }
  return { path };
}
