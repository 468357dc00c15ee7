import { classifyPath, selectedPair, type PathKind, type PathLabel, type StatsReportLike } from './path.js';

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';
export type CandidateCounts = Record<CandidateType, number>;

/** The selected candidate pair. Addresses are kept raw here; redaction happens at export. */
export interface PathStats {
  /** From classifyPath, once per sample: what the badge shows. */
  label: PathLabel;
  kind: PathKind;
  pairId: string | null;
  localCandidateId: string | null;
  remoteCandidateId: string | null;
  localCandidateType: string | null;
  remoteCandidateType: string | null;
  /** Transport of the local candidate ('udp' | 'tcp'); a TURN-relayed candidate says 'udp'. */
  protocol: string | null;
  /** How we reach our TURN server ('udp' | 'tcp' | 'tls'), only when the local candidate is a relay. */
  relayProtocol: string | null;
  /** The local relay candidate's `url`: the TURN server in use. */
  turnUrl: string | null;
  /** That TURN server's port (the relay candidate's own port is the allocated one, not this). */
  turnPort: number | null;
  localAddress: string | null;
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  /** Candidates in the report by type (Chromium lists those that made it into a pair). */
  candidates: { local: CandidateCounts; remote: CandidateCounts };
}

export interface TransportStats {
  iceState: string | null;
  dtlsState: string | null;
  dtlsRole: string | null;
  /** Hex, e.g. 'FEFC' for DTLS 1.3. */
  tlsVersion: string | null;
  dtlsCipher: string | null;
  srtpCipher: string | null;
  selectedCandidatePairChanges: number | null;
}

/** One direction of one kind; bitrate is bits/s over the last interval, null on a fresh baseline. */
export interface StreamStats {
  bitrate: number | null;
  /** e.g. 'audio/opus', 'video/VP8'. */
  codec: string | null;
}
export interface AudioInStats extends StreamStats {
  /** Mean jitter-buffer delay of samples emitted in the interval (ms). */
  jitterBufferDelayMs: number | null;
}
export interface VideoStreamStats extends StreamStats {
  width: number | null;
  height: number | null;
  fps: number | null;
}
export interface VideoInStats extends VideoStreamStats {
  /** Cumulative, summed over the inbound video streams. */
  framesDropped: number | null;
  jitterBufferDelayMs: number | null;
}
export interface VideoOutStats extends VideoStreamStats {
  qualityLimitationReason: string | null;
}

export interface QualityStats {
  /** Selected pair's currentRoundTripTime, else the worst remote-inbound-rtp roundTripTime. */
  rttMs: number | null;
  /** Inbound audio jitter (the worst stream). */
  jitterMs: number | null;
  /** Inbound loss over the interval, all streams: Δlost / (Δlost + Δreceived). */
  lossInPercent: number | null;
  /** Outbound loss as the far end reports it (fractionLost, weighted by packets sent). */
  lossOutPercent: number | null;
  /** bits/s, the sender's bandwidth estimate on the selected pair. */
  availableOutgoingBitrate: number | null;
  audioIn: AudioInStats;
  audioOut: StreamStats;
  videoIn: VideoInStats;
  videoOut: VideoOutStats;
}

/** One peer connection at one moment: small, typed, JSON-safe. */
export interface PeerStatsSnapshot {
  at: number;
  path: PathStats;
  transport: TransportStats;
  quality: QualityStats;
}

/** Cumulative counters of one RTP stream, kept for the next sample's deltas. */
export interface RawCounters {
  /** The stats entry's timestamp (ms), else the sample time. */
  ts: number;
  ssrc: number | null;
  bytes: number | null;
  packets: number | null;
  packetsLost: number | null;
  frames: number | null;
  jitterBufferDelay: number | null;
  jitterBufferEmittedCount: number | null;
}

export interface StatsSample {
  at: number;
  /** By stats id (an RTP stream's id carries its SSRC, so a new SSRC is a new key). */
  counters: Record<string, RawCounters>;
  snapshot: PeerStatsSnapshot;
}

type Entry = Record<string, unknown>;
type Rtp = { e: Entry; now: RawCounters; prev: RawCounters | null; dt: number };

const num = (e: Entry | null | undefined, k: string): number | null => (typeof e?.[k] === 'number' && Number.isFinite(e[k]) ? (e[k] as number) : null);
const str = (e: Entry | null | undefined, k: string): string | null => (typeof e?.[k] === 'string' ? (e[k] as string) : null);
const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000);
const delta = (a: number | null, b: number | null | undefined) => (a === null || b === null || b === undefined ? null : a - b);

function get(report: StatsReportLike, id: unknown): Entry | null {
  if (typeof id !== 'string') return null;
  const v = report.get(id);
  return v !== null && typeof v === 'object' ? (v as Entry) : null;
}

