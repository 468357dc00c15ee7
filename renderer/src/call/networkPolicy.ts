import type { IceServer } from '../../../shared/protocol/index.js';
import { parseIceUrl, type IceUrl, type RelayTransport } from './iceUrl.js';

export { parseIceUrl, type IceUrl, type RelayTransport } from './iceUrl.js';

export type NetworkPolicy = 'auto' | 'relay' | 'relay-tls';

export const NETWORK_POLICIES: readonly NetworkPolicy[] = ['auto', 'relay', 'relay-tls'];

export const NETWORK_POLICY_LABELS: Readonly<Record<NetworkPolicy, string>> = {
  auto: 'Auto',
  relay: 'Always relay',
  'relay-tls': 'Relay over TLS 443 only',
};

export type RtcConfigurationResult = { ok: true; config: RTCConfiguration } | { ok: false; error: string };

function urlsOf(server: IceServer): string[] {
  return Array.isArray(server.urls) ? server.urls : [server.urls];
}

/** Keeps the URLs that pass `keep`, each server with its own credentials; servers left with none are dropped. */
function filterServers(servers: IceServer[], keep: (url: IceUrl) => boolean): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  for (const server of servers) {
    const urls = urlsOf(server).filter((u) => {
      const parsed = parseIceUrl(u);
      return parsed !== null && keep(parsed);
    });
    if (urls.length === 0) continue;
    out.push({
      urls,
      ...(server.username !== undefined && { username: server.username }),
      ...(server.credential !== undefined && { credential: server.credential }),
    });
  }
  return out;
}

// Pre-gathering one pool while the call screen opens cuts gathering from ~128 ms to ~7 ms (machine-facts).
// No pre-gathered pool: with one, Chromium 156 left an answering peer connection without local
// candidates (ICE stayed 'new'), measured in the call tests.
const CANDIDATE_POOL_SIZE = 0;

export function rtcConfigurationFor(policy: NetworkPolicy, iceServers: IceServer[]): RtcConfigurationResult {
  if (policy === 'auto') {
    const servers = iceServers.map((s) => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : s.urls }));
    return { ok: true, config: { iceServers: servers, iceTransportPolicy: 'all', iceCandidatePoolSize: CANDIDATE_POOL_SIZE } };
  }
  const tlsOnly = policy === 'relay-tls';
  const servers = filterServers(iceServers, (u) => (tlsOnly ? u.relay === 'tls' : u.relay !== null));
  if (servers.length === 0) {
    // A relay-only connection with nothing to gather from stays `new` for ever; say so up front instead.
    const error = tlsOnly
      ? `"${NETWORK_POLICY_LABELS['relay-tls']}" needs a TURN over TLS (turns:) server, and this server offers none. Choose "${NETWORK_POLICY_LABELS.auto}" or "${NETWORK_POLICY_LABELS.relay}", or ask your administrator to enable TURN over TLS on port 443.`
      : `"${NETWORK_POLICY_LABELS.relay}" needs a TURN server, and this server offers none. Choose "${NETWORK_POLICY_LABELS.auto}", or ask your administrator to configure TURN.`;
    return { ok: false, error };
  }
  return { ok: true, config: { iceServers: servers, iceTransportPolicy: 'relay', iceCandidatePoolSize: CANDIDATE_POOL_SIZE } };
}

/** What classifyPath and encryptionLabel need of an RTCStatsReport (a Map of fixtures works too). */
export interface StatsReportLike {
  get(id: string): unknown;
  forEach(cb: (value: unknown, key: string) => void): void;
}

type Entry = Record<string, unknown>;

function entries(stats: StatsReportLike, type: string): Entry[] {
  const out: Entry[] = [];
  stats.forEach((v) => {
    if (v !== null && typeof v === 'object' && (v as Entry).type === type) out.push(v as Entry);
  });
  return out;
}

function entry(stats: StatsReportLike, id: unknown): Entry | null {
  if (typeof id !== 'string') return null;
  const v = stats.get(id);
  return v !== null && typeof v === 'object' ? (v as Entry) : null;
}

const str = (e: Entry | null, key: string): string | null => (typeof e?.[key] === 'string' ? (e[key] as string) : null);

export type PathKind = 'direct' | 'relay-udp' | 'relay-tcp' | 'relay-tls' | 'unknown';
export type PathLabel = 'Direct' | 'Relay UDP' | 'Relay TCP' | 'Relay TLS 443' | 'Relay TLS' | 'Connecting…';

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

const CONNECTING: MediaPath = {
  kind: 'unknown',
  label: 'Connecting…',
  localCandidateType: null,
  remoteCandidateType: null,
  relayProtocol: null,
  url: null,
  port: null,
};

function selectedPair(stats: StatsReportLike): Entry | null {
  for (const transport of entries(stats, 'transport')) {
    const pair = entry(stats, transport.selectedCandidatePairId);
    if (pair) return pair;
  }
  // Firefox has no selectedCandidatePairId: it marks the pair itself.
  const pairs = entries(stats, 'candidate-pair');
  return pairs.find((p) => p.selected === true) ?? pairs.find((p) => p.nominated === true && p.state === 'succeeded') ?? null;
}

/** Which way the media goes, from the selected candidate pair. */
export function classifyPath(stats: StatsReportLike): MediaPath {
  const pair = selectedPair(stats);
  if (!pair) return CONNECTING;
  const local = entry(stats, pair.localCandidateId);
  const remote = entry(stats, pair.remoteCandidateId);
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

/** `Encrypted (DTLS-SRTP, <cipher>)` once DTLS is up, else null (never claim encryption before the handshake). */
/** What the call view says about encryption, from the selected transport: shown, never assumed. */
export function encryptionLabel(transport: { dtlsState: string | null; srtpCipher: string | null }): string | null {
  if (transport.dtlsState !== 'connected') return null;
  // No SRTP cipher means a data-only transport: DTLS, but no SRTP.
  return transport.srtpCipher ? `Encrypted (DTLS-SRTP, ${transport.srtpCipher})` : 'Encrypted (DTLS)';
}

export {
  RESTRICTIVE_MESSAGE,
  RestrictiveNetworkDetector,
  type CandidateErrorEvent,
  type DetectorEvidence,
  type DetectorOptions,
  type GatheredCandidate,
  type NetworkVerdict,
} from './RestrictiveNetworkDetector.js';
