import {
  DIAGNOSTICS_VERSION,
  type CandidateType,
  type DiagnosticsCandidate,
  type DiagnosticsCandidatePair,
  type DiagnosticsDocument,
  type DiagnosticsPeer,
  type DiagnosticsStates,
} from '../../../shared/diagnostics/document.js';
import type { AppInfo, DesktopState, NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { CallSession } from './CallSession.js';

/** What the document says about the app and its settings, beside the call. */
export interface DiagnosticsContext {
  appInfo: AppInfo | null;
  desktop: Pick<DesktopState, 'networkPolicy' | 'restrictiveNetwork'> | null;
  /** The policy the call uses (may be stricter than the setting). */
  callPolicy: NetworkPolicy;
  peerName(peerId: string): string | null;
}

type Entry = Record<string, unknown>;

const iso = (ms: number) => new Date(ms).toISOString();
const oneOf = <T extends string>(value: unknown, allowed: readonly T[]): T | null =>
  typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : null;
const CANDIDATE_TYPES = ['host', 'srflx', 'prflx', 'relay'] as const;

function candidate(e: Entry): DiagnosticsCandidate | null {
  const type = oneOf(e.candidateType, CANDIDATE_TYPES);
  const protocol = oneOf(e.protocol, ['udp', 'tcp'] as const);
  if (!type || !protocol) return null;
  return {
    id: String(e.id),
    type,
    protocol,
    relayProtocol: type === 'relay' ? oneOf(e.relayProtocol, ['udp', 'tcp', 'tls'] as const) : null,
    address: typeof e.address === 'string' ? e.address : typeof e.ip === 'string' ? e.ip : null,
    port: typeof e.port === 'number' ? e.port : null,
    url: typeof e.url === 'string' ? e.url : null,
  };
}

/** One peer connection as it is now: its candidates, pairs and states, plus the session's history of it. */
async function describePeer(session: CallSession, peerId: string, pc: RTCPeerConnection, name: string | null): Promise<DiagnosticsPeer> {
  const entries: Entry[] = [];
  try {
    (await pc.getStats()).forEach((e: Entry) => entries.push(e));
  } catch {
    // a closed connection has no stats; its history still tells
  }
  const pairs: DiagnosticsCandidatePair[] = entries
    .filter((e) => e.type === 'candidate-pair')
    .flatMap((e) => {
      const state = oneOf(e.state, ['frozen', 'waiting', 'in-progress', 'failed', 'succeeded'] as const);
      if (!state) return [];
      return [{
        id: String(e.id),
        localCandidateId: String(e.localCandidateId),
        remoteCandidateId: String(e.remoteCandidateId),
        state,
        nominated: e.nominated === true,
        currentRoundTripTime: typeof e.currentRoundTripTime === 'number' ? e.currentRoundTripTime : null,
      }];
    });
  const transport = entries.find((e) => e.type === 'transport');
  const states: DiagnosticsStates = {
    connection: pc.connectionState,
    ice: pc.iceConnectionState,
    iceGathering: pc.iceGatheringState,
    dtls: oneOf(transport?.dtlsState, ['new', 'connecting', 'connected', 'closed', 'failed'] as const),
  };
  const history = session.stats.history(peerId)?.toArray() ?? [];
  const changes = session.stats.selectedPairs.get(peerId) ?? [];
  return {
    peerId,
    displayName: name,
    candidates: {
      local: entries.filter((e) => e.type === 'local-candidate').map(candidate).filter((c): c is DiagnosticsCandidate => c !== null),
      remote: entries.filter((e) => e.type === 'remote-candidate').map(candidate).filter((c): c is DiagnosticsCandidate => c !== null),
    },
    candidatePairs: pairs,
    selectedPairHistory: changes.flatMap(({ at, snapshot }) => {
      const localType = oneOf(snapshot.localCandidateType, CANDIDATE_TYPES) as CandidateType | null;
      const remoteType = oneOf(snapshot.remoteCandidateType, CANDIDATE_TYPES) as CandidateType | null;
      const protocol = oneOf(snapshot.protocol, ['udp', 'tcp'] as const);
      if (!localType || !remoteType || !protocol) return [];
      return [{ at: iso(at), localType, remoteType, protocol, relayProtocol: oneOf(snapshot.relayProtocol, ['udp', 'tcp', 'tls'] as const) }];
    }),
    statsHistory: history.map((snapshot) => ({ at: iso(snapshot.at), snapshot: JSON.parse(JSON.stringify(snapshot)) as Record<string, unknown> })),
    states,
  };
}

/**
 * The diagnostics document for the call in progress (or only the network check when there is none).
 * Main validates and redacts it again before writing; nothing secret is put in here to begin with.
 */
export async function buildDiagnostics(context: DiagnosticsContext, session: CallSession | null, networkCheck: object | null): Promise<DiagnosticsDocument> {
  const info = context.appInfo;
  const desktop = context.desktop;
  const peers: DiagnosticsPeer[] = [];
  if (session) {
    for (const [peerId, pc] of session.peerConnections()) {
      peers.push(await describePeer(session, peerId, pc, context.peerName(peerId)));
    }
  }
  return {
    version: DIAGNOSTICS_VERSION,
    generatedAt: new Date().toISOString(),
    app: {
      name: info?.name ?? 'ZeroRange',
      version: info?.version ?? 'unknown',
      electron: info?.electron ?? null,
      chrome: info?.chrome ?? null,
      node: info?.node ?? null,
      platform: info?.platform ?? 'unknown',
      arch: info?.arch ?? 'unknown',
      os: info?.os ?? null,
    },
    settings: {
      networkPolicy: desktop?.networkPolicy ?? 'auto',
      effectivePolicy: context.callPolicy,
      restrictiveNetwork: desktop?.restrictiveNetwork ?? false,
    },
    iceServers: session?.iceServerUrls() ?? [],
    peers,
    timeline: (session?.stats.timeline.entries() ?? []).map((e) => ({ at: iso(e.at), peerId: e.peerId, kind: e.kind, detail: JSON.stringify(e.detail) })),
    networkCheck: networkCheck ? (JSON.parse(JSON.stringify(networkCheck)) as Record<string, unknown>) : null,
  };
}
