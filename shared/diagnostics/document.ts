import { z } from 'zod';
import { IpHandlingPolicy, ProxyStatus } from '../ipc/shellServices.js';

/**
 * The diagnostics document: what the renderer gathers about calls (ICE candidates, pairs, stats,
 * states, a timeline) for the user to save and send to their administrator. Main validates it with
 * this schema and redacts it again before anything is written (shared/diagnostics/redact.ts).
 */

export const DIAGNOSTICS_VERSION = 1;

/** Whole document, as JSON: refused above this (main checks it before parsing). */
export const MAX_DIAGNOSTICS_CHARS = 20 * 1024 * 1024;
/** Nesting allowed inside the opaque objects (stats snapshots, network check). */
export const MAX_OPAQUE_DEPTH = 32;

const time = z.iso.datetime({ offset: true });
const shortText = z.string().max(256);
const NetworkPolicy = z.enum(['auto', 'relay', 'relay-tls']);

/** True when `value` is plain JSON data (objects, arrays, strings, finite numbers, booleans, null) nested at most `depth` deep. */
export function isJsonData(value: unknown, depth = MAX_OPAQUE_DEPTH): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth <= 0) return false;
  if (Array.isArray(value)) return value.every((v) => isJsonData(v, depth - 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((v) => isJsonData(v, depth - 1));
}

/** An object the schema does not look into (its producer owns the shape); JSON data only. */
const opaque = z.record(z.string().max(512), z.unknown()).refine((v) => isJsonData(v), 'not plain JSON data, or nested too deep');

export const DiagnosticsApp = z.object({
  name: shortText,
  version: shortText,
  electron: shortText.nullable(),
  chrome: shortText.nullable(),
  node: shortText.nullable(),
  platform: shortText,
  arch: shortText,
  /** Operating system and release, where the app knows it. */
  os: shortText.nullable().optional(),
});

export const DiagnosticsSettings = z.object({
  /** What the user chose. */
  networkPolicy: NetworkPolicy,
  /** What calls actually use (a restrictive network turns Auto into relay over TLS). */
  effectivePolicy: NetworkPolicy,
  restrictiveNetwork: z.boolean(),
});

export const CandidateType = z.enum(['host', 'srflx', 'prflx', 'relay']);
export const TransportProtocol = z.enum(['udp', 'tcp']);
export const RelayProtocol = z.enum(['udp', 'tcp', 'tls']);

export const DiagnosticsCandidate = z.object({
  id: shortText,
  type: CandidateType,
  protocol: TransportProtocol,
  /** How a relay candidate reaches its TURN server; null for other types. */
  relayProtocol: RelayProtocol.nullable(),
  address: shortText.nullable(),
  port: z.number().int().min(0).max(65535).nullable(),
  /** The STUN or TURN URL the candidate came from, when the browser says. */
  url: z.string().max(512).nullable(),
});

export const CandidatePairState = z.enum(['frozen', 'waiting', 'in-progress', 'failed', 'succeeded']);

export const DiagnosticsCandidatePair = z.object({
  id: shortText,
  localCandidateId: shortText,
  remoteCandidateId: shortText,
  state: CandidatePairState,
  nominated: z.boolean(),
  /** Seconds, as RTCIceCandidatePairStats reports it. */
  currentRoundTripTime: z.number().nonnegative().nullable(),
});

export const SelectedPairChange = z.object({
  at: time,
  localType: CandidateType,
  remoteType: CandidateType,
  protocol: TransportProtocol,
  relayProtocol: RelayProtocol.nullable(),
});

export const StatsSample = z.object({
  at: time,
  /** What the renderer's stats module made of one getStats(): opaque here, JSON data only. */
  snapshot: opaque,
});

export const DiagnosticsStates = z.object({
  connection: z.enum(['new', 'connecting', 'connected', 'disconnected', 'failed', 'closed']),
  ice: z.enum(['new', 'checking', 'connected', 'completed', 'disconnected', 'failed', 'closed']),
  iceGathering: z.enum(['new', 'gathering', 'complete']),
  /** null before a DTLS transport exists. */
  dtls: z.enum(['new', 'connecting', 'connected', 'closed', 'failed']).nullable(),
});

export const DiagnosticsPeer = z.object({
  peerId: shortText,
  displayName: shortText.nullable(),
  candidates: z.object({
    local: z.array(DiagnosticsCandidate).max(512),
    remote: z.array(DiagnosticsCandidate).max(512),
  }),
  candidatePairs: z.array(DiagnosticsCandidatePair).max(4096),
  selectedPairHistory: z.array(SelectedPairChange).max(4096),
  statsHistory: z.array(StatsSample).max(20_000),
  states: DiagnosticsStates,
});

export const TimelineEvent = z.object({
  at: time,
  /** null for events of the call rather than one peer (joined, left, network check …). */
  peerId: shortText.nullable(),
  kind: z.string().min(1).max(64),
  detail: z.string().max(100_000),
});

/** What only the desktop shell knows; main fills it in when it saves (the renderer's copy is replaced). */
export const DiagnosticsDesktop = z.object({
  ipHandlingPolicy: IpHandlingPolicy,
  proxy: ProxyStatus,
  /** Where crash dumps are kept (the home folder written as `~`), and whether they are sent anywhere. */
  crashDumps: z.object({ dir: z.string().max(4096).nullable(), uploadTo: z.string().max(2048).nullable() }),
  /** The latest lines of the main process's log, oldest first. */
  mainLog: z.array(z.string().max(16_384)).max(5_000),
});

export const DiagnosticsDocument = z.object({
  version: z.literal(DIAGNOSTICS_VERSION),
  generatedAt: time,
  app: DiagnosticsApp,
  settings: DiagnosticsSettings,
  /** STUN/TURN URLs only: usernames and credentials are never part of the document. */
  iceServers: z.array(z.string().max(512)).max(64),
  peers: z.array(DiagnosticsPeer).max(64),
  timeline: z.array(TimelineEvent).max(50_000),
  /** The latest network check's result, as its producer shaped it; null when none ran. */
  networkCheck: opaque.nullable(),
  desktop: DiagnosticsDesktop.optional(),
});

/** What saveDiagnostics writes: the document itself, a chrome://webrtc-internals dump, or an HTML report. */
export const DiagnosticsFormat = z.enum(['json', 'webrtc-internals', 'html']);
export type DiagnosticsFormat = z.infer<typeof DiagnosticsFormat>;

export const SaveDiagnosticsOptions = z.strictObject({
  format: DiagnosticsFormat,
  /** Keep IP addresses; secrets are removed regardless. */
  includeAddresses: z.boolean(),
});
export type SaveDiagnosticsOptions = z.infer<typeof SaveDiagnosticsOptions>;

export type DiagnosticsApp = z.infer<typeof DiagnosticsApp>;
export type DiagnosticsSettings = z.infer<typeof DiagnosticsSettings>;
export type CandidateType = z.infer<typeof CandidateType>;
export type DiagnosticsCandidate = z.infer<typeof DiagnosticsCandidate>;
export type DiagnosticsCandidatePair = z.infer<typeof DiagnosticsCandidatePair>;
export type SelectedPairChange = z.infer<typeof SelectedPairChange>;
export type StatsSample = z.infer<typeof StatsSample>;
export type DiagnosticsStates = z.infer<typeof DiagnosticsStates>;
export type DiagnosticsPeer = z.infer<typeof DiagnosticsPeer>;
export type TimelineEvent = z.infer<typeof TimelineEvent>;
export type DiagnosticsDesktop = z.infer<typeof DiagnosticsDesktop>;
export type DiagnosticsDocument = z.infer<typeof DiagnosticsDocument>;

function jsonLength(value: unknown): number | null {
  try {
    const text = JSON.stringify(value);
    return typeof text === 'string' ? text.length : null;
  } catch {
    return null; // cycles, BigInt, nesting deeper than the stack
  }
}

/**
 * The document as an IPC argument: size-checked as JSON first (cheap to refuse a huge or cyclic
 * value before walking it), then parsed. Unknown keys of the typed parts are dropped by the parse.
 */
export const DiagnosticsDocumentArg = z
  .unknown()
  .refine((v) => {
    const length = jsonLength(v);
    return length !== null && length <= MAX_DIAGNOSTICS_CHARS;
  }, `the diagnostics document must be JSON data of at most ${MAX_DIAGNOSTICS_CHARS / 1024 / 1024} MB`)
  .pipe(DiagnosticsDocument);
