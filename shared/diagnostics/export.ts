import type { DiagnosticsDocument, DiagnosticsFormat, SaveDiagnosticsOptions } from './document.js';
import { toHtmlReport } from './htmlReport.js';
import { redactDiagnostics } from './redact.js';
import { toWebrtcInternalsDump } from './webrtcInternals.js';

export { DiagnosticsFormat, SaveDiagnosticsOptions } from './document.js';

interface FormatInfo {
  extension: string;
  /** For the save dialog's filter. */
  label: string;
}

export const DIAGNOSTICS_FORMATS: Readonly<Record<DiagnosticsFormat, FormatInfo>> = {
  json: { extension: 'json', label: 'ZeroRange diagnostics (JSON)' },
  // chrome://webrtc-internals saves its dumps as .txt, and the tools that read them expect that.
  'webrtc-internals': { extension: 'txt', label: 'webrtc-internals dump' },
  html: { extension: 'html', label: 'HTML report' },
};

/** `zerorange-diagnostics-2025-01-31T12-00-00.000Z.json`: the ISO time, with `:` (not allowed on Windows) as `-`. */
export function diagnosticsFileName(format: DiagnosticsFormat, at: Date): string {
  return `zerorange-diagnostics-${at.toISOString().replace(/:/g, '-')}.${DIAGNOSTICS_FORMATS[format].extension}`;
}

/** Redacts (again: redaction is idempotent) and renders the document in `format`. */
export function serializeDiagnostics(doc: DiagnosticsDocument, options: SaveDiagnosticsOptions): string {
  const redacted = redactDiagnostics(doc, { includeAddresses: options.includeAddresses });
  switch (options.format) {
    case 'json':
      return `${JSON.stringify(redacted, null, 2)}\n`;
    case 'webrtc-internals':
      return `${JSON.stringify(toWebrtcInternalsDump(redacted), null, 2)}\n`;
    case 'html':
      return toHtmlReport(redacted);
  }
}