function counts(entries: Entry[]): CandidateCounts {
  const out: CandidateCounts = { host: 0, srflx: 0, prflx: 0, relay: 0 };
  for (const c of entries) {
    const t = str(c, 'candidateType');
    if (t === 'host' || t === 'srflx' || t === 'prflx' || t === 'relay') out[t]++;
  }
  return out;
}

function countersOf(e: Entry, inbound: boolean, nowMs: number): RawCounters {
  return {
    ts: num(e, 'timestamp') ?? nowMs,
    ssrc: num(e, 'ssrc'),
    bytes: num(e, inbound ? 'bytesReceived' : 'bytesSent'),
    packets: num(e, inbound ? 'packetsReceived' : 'packetsSent'),
    packetsLost: num(e, 'packetsLost'),
    frames: num(e, inbound ? 'framesDecoded' : 'framesEncoded'),
    jitterBufferDelay: num(e, 'jitterBufferDelay'),
    jitterBufferEmittedCount: num(e, 'jitterBufferEmittedCount'),
  };
}

/**
 * The previous counters, if they are a usable baseline: same SSRC, time moved on, nothing went
 * down. A counter going down means a new stream behind the same id (restart, new SSRC): start over.
 * packetsLost may legitimately shrink (duplicates), so it is not checked here but clamped at use.
 */
function baseline(now: RawCounters, prev: RawCounters | undefined): RawCounters | null {
  if (!prev || prev.ssrc !== now.ssrc || now.ts <= prev.ts) return null;
  const keys = ['bytes', 'packets', 'frames', 'jitterBufferDelay', 'jitterBufferEmittedCount'] as const;
  return keys.some((k) => now[k] !== null && prev[k] !== null && now[k] < prev[k]) ? null : prev;
}

/** Sum of bits/s over streams; null unless every stream has a baseline (a partial sum would read as a drop). */
function bitrate(streams: Rtp[]): number | null {
  if (streams.length === 0) return null;
  let bits = 0;
  for (const s of streams) {
    const d = delta(s.now.bytes, s.prev?.bytes);
    if (d === null) return null;
    bits += (d * 8) / (s.dt / 1000);
  }
  return Math.round(bits);
}

/**
 * The stream that carried the most in the interval (then the largest picture): codec and resolution
 * come from it. A stream without a baseline has just appeared (new SSRC), so it is the current one.
 */
function primary(streams: Rtp[]): Rtp | null {
  const weight = (s: Rtp) => delta(s.now.bytes, s.prev?.bytes) ?? Infinity;
  const area = (s: Rtp) => (num(s.e, 'frameWidth') ?? 0) * (num(s.e, 'frameHeight') ?? 0);
  return streams.reduce<Rtp | null>((best, s) => (!best || weight(s) > weight(best) || (weight(s) === weight(best) && area(s) > area(best)) ? s : best), null);
}

function jitterBufferMs(streams: Rtp[]): number | null {
  let delay = 0;
  let emitted = 0;
  for (const s of streams) {
    const dd = delta(s.now.jitterBufferDelay, s.prev?.jitterBufferDelay);
    const de = delta(s.now.jitterBufferEmittedCount, s.prev?.jitterBufferEmittedCount);
    if (dd === null || de === null) continue;
    delay += dd;
    emitted += de;
  }
  return emitted > 0 ? (delay / emitted) * 1000 : null;
}

function video(streams: Rtp[], codec: (e: Entry) => string | null) {
  const p = primary(streams);
  const frames = p ? delta(p.now.frames, p.prev?.frames) : null;
  return {
    bitrate: bitrate(streams),
    codec: p ? codec(p.e) : null,
    width: num(p?.e, 'frameWidth'),
    height: num(p?.e, 'frameHeight'),
    fps: num(p?.e, 'framesPerSecond') ?? (p && frames !== null ? Math.round((frames * 1000) / p.dt) : null),
  };
}

/** Inbound loss over the interval, all streams together: Δlost / (Δlost + Δreceived). */
function lossIn(streams: Rtp[]): number | null {
  let lost = 0;
  let received = 0;
  for (const s of streams) {
    const dr = delta(s.now.packets, s.prev?.packets);
    if (dr === null) continue;
    received += dr;
    lost += Math.max(0, delta(s.now.packetsLost, s.prev?.packetsLost) ?? 0);
  }
  return lost + received > 0 ? (lost / (lost + received)) * 100 : null;
}

/**
 * The far end's fractionLost, each report weighted by what we sent on its stream in the interval
 * (video sends ten times the packets of audio); a plain mean while any stream lacks a baseline.
 */
