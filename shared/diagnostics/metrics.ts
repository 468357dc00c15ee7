import type { DiagnosticsPeer, StatsSample } from './document.js';

/**
 * Reading numbers out of the opaque stats snapshots. A snapshot may be the renderer's stats module's
 * PeerStatsSnapshot (`{ at, path: {…}, transport: {…}, quality: { rttMs, lossInPercent, audioIn: { bitrate } … } }`),
 * an RTCStatsReport made into an object (`{ [statsId]: { type, …fields } }`), or a flat summary: top-level
 * numbers belong to a `summary` entry, objects are entries (their `type`, else their key, is the
 * stats type) with nested numbers flattened to dotted fields.
 */

export interface NumericField {
  statsId: string;
  statsType: string;
  /** Dotted path inside the entry; never contains `-` (webrtc-internals splits `<id>-<field>` on the last one). */
  field: string;
  value: number;
}

export const SUMMARY_ID = 'summary';

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const fieldName = (path: string[]) => path.join('.').replace(/-/g, '_');

function walk(value: Record<string, unknown>, path: string[], depth: number, out: (field: string, v: number) => void): void {
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'number' && Number.isFinite(v)) out(fieldName([...path, key]), v);
    else if (isRecord(v) && depth < 8) walk(v, [...path, key], depth + 1, out);
  }
}

export function numericFields(snapshot: Record<string, unknown>): NumericField[] {
  const out: NumericField[] = [];
  for (const [key, v] of Object.entries(snapshot)) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      out.push({ statsId: SUMMARY_ID, statsType: 'zerorange', field: fieldName([key]), value: v });
    } else if (isRecord(v)) {
      const statsType = typeof v.type === 'string' ? v.type : key;
      walk(v, [], 0, (field, value) => out.push({ statsId: key, statsType, field, value }));
    }
  }
  return out;
}

/** One point of a chart: milliseconds since the epoch, value. */
export type Point = [number, number];

export interface PeerSeries {
  rttMs: Point[];
  lossPct: Point[];
  kbps: Point[];
}

const last = (field: string) => field.slice(field.lastIndexOf('.') + 1).toLowerCase();

/** The first field (by priority of name) present, scaled. */
function direct(fields: NumericField[], names: [string, number, string?][]): number | null {
  for (const [name, scale, type] of names) {
    const hit = fields.find((f) => last(f.field) === name && (type === undefined || f.statsType === type));
    if (hit) return hit.value * scale;
  }
  return null;
}

/** Sum of a counter over the entries of the first group of types that has it. */
function counter(fields: NumericField[], name: string, typeGroups: (string[] | null)[]): number | null {
  for (const types of typeGroups) {
    const hits = fields.filter((f) => last(f.field) === name && (types === null || types.includes(f.statsType)));
    if (hits.length) return hits.reduce((sum, f) => sum + f.value, 0);
  }
  return null;
}

const RTP = ['inbound-rtp', 'outbound-rtp'];
const scaled = (n: number | null, by: number) => (n === null ? null : n * by);

interface Reading {
  at: number;
  rtt: number | null;
  loss: number | null;
  kbps: number | null;
  lost: number | null;
  received: number | null;
  bytes: number | null;
}

function read(sample: StatsSample): Reading | null {
  const at = Date.parse(sample.at);
  if (!Number.isFinite(at)) return null;
  const f = numericFields(sample.snapshot);
  const sent = counter(f, 'bytessent', [RTP, ['candidate-pair'], null]);
  const recv = counter(f, 'bytesreceived', [RTP, ['candidate-pair'], null]);
  return {
    at,
    rtt: direct(f, [['rttms', 1], ['roundtriptimems', 1], ['currentroundtriptime', 1000, 'candidate-pair'], ['currentroundtriptime', 1000], ['roundtriptime', 1000]]),
    loss: direct(f, [['lossinpercent', 1], ['losspct', 1], ['packetlosspct', 1], ['losspercent', 1], ['fractionlost', 100]]),
    // Per-stream bitrates (bits/s, audioIn.bitrate …) add up; else a single kbit/s figure.
    kbps: scaled(counter(f, 'bitrate', [null]), 0.001) ?? direct(f, [['bitratekbps', 1], ['kbps', 1], ['bitspersecond', 0.001]]),
    lost: counter(f, 'packetslost', [['inbound-rtp', 'remote-inbound-rtp'], null]),
    received: counter(f, 'packetsreceived', [['inbound-rtp'], null]),
    bytes: sent === null && recv === null ? null : (sent ?? 0) + (recv ?? 0),
  };
}

/** RTT, loss and bitrate over time for one peer, from its stats history (rates from counters where needed). */
export function peerSeries(peer: DiagnosticsPeer): PeerSeries {
  const series: PeerSeries = { rttMs: [], lossPct: [], kbps: [] };
  let prev: Reading | null = null;
  for (const sample of peer.statsHistory) {
    const r = read(sample);
    if (!r) continue;
    if (r.rtt !== null) series.rttMs.push([r.at, r.rtt]);
    const dt = prev ? r.at - prev.at : 0;
    if (r.loss !== null) series.lossPct.push([r.at, r.loss]);
    else if (prev && r.lost !== null && r.received !== null && prev.lost !== null && prev.received !== null) {
      const lost = r.lost - prev.lost;
      const total = lost + (r.received - prev.received);
      if (total > 0 && lost >= 0) series.lossPct.push([r.at, (lost / total) * 100]);
    }
    if (r.kbps !== null) series.kbps.push([r.at, r.kbps]);
    else if (prev && dt > 0 && r.bytes !== null && prev.bytes !== null && r.bytes >= prev.bytes) {
      series.kbps.push([r.at, ((r.bytes - prev.bytes) * 8) / dt]); // bytes per ms × 8 = kbit/s
    }
    prev = r;
  }
  return series;
}
