import type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { IceServer, PeerInfo, SignalData } from '../../../shared/protocol/index.js';
import type { useAppStore } from '../store/index.js';
import { LevelMeter } from './LevelMeter.js';
import { whatWasTried } from './linkFailureText.js';
import type { LocalMedia } from './LocalMedia.js';
import { encryptionLabel, parseIceUrl, rtcConfigurationFor, type MediaPath } from './networkPolicy.js';
import { PeerLink, PreparedOffer, sdpSessionId, type LinkState } from './PeerLink.js';
import { RestrictiveNetworkDetector, type NetworkVerdict } from './RestrictiveNetworkDetector.js';
import type { SignalClient } from './SignalClient.js';
import { EventTimeline } from './stats/EventTimeline.js';
import type { QualityScore } from './stats/qualityScore.js';
import { StatsSampler } from './stats/StatsSampler.js';
import type { PeerStatsSnapshot } from './stats/statsReducer.js';
import { ConnectionState, SignalEvent, type WelcomeEvent } from './signalTypes.js';

type Store = typeof useAppStore;

export interface CallSessionDeps {
  signal: SignalClient;
  media: LocalMedia;
  RTCPeerConnection: typeof RTCPeerConnection;
  store: Store;
  policy: NetworkPolicy;
  rememberNetwork: (restrictive: boolean) => void;
  statsIntervalMs?: number;
  /** ICE `disconnected` this long means the path is gone: restart ICE. */
  disconnectedRestartMs?: number;
  /** A link not connected this long after it started is treated as failed (relay-only gathering can stall for ever). */
  connectTimeoutMs?: number;
  /** A peer whose signaling dropped keeps its peer connection this long, waiting for it to come back. */
  awayGraceMs?: number;
}

interface LinkEntry {
  link: PeerLink;
  policy: NetworkPolicy;
  connectTimer: ReturnType<typeof setTimeout> | null;
  disconnectTimer: ReturnType<typeof setTimeout> | null;
  awayTimer: ReturnType<typeof setTimeout> | null;
  meter: LevelMeter | null;
  everConnected: boolean;
  /** Whether anything came from the peer for this connection. */
  heard: boolean;
  candidateErrors: { url: string | null; errorCode: number }[];
}

/**
 * One call: a mesh of peer connections, one per other participant, negotiated through the
 * SignalClient. It owns the connections and reports to the store; it never touches the DOM.
 */
export class CallSession {
  private readonly links = new Map<string, LinkEntry>();
  private readonly unsubscribe: (() => void)[] = [];
  private iceServers: IceServer[] = [];
  private selfId: string | null = null;
  private detector: RestrictiveNetworkDetector | null = null;
  private ended = false;
  /** Our first offer, made while the socket opens, for the first peer the welcome names. */
  private prepared: { offer: PreparedOffer; policy: NetworkPolicy } | null = null;
  /** What happened, for the stats panel and diagnostics. */
  readonly timeline = new EventTimeline();
  readonly sampler: StatsSampler;
  /** Selected candidate pair changes per peer (time, types, protocols). */
  readonly selectedPairs = new Map<string, { at: number; snapshot: PeerStatsSnapshot['path'] }[]>();

  constructor(private readonly deps: CallSessionDeps) {
    this.sampler = new StatsSampler({
      intervalMs: deps.statsIntervalMs ?? 1000,
      onSample: (peerId, snapshot, score) => this.onSample(peerId, snapshot, score),
    });
  }

  /** The ICE server URLs offered (no credentials), for diagnostics. */
  iceServerUrls(): string[] {
    return this.iceServers.flatMap(urls);
  }

  private get store() {
    return this.deps.store.getState();
  }