function lossOut(remoteInbound: Entry[], outbound: Rtp[]): number | null {
  const byId = new Map(outbound.map((s) => [s.e.id, s]));
  const reports = remoteInbound.flatMap((r) => {
    const fraction = num(r, 'fractionLost');
    const s = byId.get(r.localId);
    return fraction === null ? [] : [{ fraction, sent: s ? delta(s.now.packets, s.prev?.packets) : null }];
  });
  const weighted = reports.every((r) => r.sent !== null) && reports.some((r) => r.sent! > 0);
  const weight = (r: { sent: number | null }) => (weighted ? r.sent! : 1);
  const total = reports.reduce((a, r) => a + weight(r), 0);
  return total > 0 ? (reports.reduce((a, r) => a + r.fraction * weight(r), 0) / total) * 100 : null;
}

function maxOf(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

/** Turns one getStats() report into a snapshot; rates come from deltas against `previous`. */
export function reduceStats(report: StatsReportLike, previous: StatsSample | null, nowMs: number): StatsSample {
  const byType = new Map<string, Entry[]>();
  report.forEach((v) => {
    const type = v !== null && typeof v === 'object' ? str(v as Entry, 'type') : null;
    if (type) (byType.get(type) ?? byType.set(type, []).get(type)!).push(v as Entry);
  });
  const of = (type: string) => byType.get(type) ?? [];
  const selected = selectedPair(report);
  const { pair, transport, local, remote } = selected;
  const classified = classifyPath(selected);
  const localIsRelay = classified.localCandidateType === 'relay';

  const counters: Record<string, RawCounters> = {};
  const rtp = (type: string, inbound: boolean, kind: string): Rtp[] =>
    of(type)
      .filter((e) => str(e, 'kind') === kind && typeof e.id === 'string')
      .map((e) => {
        const now = countersOf(e, inbound, nowMs);
        counters[e.id as string] = now;
        const prev = baseline(now, previous?.counters[e.id as string]);
        return { e, now, prev, dt: prev ? now.ts - prev.ts : 0 };
      });
  const audioIn = rtp('inbound-rtp', true, 'audio');
  const videoIn = rtp('inbound-rtp', true, 'video');
  const audioOut = rtp('outbound-rtp', false, 'audio');
  const videoOut = rtp('outbound-rtp', false, 'video');
  const codec = (e: Entry) => str(get(report, e.codecId), 'mimeType');
  const codecOf = (streams: Rtp[]) => {
    const p = primary(streams);
    return p ? codec(p.e) : null;
  };

  const dropped = videoIn.map((s) => num(s.e, 'framesDropped')).filter((v): v is number => v !== null);

  const snapshot: PeerStatsSnapshot = {
    at: nowMs,
    path: {
      label: classified.label,
      kind: classified.kind,
      pairId: str(pair, 'id'),
      localCandidateId: str(local, 'id'),
      remoteCandidateId: str(remote, 'id'),
      localCandidateType: str(local, 'candidateType'),
      remoteCandidateType: str(remote, 'candidateType'),
      protocol: str(local, 'protocol'),
      relayProtocol: localIsRelay ? str(local, 'relayProtocol') : null,
      turnUrl: localIsRelay ? classified.url : null,
      turnPort: localIsRelay ? classified.port : null,
      localAddress: str(local, 'address') ?? str(local, 'ip'),
      localPort: num(local, 'port'),
      remoteAddress: str(remote, 'address') ?? str(remote, 'ip'),
      remotePort: num(remote, 'port'),
      candidates: { local: counts(of('local-candidate')), remote: counts(of('remote-candidate')) },
    },
    transport: {
      iceState: str(transport, 'iceState'),
      dtlsState: str(transport, 'dtlsState'),
      dtlsRole: str(transport, 'dtlsRole'),
      tlsVersion: str(transport, 'tlsVersion'),
      dtlsCipher: str(transport, 'dtlsCipher'),
      srtpCipher: str(transport, 'srtpCipher'),
      selectedCandidatePairChanges: num(transport, 'selectedCandidatePairChanges'),
    },
    quality: {
      rttMs: ms(num(pair, 'currentRoundTripTime')) ?? ms(maxOf(of('remote-inbound-rtp').map((r) => num(r, 'roundTripTime')))),
      jitterMs: ms(maxOf(audioIn.map((s) => num(s.e, 'jitter')))),
      lossInPercent: lossIn([...audioIn, ...videoIn]),
      lossOutPercent: lossOut(of('remote-inbound-rtp'), [...audioOut, ...videoOut]),
      availableOutgoingBitrate: num(pair, 'availableOutgoingBitrate'),
      audioIn: { bitrate: bitrate(audioIn), codec: codecOf(audioIn), jitterBufferDelayMs: jitterBufferMs(audioIn) },
      audioOut: { bitrate: bitrate(audioOut), codec: codecOf(audioOut) },
      videoIn: { ...video(videoIn, codec), framesDropped: dropped.length ? dropped.reduce((a, b) => a + b, 0) : null, jitterBufferDelayMs: jitterBufferMs(videoIn) },
      videoOut: { ...video(videoOut, codec), qualityLimitationReason: str(primary(videoOut)?.e, 'qualityLimitationReason') },
    },
  };
  return { at: nowMs, counters, snapshot };
}
