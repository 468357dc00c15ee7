import { escapeHtml } from '../html.js';
import type { DiagnosticsDocument, DiagnosticsPeer } from './document.js';
import { peerSeries, type Point } from './metrics.js';

/**
 * A human-readable report of a (redacted) diagnostics document: one self-contained HTML file, no
 * scripts, no external resources (the CSP in it says so too), charts as inline SVG. Every piece of
 * text from the document is escaped.
 */



type Cell = string | number | boolean | null;

function cell(value: Cell): string {
  if (value === null) return '<td class="none">—</td>';
  return `<td>${escapeHtml(String(value))}</td>`;
}

function table(headers: string[], rows: Cell[][]): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map(cell).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function keyValues(entries: [string, Cell][]): string {
  return `<table class="kv"><tbody>${entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th>${cell(v)}</tr>`).join('')}</tbody></table>`;
}

/** Long or multi-line text folds away (details/summary needs no script). */
function text(value: string): string {
  if (value.length <= 160 && !value.includes('\n')) return escapeHtml(value);
  return `<details><summary>${escapeHtml(value.slice(0, 80).replace(/\s+/g, ' '))}…</summary><pre>${escapeHtml(value)}</pre></details>`;
}

const MAX_CHART_POINTS = 400;
const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(1));

function downsample(points: Point[]): Point[] {
  if (points.length <= MAX_CHART_POINTS) return points;
  const step = points.length / MAX_CHART_POINTS;
  const out: Point[] = [];
  for (let i = 0; i < MAX_CHART_POINTS; i++) out.push(points[Math.floor(i * step)]!);
  out.push(points[points.length - 1]!);
  return out;
}

/** A sparkline: only numbers we computed go into the SVG; the label is escaped. */
export function sparkline(label: string, unit: string, series: Point[]): string {
  const caption = escapeHtml(label);
  if (series.length === 0) return `<figure class="chart"><figcaption>${caption}</figcaption><p class="none">no data</p></figure>`;
  const points = downsample(series);
  const [w, h, pad] = [320, 64, 3];
  const t0 = points[0]![0];
  const span = points[points.length - 1]![0] - t0 || 1;
  const values = points.map(([, v]) => v);
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values);
  const range = hi - lo || 1;
  const coords = points
    .map(([t, v]) => `${(pad + ((t - t0) / span) * (w - 2 * pad)).toFixed(1)},${(h - pad - ((v - lo) / range) * (h - 2 * pad)).toFixed(1)}`)
    .join(' ');
  const last = values[values.length - 1]!;
  const summary = `${caption}: last ${fmt(last)} ${escapeHtml(unit)}, max ${fmt(hi)} ${escapeHtml(unit)} (${series.length} samples)`;
  return (
    `<figure class="chart"><figcaption>${summary}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${summary}">` +
    `<rect x="0" y="0" width="${w}" height="${h}" class="bg"/>` +
    `<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${coords}"/></svg></figure>`
  );
}