  async start(): Promise<void> {
    const { signal } = this.deps;
    this.unsubscribe.push(
      signal.on(SignalEvent.Welcome, (w) => this.onWelcome(w)),
      signal.on(SignalEvent.PeerJoined, (p) => this.onPeerJoined(p)),
      // Only `left` is a goodbye. A peer `kicked` (slow, flooding, or by a server shutting down, as older
      // servers announce it) reconnects by itself like one that dropped: its connection is kept meanwhile.
      signal.on(SignalEvent.PeerLeft, ({ peerId, reason }) => this.onPeerLeft(peerId, reason === 'left')),
      signal.on(SignalEvent.Signal, ({ from, data }) => void this.onSignal(from, data)),
      signal.on(SignalEvent.IceServers, ({ iceServers }) => this.onIceServers(iceServers)),
      signal.on(SignalEvent.StateChanged, ({ state, error }) => {
        this.store.callPatch({ signaling: state });
        this.timeline.record('signaling', null, { state, error: error?.code ?? null });
        if (state === ConnectionState.Closed && error && !this.ended) {
          this.fail(`The connection to the server ended: ${error.message}. Leave and join again.`);
        }
      }),
    );
    this.store.callPatch({ phase: 'connecting', failure: null });
    const connecting = signal.connect();
    this.prepareOffer();
    try {
      await connecting;
    } catch (err) {
      this.dropPrepared();
      this.fail(`Could not join the room: ${(err as Error).message}.`);
      return;
    }
  }

  /** With the join's ICE servers at hand (a fresh pre-join token), the offer is made before the welcome. */
  private prepareOffer(): void {
    const policy = this.store.call.policy;
    const result = rtcConfigurationFor(policy, this.deps.signal.iceServers);
    if (!result.ok || this.deps.signal.iceServers.length === 0) return;
    const { media } = this.deps;
    this.prepared = { policy, offer: new PreparedOffer({ config: result.config, RTCPeerConnection: this.deps.RTCPeerConnection, tracks: media.tracks(), stream: media.stream }) };
  }

  private dropPrepared(): void {
    this.prepared?.offer.close();
    this.prepared = null;
  }

  private fail(message: string): void {
    this.store.callPatch({ phase: 'failed', failure: message });
  }

  private configFor(policy: NetworkPolicy): RTCConfiguration | null {
    const result = rtcConfigurationFor(policy, this.iceServers);
    if (!result.ok) {
      this.fail(result.error);
      return null;
    }
    return result.config;
  }

  private onWelcome(w: WelcomeEvent): void {
    this.selfId = w.self.peerId;
    this.iceServers = w.iceServers;
    this.store.callPatch({ selfId: w.self.peerId, phase: 'in-call' });
    const present = new Set(w.peers.map((p) => p.peerId));
    // We are the newcomer to everyone already here: we offer.
    for (const peer of w.peers) this.onPeerJoined(peer, true);
    // Alone in the room: the others will offer to us.
    this.dropPrepared();
    if (w.reconnected) {
      this.timeline.record('reconnect', null, { peers: w.peers.length });
      for (const [peerId, entry] of this.links) {
        if (!present.has(peerId)) this.onPeerLeft(peerId, false);
        entry.link.setConfiguration(this.configFor(entry.policy) ?? {});
        // Messages may have been lost in the drop: a negotiation left half-way is started again.
        if (entry.link.pc.signalingState !== 'stable' || entry.link.state !== 'connected') entry.link.restartIce();
      }
    }
    this.announceMedia();
  }

  private onPeerJoined(peer: PeerInfo, initiator = false): void {
    const entry = this.links.get(peer.peerId);
    this.store.callPeerUpsert(peer.peerId, { name: peer.name, away: false });
    if (entry) {
      // Back after a signaling drop: the peer connection was kept.
      if (entry.awayTimer) clearTimeout(entry.awayTimer);
      entry.awayTimer = null;
      // A link that never got anywhere will not now either (the peer may have reloaded): its offer gets a fresh one.
      const stale = !initiator && (entry.link.state === 'failed' || (entry.link.state === 'new' && !entry.heard));
      if (!stale) return this.sendMediaState(peer.peerId);
      this.dropLink(peer.peerId, entry);
    }
    // A newcomer offers to us: the connection is made now, so its offer applies to it at once (bench:call).
    this.createLink(peer.peerId, initiator);
    this.sendMediaState(peer.peerId);
  }

  private onPeerLeft(peerId: string, forGood: boolean): void {
    const entry = this.links.get(peerId);
    if (!forGood && entry && entry.link.state !== 'failed' && entry.link.state !== 'closed') {
      // Its signaling dropped (or it has not reconnected after a server restart yet), not necessarily its
      // media: keep the connection a while for it to come back.
      this.store.callPeerUpsert(peerId, { away: true });
      entry.awayTimer ??= setTimeout(() => this.removePeer(peerId), this.deps.awayGraceMs ?? 20_000);
      return;
    }
    this.removePeer(peerId);
  }

