import { parseIceUrl, type IceUrl, type RelayTransport } from './iceUrl.js';
import { clockFrom, type Clock } from './timers.js';

export const RESTRICTIVE_MESSAGE = 'This network blocks UDP — calls go through TURN over TLS 443';

/** The parts of an RTCIceCandidate (from `icecandidate`) the detector reads. */
export interface GatheredCandidate {
  type: string | null | undefined;
  protocol?: string | null;
  relayProtocol?: string | null;
  url?: string | null;
}

/** The parts of an RTCPeerConnectionIceErrorEvent the detector reads. */
export interface CandidateErrorEvent {
  errorCode: number;
  url?: string | null;
}

export type DecidedBy =
  | 'open-path' // a srflx or UDP/TCP relay candidate: UDP or TCP 3478 gets out
  | 'tls-window' // a TLS relay came, and nothing else within the window after it
  | 'overall-window'
  | 'others-unreachable' // every non-TLS server reported 701 and a TLS relay came
  | 'all-unreachable'
  | 'gathering-complete'
  | 'only-tls-offered'; // nothing to compare with: the verdict cannot say restrictive

export interface DetectorEvidence {
  /** The ICE server URLs offered (as given to the detector). */
  offeredUrls: string[];
  srflx: number;
  relayUdp: number;
  relayTcp: number;
  /** TLS relays, and TCP relays to port 443 (all such a network leaves open). */
  relayTls: number;
  firstTlsRelayAtMs: number | null;
  /** Candidate errors as reported; 701 means the server was unreachable. */
  errors: { url: string | null; errorCode: number; atMs: number }[];
  gatheringComplete: boolean;
  decidedAtMs: number | null;
  decidedBy: DecidedBy | null;
}

export type NetworkVerdict =
  | { restrictive: false; blocked: false; message: null; evidence: DetectorEvidence }
  | { restrictive: true; blocked: false; message: typeof RESTRICTIVE_MESSAGE; evidence: DetectorEvidence }
  | { restrictive: false; blocked: true; message: string; evidence: DetectorEvidence };

export interface DetectorOptions extends Partial<Clock> {
  /** The ICE server URLs gathering uses (all of them: run this with the `auto` policy). */
  urls?: string[];
  /** How long to wait for a UDP/TCP path after the first TLS relay candidate. */
  tlsWindowMs?: number;
  /** Longest wait from construction. */
  overallMs?: number;
}

const UNREACHABLE = 701;

function transportOf(url: IceUrl): string {
  if (url.relay) return url.relay.toUpperCase();
  return url.scheme === 'stuns' ? 'TLS' : 'UDP';
}

// Servers are matched by what they are, not by URL spelling: Chromium may normalise the URL it reports.
const keyOf = (url: IceUrl): string => `${transportOf(url)}|${url.host.toLowerCase()}|${url.port}`;

/**
 * Decides quickly whether UDP is blocked, from candidates alone. It never waits for errors:
 * a dropped UDP TURN reports 701 only after ~40 s, and a dropped TCP SYN reports nothing at all.
 * Construct it when gathering starts; feed it the peer connection's gathering events.
 */
export class RestrictiveNetworkDetector {
  /** Settles once, with the verdict. */
  readonly decided: Promise<NetworkVerdict>;
  private resolve!: (v: NetworkVerdict) => void;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private readonly tlsWindowMs: number;
  private readonly overallMs: number;
  private readonly offered: IceUrl[];
  private readonly ev: DetectorEvidence;
  private overallTimer: unknown;
  private tlsTimer: unknown = null;
  private _verdict: NetworkVerdict | null = null;

  constructor(opts: DetectorOptions = {}) {
    this.clock = clockFrom(opts);
    this.tlsWindowMs = opts.tlsWindowMs ?? 1_500;
    this.overallMs = opts.overallMs ?? 3_000;
    const urls = opts.urls ?? [];
    this.offered = urls.map(parseIceUrl).filter((u): u is IceUrl => u !== null);
    this.ev = {
      offeredUrls: [...urls],
      srflx: 0,
      relayUdp: 0,
      relayTcp: 0,
      relayTls: 0,
      firstTlsRelayAtMs: null,
      errors: [],
      gatheringComplete: false,
      decidedAtMs: null,
      decidedBy: null,
    };
    this.decided = new Promise((resolve) => (this.resolve = resolve));
    this.startedAt = this.clock.now();
    this.overallTimer = this.clock.setTimeout(() => this.decideFromTls('overall-window'), this.overallMs);
  }

  get verdict(): NetworkVerdict | null {
    return this._verdict;
  }

  /** What has been seen so far (a copy), for diagnostics. */
  get evidence(): DetectorEvidence {
    return snapshot(this.ev);
  }