function peerSection(doc: DiagnosticsDocument, peer: DiagnosticsPeer): string {
  const series = peerSeries(peer);
  const title = peer.displayName ? `${peer.displayName} (${peer.peerId})` : peer.peerId;
  const candidates = [
    ...peer.candidates.local.map((c) => ['local', c] as const),
    ...peer.candidates.remote.map((c) => ['remote', c] as const),
  ].map(([side, c]): Cell[] => [side, c.id, c.type, c.protocol, c.relayProtocol, c.address, c.port, c.url]);
  const latest = peer.statsHistory[peer.statsHistory.length - 1];
  const events = doc.timeline.filter((e) => e.peerId === peer.peerId).length;
  return [
    `<section class="peer"><h2>${escapeHtml(title)}</h2>`,
    keyValues([
      ['Connection', peer.states.connection],
      ['ICE', peer.states.ice],
      ['ICE gathering', peer.states.iceGathering],
      ['DTLS', peer.states.dtls],
      ['Timeline events', events],
    ]),
    '<div class="charts">',
    sparkline('Round-trip time', 'ms', series.rttMs),
    sparkline('Packet loss', '%', series.lossPct),
    sparkline('Bitrate', 'kbit/s', series.kbps),
    '</div>',
    '<h3>Candidates</h3>',
    table(['Side', 'ID', 'Type', 'Protocol', 'Relay protocol', 'Address', 'Port', 'URL'], candidates),
    '<h3>Candidate pairs</h3>',
    table(
      ['ID', 'Local', 'Remote', 'State', 'Nominated', 'RTT (ms)'],
      peer.candidatePairs.map((p) => [
        p.id,
        p.localCandidateId,
        p.remoteCandidateId,
        p.state,
        p.nominated,
        p.currentRoundTripTime === null ? null : fmt(p.currentRoundTripTime * 1000),
      ]),
    ),
    '<h3>Selected pair history</h3>',
    table(
      ['Time', 'Local type', 'Remote type', 'Protocol', 'Relay protocol'],
      peer.selectedPairHistory.map((s) => [s.at, s.localType, s.remoteType, s.protocol, s.relayProtocol]),
    ),
    latest
      ? `<details><summary>Latest stats snapshot (${escapeHtml(latest.at)})</summary><pre>${escapeHtml(JSON.stringify(latest.snapshot, null, 2))}</pre></details>`
      : '<p class="none">no stats collected</p>',
    '</section>',
  ].join('\n');
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2330; background: #fff; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { border: 1px solid #d5d9e0; padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f5f8; } td.none, p.none { color: #8a93a3; }
pre { white-space: pre-wrap; word-break: break-all; max-width: 100ch; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; } figure.chart { margin: 0; color: #2563eb; } figcaption { color: #1d2330; font-size: 12px; }
svg .bg { fill: #f7f9fc; }
`;

/** The shell's part: IP handling, proxy, crash dumps and the main process's recent log. */
function desktopSection(doc: DiagnosticsDocument): string[] {
  const desktop = doc.desktop;
  if (!desktop) return [];
  const proxy = desktop.proxy.inUse == null ? 'unknown' : desktop.proxy.inUse ? `yes (${desktop.proxy.kinds.join(', ')})` : 'no (direct)';
  return [
    '<h2>Desktop</h2>',
    keyValues([
      ['WebRTC IP handling', desktop.ipHandlingPolicy],
      ['Proxy to the server', proxy],
      ['Crash dumps folder', desktop.crashDumps.dir],
      ['Crash reports sent to', desktop.crashDumps.uploadTo ?? 'nowhere (kept on this computer)'],
    ]),
    '<h3>Main process log (latest lines)</h3>',
    desktop.mainLog.length ? `<pre>${escapeHtml(desktop.mainLog.join('\n'))}</pre>` : '<p class="none">empty</p>',
  ];
}

/** The whole report, one HTML string (UTF-8). */
export function toHtmlReport(doc: DiagnosticsDocument): string {
  const { app, settings } = doc;
  const body = [
    '<h1>ZeroRange diagnostics</h1>',
    `<p>Generated ${escapeHtml(doc.generatedAt)} · format version ${doc.version}</p>`,
    '<h2>App</h2>',
    keyValues([
      ['Name', app.name],
      ['Version', app.version],
      ['Electron', app.electron],
      ['Chrome', app.chrome],
      ['Node', app.node],
      ['Platform', `${app.platform} (${app.arch})`],
    ]),
    '<h2>Network settings</h2>',
    keyValues([
      ['Network policy (chosen)', settings.networkPolicy],
      ['Network policy (in effect)', settings.effectivePolicy],
      ['Restrictive network', settings.restrictiveNetwork],
    ]),
    ...desktopSection(doc),
    '<h2>ICE servers</h2>',
    doc.iceServers.length ? `<ul>${doc.iceServers.map((u) => `<li>${escapeHtml(u)}</li>`).join('')}</ul>` : '<p class="none">none</p>',
    '<h2>Network check</h2>',
    doc.networkCheck ? `<pre>${escapeHtml(JSON.stringify(doc.networkCheck, null, 2))}</pre>` : '<p class="none">no network check ran</p>',
    ...doc.peers.map((peer) => peerSection(doc, peer)),
    '<h2>Timeline</h2>',
    doc.timeline.length
      ? `<table><thead><tr><th>Time</th><th>Peer</th><th>Event</th><th>Detail</th></tr></thead><tbody>\n${doc.timeline
          .map((e) => `<tr>${cell(e.at)}${cell(e.peerId)}${cell(e.kind)}<td>${text(e.detail)}</td></tr>`)
          .join('\n')}\n</tbody></table>`
      : '<p class="none">no events</p>',
  ];
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Even if something slipped through escaping, nothing would run or load.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>ZeroRange diagnostics ${escapeHtml(doc.generatedAt)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}