  private removePeer(peerId: string): void {
    const entry = this.links.get(peerId);
    if (entry) this.dropLink(peerId, entry);
    this.store.callPeerRemove(peerId);
  }

  /** Closes a peer's connection; its tile stays (removePeer takes that too). */
  private dropLink(peerId: string, entry: LinkEntry): void {
    this.clearTimers(entry);
    entry.meter?.close();
    entry.meter = null;
    entry.link.close();
    if (this.links.get(peerId) === entry) this.links.delete(peerId);
    this.sampler.untrack(peerId);
  }

  private clearTimers(entry: LinkEntry): void {
    for (const t of [entry.connectTimer, entry.disconnectTimer, entry.awayTimer]) if (t) clearTimeout(t);
    entry.connectTimer = entry.disconnectTimer = entry.awayTimer = null;
  }

  private createLink(peerId: string, initiator: boolean): LinkEntry | null {
    const policy = this.store.call.policy;
    const config = this.configFor(policy);
    if (!config || !this.selfId) return null;
    const entry: LinkEntry = { policy, connectTimer: null, disconnectTimer: null, awayTimer: null, meter: null, everConnected: false, heard: false, candidateErrors: [], link: null! };
    const prepared = initiator && this.prepared?.policy === policy ? this.prepared.offer : null;
    if (prepared) this.prepared = null;
    entry.link = new PeerLink({
      peerId,
      polite: this.selfId < peerId,
      config,
      RTCPeerConnection: this.deps.RTCPeerConnection,
      send: (data) => this.deps.signal.sendSignal(peerId, data),
      tracks: this.deps.media.tracks(),
      stream: this.deps.media.stream,
      initiator,
      prepared,
      events: {
        onRemoteStream: (stream) => {
          this.store.callPeerUpsert(peerId, { stream });
          entry.meter?.close();
          entry.meter = new LevelMeter(stream, (_level, speaking) => {
            if (this.store.call.peers[peerId]?.speaking !== speaking) this.store.callPeerUpsert(peerId, { speaking });
          });
        },
        onStateChange: (state) => this.onLinkState(peerId, entry, state),
        onCandidate: (c) => this.detector?.onCandidate({ type: c.type, protocol: c.protocol, relayProtocol: (c as { relayProtocol?: string }).relayProtocol ?? null, url: (c as { url?: string }).url ?? null }),
        onCandidateError: (e) => {
          entry.candidateErrors.push({ url: e.url ?? null, errorCode: e.errorCode });
          this.timeline.record('candidate-error', peerId, { url: e.url ?? null, errorCode: e.errorCode, errorText: e.errorText ?? null });
          this.detector?.onCandidateError({ errorCode: e.errorCode, url: e.url ?? null });
        },
        onGatheringComplete: () => {
          this.timeline.record('ice-gathering', peerId, { state: 'complete' });
          this.detector?.onGatheringComplete();
        },
        onGatheringStart: () => {
          this.timeline.record('ice-gathering', peerId, { state: 'gathering' });
          if (entry.policy === 'auto' && !this.detector) this.startDetector();
        },
        // Kept visible for developers; the link recovers through ICE restarts and timers.
        onError: (err, during) => console.warn(`peer ${peerId}: ${during} failed: ${err.message}`),
      },
    });
    this.links.set(peerId, entry);
    this.sampler.track(peerId, entry.link.pc);
    this.armConnectTimer(peerId, entry);
    this.store.callPeerUpsert(peerId, { link: 'new' });
    return entry;
  }

  private armConnectTimer(peerId: string, entry: LinkEntry): void {
    if (entry.connectTimer) clearTimeout(entry.connectTimer);
    entry.connectTimer = setTimeout(() => {
      entry.connectTimer = null;
      if (entry.link.state !== 'connected') this.onLinkFailed(peerId, entry);
    }, this.deps.connectTimeoutMs ?? 15_000);
  }