  onCandidate(c: GatheredCandidate): void {
    if (c.type === 'srflx') {
      this.ev.srflx += 1;
      return this.decide('open-path');
    }
    if (c.type !== 'relay') return; // host and prflx say nothing about the way out
    const url = c.url ? parseIceUrl(c.url) : null;
    const reported = c.relayProtocol;
    const relay: RelayTransport =
      reported === 'udp' || reported === 'tcp' || reported === 'tls' ? reported : (url?.relay ?? 'udp');
    if (relay === 'udp' || (relay === 'tcp' && url?.port !== 443)) {
      if (relay === 'udp') this.ev.relayUdp += 1;
      else this.ev.relayTcp += 1;
      return this.decide('open-path');
    }
    this.ev.relayTls += 1;
    if (this.ev.firstTlsRelayAtMs !== null) return;
    this.ev.firstTlsRelayAtMs = this.elapsed();
    if (this._verdict) return;
    if (this.othersUnreachable()) return this.decideFromTls('others-unreachable');
    // Within the overall window the TLS window ends early; the overall timer covers the rest.
    if (this.ev.firstTlsRelayAtMs + this.tlsWindowMs < this.overallMs) {
      this.tlsTimer = this.clock.setTimeout(() => this.decideFromTls('tls-window'), this.tlsWindowMs);
    }
  }

  onCandidateError(e: CandidateErrorEvent): void {
    this.ev.errors.push({ url: e.url ?? null, errorCode: e.errorCode, atMs: this.elapsed() });
    if (e.errorCode !== UNREACHABLE || this.offered.length === 0) return;
    const down = this.unreachable();
    if (this.offered.every((u) => down.has(keyOf(u)))) return this.decideFromTls('all-unreachable');
    if (this.ev.relayTls > 0 && this.othersUnreachable()) this.decideFromTls('others-unreachable');
  }

  onGatheringComplete(): void {
    this.ev.gatheringComplete = true;
    this.decideFromTls('gathering-complete');
  }

  /** Stops the timers; the verdict, if none yet, never comes. */
  dispose(): void {
    this.clock.clearTimeout(this.overallTimer);
    this.clock.clearTimeout(this.tlsTimer);
  }

  private elapsed(): number {
    return this.clock.now() - this.startedAt;
  }

  private unreachable(): Set<string> {
    const keys = new Set<string>();
    for (const err of this.ev.errors) {
      const url = err.url ? parseIceUrl(err.url) : null;
      if (err.errorCode === UNREACHABLE && url) keys.add(keyOf(url));
    }
    return keys;
  }

  /** True when every offered server other than TLS ones has reported 701. */
  private othersUnreachable(): boolean {
    const others = this.offered.filter((u) => transportOf(u) !== 'TLS');
    const down = this.unreachable();
    return others.length > 0 && others.every((u) => down.has(keyOf(u)));
  }

  /** Once no open path has shown up: a TLS relay means restrictive, nothing at all means blocked. */
  private decideFromTls(by: DecidedBy): void {
    if (this.ev.relayTls > 0) {
      const onlyTlsOffered = this.offered.length > 0 && this.offered.every((u) => transportOf(u) === 'TLS');
      return this.decide(onlyTlsOffered ? 'only-tls-offered' : by, onlyTlsOffered ? 'open' : 'restrictive');
    }
    this.decide(by, 'blocked');
  }

  private decide(by: DecidedBy, outcome: 'open' | 'restrictive' | 'blocked' = 'open'): void {
    if (this._verdict) return;
    this.dispose();
    this.ev.decidedAtMs = this.elapsed();
    this.ev.decidedBy = by;
    const evidence = snapshot(this.ev);
    if (outcome === 'restrictive') {
      this._verdict = { restrictive: true, blocked: false, message: RESTRICTIVE_MESSAGE, evidence };
    } else if (outcome === 'blocked') {
      this._verdict = { restrictive: false, blocked: true, message: this.blockedMessage(), evidence };
    } else {
      this._verdict = { restrictive: false, blocked: false, message: null, evidence };
    }
    this.resolve(this._verdict);
  }

  private blockedMessage(): string {
    const seconds = Math.round(this.elapsed() / 100) / 10;
    const tried = [...new Set(this.offered.map((u) => `${transportOf(u)} ${u.port}`))];
    const what = tried.length > 0 ? tried.join(', ') : 'STUN and TURN';
    const tls = this.offered.find((u) => u.relay === 'tls');
    const ask = tls
      ? `ask your IT team to allow outbound connections to ${tls.host}:${tls.port} (TURN over TLS)`
      : 'ask your administrator to offer TURN over TLS on port 443, which most firewalls let through';
    return `Cannot reach the call servers: nothing came back over ${what} in ${seconds} s, so this network or a firewall blocks them. Try another network, or ${ask}.`;
  }
}

function snapshot(ev: DetectorEvidence): DetectorEvidence {
  return { ...ev, offeredUrls: [...ev.offeredUrls], errors: ev.errors.map((e) => ({ ...e })) };
}
