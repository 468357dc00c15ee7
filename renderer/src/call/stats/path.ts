import { parseIceUrl, type RelayTransport } from '../iceUrl.js';

/** What path classification and the stats reducer need of an RTCStatsReport (a Map of fixtures works too). */
export interface StatsReportLike {
  get(id: string): unknown;
  forEach(cb: (value: unknown, key: string) => void): void;
}

export type StatsEntry = Record<string, unknown>;

export type PathKind = 'direct' | 'relay-udp' | 'relay-tcp' | 'relay-tls' | 'unknown';
export type PathLabel = 'Direct' | 'Relay UDP' | 'Relay TCP' | 'Relay TLS 443' | 'Relay TLS' | 'Connecting…';

/** Which way the media goes, as the path badge shows it. */
export interface MediaPath {
  kind: PathKind;
  label: PathLabel;
  localCandidateType: string | null;
  remoteCandidateType: string | null;
  /** How we reach our TURN server; 'udp' also when only the remote side relays. */
  relayProtocol: RelayTransport | null;
  /** Our TURN server's URL, for a path through our relay. */
  url: string | null;
  /** Our TURN server's port (from url; the candidate's own port is the allocated relay port, not this). */
  port: number | null;
}

/** The selected candidate pair of a report, with its transport and both candidates. */
export interface SelectedPair {
  pair: StatsEntry | null;
  transport: StatsEntry | null;
  local: StatsEntry | null;
  remote: StatsEntry | null;
}

export function statsEntry(stats: StatsReportLike, id: unknown): StatsEntry | null {
  if (typeof id !== 'string') return null;
  const v = stats.get(id);
  return v !== null && typeof v === 'object' ? (v as StatsEntry) : null;
}

const str = (e: StatsEntry | null, key: string): string | null => (typeof e?.[key] === 'string' ? (e[key] as string) : null);

/** Finds the selected pair once per report; classification and the reducer both read this. */
export function selectedPair(stats: StatsReportLike): SelectedPair {
  const transports: StatsEntry[] = [];
  const pairs: StatsEntry[] = [];
  stats.forEach((v) => {
    if (v === null || typeof v !== 'object') return;
    const type = (v as StatsEntry).type;
    if (type === 'transport') transports.push(v as StatsEntry);
    else if (type === 'candidate-pair') pairs.push(v as StatsEntry);
  });
  let pair: StatsEntry | null = null;
  let transport: StatsEntry | null = null;
  for (const t of transports) {
    pair = statsEntry(stats, t.selectedCandidatePairId);
    if (pair) {
      transport = t;
      break;
    }
  }
  // Firefox has no selectedCandidatePairId: it marks the pair itself.
  pair ??= pairs.find((p) => p.selected === true) ?? pairs.find((p) => p.nominated === true && p.state === 'succeeded') ?? null;
  transport ??= transports[0] ?? null;
  return { pair, transport, local: statsEntry(stats, pair?.localCandidateId), remote: statsEntry(stats, pair?.remoteCandidateId) };
}

const CONNECTING: MediaPath = {
  kind: 'unknown',
  label: 'Connecting…',
  localCandidateType: null,
  remoteCandidateType: null,
  relayProtocol: null,
  url: null,
  port: null,
};

/** Which way the media goes, from the selected candidate pair (found with selectedPair). */
export function classifyPath(selected: SelectedPair): MediaPath {
  const { pair, local, remote } = selected;
  if (!pair) return CONNECTING;
  const localCandidateType = str(local, 'candidateType');
  const remoteCandidateType = str(remote, 'candidateType');
  if (!localCandidateType || !remoteCandidateType) return CONNECTING;
  const base = { localCandidateType, remoteCandidateType };
  if (localCandidateType !== 'relay') {
    if (remoteCandidateType === 'relay') {
      // Only the other side relays: our leg is plain UDP to their TURN server.
      return { ...base, kind: 'relay-udp', label: 'Relay UDP', relayProtocol: 'udp', url: null, port: null };
    }
    return { ...base, kind: 'direct', label: 'Direct', relayProtocol: null, url: null, port: null };
  }
  const url = str(local, 'url');
  const parsed = url ? parseIceUrl(url) : null;
  const reported = str(local, 'relayProtocol');
  const relayProtocol: RelayTransport =
    reported === 'udp' || reported === 'tcp' || reported === 'tls' ? reported : (parsed?.relay ?? 'udp');
  const port = parsed?.port ?? null;
  const path = { ...base, relayProtocol, url, port };
  if (relayProtocol === 'tls') return { ...path, kind: 'relay-tls', label: port === 443 ? 'Relay TLS 443' : 'Relay TLS' };
  if (relayProtocol === 'tcp') return { ...path, kind: 'relay-tcp', label: 'Relay TCP' };
  return { ...path, kind: 'relay-udp', label: 'Relay UDP' };
}

/** What the call view says about encryption, from the selected transport: shown once DTLS is up, never assumed. */
export function encryptionLabel(transport: { dtlsState: string | null; srtpCipher: string | null }): string | null {
  if (transport.dtlsState !== 'connected') return null;
  // No SRTP cipher means a data-only transport: DTLS, but no SRTP.
  return transport.srtpCipher ? `Encrypted (DTLS-SRTP, ${transport.srtpCipher})` : 'Encrypted (DTLS)';
}