  private onLinkState(peerId: string, entry: LinkEntry, state: LinkState): void {
    if (state === 'closed') return;
    this.store.callPeerUpsert(peerId, { link: state });
    this.timeline.record('connection', peerId, { state });
    if (state === 'connected') {
      entry.everConnected = true;
      if (entry.connectTimer) clearTimeout(entry.connectTimer);
      if (entry.disconnectTimer) clearTimeout(entry.disconnectTimer);
      entry.connectTimer = entry.disconnectTimer = null;
      if (this.store.call.failure) this.store.callPatch({ failure: null, phase: 'in-call' });
    } else if (state === 'disconnected' || (state === 'failed' && entry.everConnected)) {
      // Often a network change, or the relay restarted (its allocations gone, a TLS relay's socket
      // closed: 'failed' at once). A few seconds without recovery means restart ICE on a new path;
      // a restart that fails is tried again until the connect timer gives up.
      entry.disconnectTimer ??= setTimeout(() => {
        entry.disconnectTimer = null;
        // An away peer cannot answer a restart; once back it restarts ICE itself, or offers afresh if it reloaded.
        // A link that worked and then failed (a TURN relay restarted) is retried like a disconnected one.
        const now = entry.link.state;
        if ((now === 'disconnected' || now === 'failed') && !entry.awayTimer) {
          this.timeline.record('ice-restart', peerId, { reason: now });
          entry.link.restartIce();
          if (!entry.connectTimer) this.armConnectTimer(peerId, entry);
        }
      }, this.deps.disconnectedRestartMs ?? 3000);
    } else if (state === 'failed') {
      this.onLinkFailed(peerId, entry);
    }
  }

  /** Auto falls back to relay over TLS 443 with an ICE restart; after that, the user is told why. */
  private onLinkFailed(peerId: string, entry: LinkEntry): void {
    // A peer that is away (left, reloading, or not back after a server restart) is not reachable through
    // any path, and without signaling no ICE restart can be negotiated: neither says anything about our
    // network. The away timer or the next welcome (which restarts ICE on every link not connected) goes on.
    if (entry.awayTimer || this.deps.signal.state !== ConnectionState.Connected) {
      this.timeline.record('connection', peerId, { state: 'failed', deferred: entry.awayTimer ? 'peer away' : 'signaling down' });
      return;
    }
    if (entry.policy !== 'relay-tls' && this.iceServers.some((s) => urls(s).some((u) => u.startsWith('turns:')))) {
      entry.policy = 'relay-tls';
      const config = this.configFor('relay-tls');
      if (!config) return;
      entry.link.setConfiguration(config);
      this.timeline.record('policy', peerId, { policy: 'relay-tls', reason: 'connection failed' });
      this.timeline.record('ice-restart', peerId, { reason: 'fallback to TURN over TLS 443' });
      entry.link.restartIce();
      this.armConnectTimer(peerId, entry);
      this.store.callPatch({ notice: 'The direct path failed; trying again through TURN over TLS 443.' });
      return;
    }
    const name = this.store.call.peers[peerId]?.name ?? 'this person';
    this.store.callPeerUpsert(peerId, { link: 'failed' });
    const message = `Could not connect to ${name}. ${whatWasTried({ offeredUrls: this.iceServers.flatMap(urls), linkPolicy: entry.policy, callPolicy: this.deps.policy, candidateErrors: entry.candidateErrors })}`;
    // Others still connected: the call goes on, and the news is about this person only.
    if (this.anyConnected()) this.store.callPatch({ notice: message });
    else this.fail(message);
  }

  private startDetector(): void {
    this.detector = new RestrictiveNetworkDetector({ urls: this.iceServers.flatMap(urls) });
    void this.detector.decided.then((verdict: NetworkVerdict) => {
      if (this.ended) return;
      this.timeline.record('network', null, { restrictive: verdict.restrictive, blocked: verdict.blocked, message: verdict.message });
      if (verdict.restrictive) {
        this.store.callPatch({ notice: verdict.message });
        this.deps.rememberNetwork(true);
      } else if (verdict.blocked && !this.anyConnected()) {
        this.fail(verdict.message);
      }
    });
  }

  private anyConnected(): boolean {
    return [...this.links.values()].some((e) => e.link.state === 'connected');
  }

