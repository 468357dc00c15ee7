import { useState } from 'react';
import type { DiagnosticsFormat } from '../../../shared/diagnostics/document.js';
import { callController } from '../controllers/index.js';

/**
 * Saves a diagnostics file (the call in progress, if any, and the latest network check) through
 * main's save dialog. Addresses are masked unless asked for; secrets are never included.
 */
export function ExportDiagnostics() {
  const [format, setFormat] = useState<DiagnosticsFormat>('json');
  const [includeAddresses, setIncludeAddresses] = useState(false);
  const [status, setStatus] = useState('');
  const save = async () => {
    setStatus('Saving…');
    try {
      const path = await callController().exportDiagnostics(format, includeAddresses);
      setStatus(path ? `Saved to ${path}` : 'Not saved');
    } catch (err) {
      setStatus(`Could not save: ${(err as Error).message}`);
    }
  };
  return (
    <div className="stats-export">
      <label>
        Format{' '}
        <select value={format} onChange={(e) => setFormat(e.target.value as DiagnosticsFormat)}>
          <option value="json">ZeroRange diagnostics (JSON)</option>
          <option value="webrtc-internals">webrtc-internals dump</option>
          <option value="html">Report (HTML)</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={includeAddresses} onChange={(e) => setIncludeAddresses(e.target.checked)} /> Include IP addresses
      </label>
      <button type="button" onClick={() => void save()}>
        Export diagnostics
      </button>
      <span role="status">{status}</span>
    </div>
  );
}

