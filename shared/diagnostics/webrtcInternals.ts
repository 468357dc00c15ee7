import type { DiagnosticsDocument, DiagnosticsPeer } from './document.js';
import { numericFields } from './metrics.js';

/**
 * The document in the shape chrome://webrtc-internals "Create dump" writes, which existing tools read
 * (webrtc-dump-importer and the like). One peer connection per peer, keyed by its peer id. Build it
 * from a redacted document: nothing here removes anything.
 */

export interface WebrtcInternalsSeries {
  startTime: string;
  endTime: string;
  statsType: string;
  /** A JSON array of numbers, one per sample that had the field. */
  values: string;
}

export interface WebrtcInternalsUpdate {
  time: string;
  type: string;
  value: string;
}

export interface WebrtcInternalsPeerConnection {
  pid: number;
  rtcConfiguration: string;
  constraints: string;
  url: string;
  /** Keyed `<statsId>-<field>`: tools split on the last `-`. */
  stats: Record<string, WebrtcInternalsSeries>;
  updateLog: WebrtcInternalsUpdate[];
}

export interface WebrtcInternalsDump {
  getUserMedia: unknown[];
  PeerConnections: Record<string, WebrtcInternalsPeerConnection>;
  UserAgent: string;
}

/** The renderer's page; there is no renderer process id in the document, so every connection gets the same. */
const PAGE_URL = 'app://zerorange/';
const PID = 1;

function rtcConfiguration(doc: DiagnosticsDocument): string {
  // Chrome's own rendering of RTCConfiguration: not JSON, and tools show it as text.
  const policy = doc.settings.effectivePolicy === 'auto' ? 'all' : 'relay';
  return `{ iceServers: [${doc.iceServers.join(', ')}], iceTransportPolicy: ${policy}, bundlePolicy: max-bundle, rtcpMuxPolicy: require, iceCandidatePoolSize: 0 }`;
}

function statsSeries(peer: DiagnosticsPeer): Record<string, WebrtcInternalsSeries> {
  const series = new Map<string, { statsType: string; start: string; end: string; values: number[] }>();
  for (const sample of peer.statsHistory) {
    for (const { statsId, statsType, field, value } of numericFields(sample.snapshot)) {
      const key = `${statsId}-${field}`;
      const entry = series.get(key);
      if (entry) {
        entry.values.push(value);
        entry.end = sample.at;
      } else series.set(key, { statsType, start: sample.at, end: sample.at, values: [value] });
    }
  }
  return Object.fromEntries(
    [...series].map(([key, s]) => [key, { startTime: s.start, endTime: s.end, statsType: s.statsType, values: JSON.stringify(s.values) }]),
  );
}

function updateLog(doc: DiagnosticsDocument, peer: DiagnosticsPeer): WebrtcInternalsUpdate[] {
  const body: WebrtcInternalsUpdate[] = [];
  for (const change of peer.selectedPairHistory) {
    const relay = change.relayProtocol ? `/${change.relayProtocol}` : '';
    body.push({ time: change.at, type: 'selectedCandidatePairChanged', value: `${change.localType} ↔ ${change.remoteType} over ${change.protocol}${relay}` });
  }
  for (const event of doc.timeline) {
    if (event.peerId === peer.peerId) body.push({ time: event.at, type: event.kind, value: event.detail });
  }
  // By time; equal times keep their order (sort is stable).
  body.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const name = peer.displayName ? `${peer.displayName} (${peer.peerId})` : peer.peerId;
  const { states } = peer;
  return [
    { time: body[0]?.time ?? doc.generatedAt, type: 'zerorange-peer', value: name },
    ...body,
    {
      time: doc.generatedAt,
      type: 'zerorange-states',
      value: `connection ${states.connection}, ice ${states.ice}, gathering ${states.iceGathering}, dtls ${states.dtls ?? 'none'}`,
    },
  ];
}

function userAgent(doc: DiagnosticsDocument): string {
  const { app } = doc;
  const parts = [`${app.name}/${app.version}`];
  if (app.chrome) parts.push(`Chrome/${app.chrome}`);
  if (app.electron) parts.push(`Electron/${app.electron}`);
  return `Mozilla/5.0 (${app.platform}; ${app.arch}) AppleWebKit/537.36 (KHTML, like Gecko) ${parts.join(' ')} Safari/537.36`;
}

export function toWebrtcInternalsDump(doc: DiagnosticsDocument): WebrtcInternalsDump {
  const config = rtcConfiguration(doc);
  return {
    getUserMedia: [],
    PeerConnections: Object.fromEntries(
      doc.peers.map((peer) => [
        peer.peerId,
        { pid: PID, rtcConfiguration: config, constraints: '', url: PAGE_URL, stats: statsSeries(peer), updateLog: updateLog(doc, peer) },
      ]),
    ),
    UserAgent: userAgent(doc),
  };
}