  private async onSignal(from: string, data: SignalData): Promise<void> {
    if (data.kind === 'media-state') {
      this.store.callPeerUpsert(from, { media: { audio: data.audio, video: data.video, screen: data.screen } });
      return;
    }
    let entry = this.links.get(from);
    if (entry && isFreshOffer(entry.link, data)) {
      // The same participant on a new peer connection (it reloaded or restarted): the old one is dead.
      this.timeline.record('connection', from, { state: 'replaced' });
      this.dropLink(from, entry);
      this.store.callPeerUpsert(from, { away: false });
      entry = undefined;
    }
    // A peer may offer before we learn it joined (welcome/peer-joined race): make the link now.
    entry ??= this.store.call.peers[from] ? (this.createLink(from, false) ?? undefined) : undefined;
    if (!entry) return;
    entry.heard = true;
    await entry.link.handle(data);
  }

  private onIceServers(iceServers: IceServer[]): void {
    this.iceServers = iceServers;
    // Fresh TURN credentials for the next restart or re-allocation; working paths are unaffected.
    for (const entry of this.links.values()) {
      const config = this.configFor(entry.policy);
      if (config) entry.link.setConfiguration(config);
    }
  }

  private onSample(peerId: string, snapshot: PeerStatsSnapshot, score: QualityScore | null): void {
    if (this.ended) return;
    const view = this.store.call.peers[peerId];
    if (!view) return;
    const p = snapshot.path;
    const history = this.selectedPairs.get(peerId) ?? [];
    if (p.pairId && history.at(-1)?.snapshot.pairId !== p.pairId) {
      history.push({ at: snapshot.at, snapshot: p });
      this.selectedPairs.set(peerId, history);
      this.timeline.record('selected-pair', peerId, { local: p.localCandidateType, remote: p.remoteCandidateType, protocol: p.protocol, relayProtocol: p.relayProtocol, label: p.label });
    }
    const turnPort = p.turnUrl ? parseIceUrl(p.turnUrl)?.port ?? null : null;
    const path: MediaPath = {
      kind: p.kind,
      label: p.label,
      localCandidateType: p.localCandidateType,
      remoteCandidateType: p.remoteCandidateType,
      relayProtocol: p.relayProtocol === 'udp' || p.relayProtocol === 'tcp' || p.relayProtocol === 'tls' ? p.relayProtocol : null,
      url: p.turnUrl,
      port: turnPort,
    };
    const encryption = encryptionLabel(snapshot.transport);
    this.store.callPeerUpsert(peerId, { path, encryption, stats: snapshot, quality: score ? { score: score.score, reasons: score.reasons } : null });
  }

  private sendMediaState(peerId: string): void {
    const { media } = this.store.call.local;
    this.deps.signal.sendSignal(peerId, { kind: 'media-state', audio: media.audio, video: media.video, screen: media.screen });
  }

  /** Tells every peer what we send (after mute, camera or screen changes). */
  announceMedia(): void {
    const { media } = this.store.call.local;
    this.timeline.record('media', null, { audio: media.audio, video: media.video, screen: media.screen });
    for (const peerId of this.links.keys()) this.sendMediaState(peerId);
  }

  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    await Promise.all([...this.links.values()].map((e) => e.link.replaceTrack(kind, track)));
  }

  /** The peer connections, for the stats panel and diagnostics. */
  peerConnections(): Map<string, RTCPeerConnection> {
    return new Map([...this.links].map(([id, e]) => [id, e.link.pc]));
  }

  leave(): void {
    if (this.ended) return;
    this.ended = true;
    this.sampler.dispose();
    this.detector?.dispose();
    this.dropPrepared();
    for (const off of this.unsubscribe.splice(0)) off();
    for (const peerId of [...this.links.keys()]) this.removePeer(peerId);
    this.deps.signal.close();
  }
}

/** An offer from a peer connection other than the one this link negotiated with. */
function isFreshOffer(link: PeerLink, data: SignalData): boolean {
  if (data.kind !== 'description' || data.description.type !== 'offer') return false;
  const known = link.remoteSessionId;
  return known !== null && sdpSessionId(data.description.sdp) !== known;
}

function urls(server: IceServer): string[] {
  return Array.isArray(server.urls) ? server.urls : [server.urls];
}
