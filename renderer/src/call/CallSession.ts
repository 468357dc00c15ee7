import type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { IceServer, PeerInfo, SignalData } from '../../../shared/protocol/index.js';
import { E2eeCall, isE2eeSignal } from './e2ee/E2eeCall.js';
import { meshSecurityCode, sameCode, type SecurityCode } from './e2ee/securityCode.js';
import { CallEvent, newPeerView, type CallSessionEvents, type PeerView } from './events.js';
import { LevelMeter } from './LevelMeter.js';
import { whatWasTried } from './linkFailureText.js';
import { rtcConfigurationFor, urlsOf as urls } from './networkPolicy.js';
import { PeerLink, PreparedOffer, type LinkState } from './PeerLink.js';
import { RestrictiveNetworkDetector, type NetworkVerdict } from './RestrictiveNetworkDetector.js';
import { ConnectionState, SignalEvent, type WelcomeEvent } from './signalTypes.js';
import { CallStats } from './stats/CallStats.js';
import type { CallSessionDeps } from './sessionOptions.js';
import { clockFrom, TimerSet, type Clock } from './timers.js';
import { TypedEmitter } from './TypedEmitter.js';

interface LinkEntry {
  link: PeerLink;
  policy: NetworkPolicy;
  /** connect: give up on a link not connected; disconnected: restart ICE; away: drop an away peer. */
  timers: TimerSet<'connect' | 'disconnected' | 'away'>;
  meter: { close(): void } | null;
  everConnected: boolean;
  /** Whether anything came from the peer for this connection. */
  heard: boolean;
  candidateErrors: { url: string | null; errorCode: number }[];
}

/**
 * One call: a mesh of peer connections, one per other participant, negotiated through the
 * SignalClient. It owns the connections and keeps the view of every peer; it reports what happens as
 * typed events (`CallEvent`) and never touches app state or the DOM.
 */
export type { CallSessionDeps, LevelMeterFactory, MediaSource } from './sessionOptions.js';

export class CallSession extends TypedEmitter<CallSessionEvents> {
  private readonly links = new Map<string, LinkEntry>();
  /** Every peer signaling told us of, with or without a connection: the tiles. */
  private readonly views = new Map<string, PeerView>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly clock: Clock;
  private iceServers: IceServer[] = [];
  private selfId: string | null = null;
  private detector: RestrictiveNetworkDetector | null = null;
  private failure: string | null = null;
  private ended = false;
  /** Our first offer, made while the socket opens, for the first peer the welcome names. */
  private prepared: PreparedOffer | null = null;
  /** Statistics, selected pairs and the timeline, for the stats panel and diagnostics. */
  readonly stats: CallStats;
  /** Frame encryption on every connection, when asked for and the browser can. */
  private readonly e2ee: E2eeCall | null;

  constructor(private readonly deps: CallSessionDeps) {
    super();
    this.clock = clockFrom(deps.clock ?? {});
    this.stats = new CallStats({
      intervalMs: deps.statsIntervalMs ?? 1000,
      onPeerStats: (peerId, patch) => {
        if (!this.ended && this.views.has(peerId)) this.upsert(peerId, patch);
      },
    });
    this.e2ee = deps.e2ee ? E2eeCall.create(deps.e2ee, (peerId, ok) => this.views.has(peerId) && this.upsert(peerId, { decryptable: ok })) : null;
  }

  /** The ICE server URLs offered (no credentials), for diagnostics. */
  iceServerUrls(): string[] {
    return this.iceServers.flatMap(urls);
  }

  /** The peers' views as they are now. */
  peers(): PeerView[] {
    return [...this.views.values()];
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
        this.emit(CallEvent.SignalingChanged, { state });
        this.stats.timeline.record('signaling', null, { state, error: error?.code ?? null });
        if (state === ConnectionState.Closed && error && !this.ended) {
          this.fail(`The connection to the server ended: ${error.message}. Leave and join again.`);
        }
      }),
    );
    this.emit(CallEvent.PhaseChanged, { phase: 'connecting', failure: null });
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

  /** With the join's ICE servers at hand (a fresh pre-join token), the offer is made before the welcome (bench:call). */
  private prepareOffer(): void {
    const { signal, media } = this.deps;
    const result = rtcConfigurationFor(this.deps.policy, signal.iceServers);
    // Frame transforms go on before a connection first negotiates, and that needs the peer: no offer ahead.
    if (!result.ok || signal.iceServers.length === 0 || this.e2ee) return this.deps.warm?.close();
    const made = this.deps.warm?.take(this.deps.policy, signal.iceServers, media.tracks()) ?? null;
    this.prepared = new PreparedOffer({ config: result.config, RTCPeerConnection: this.deps.RTCPeerConnection, tracks: media.tracks(), stream: media.stream, made });
  }

  private dropPrepared(): void {
    this.prepared?.close();
    this.prepared = null;
  }

  private fail(message: string): void {
    this.failure = message;
    this.emit(CallEvent.PhaseChanged, { phase: 'failed', failure: message });
  }

  private notice(message: string | null): void {
    this.emit(CallEvent.Notice, { message });
  }

  private upsert(peerId: string, patch: Partial<PeerView>): void {
    const view = { ...(this.views.get(peerId) ?? newPeerView(peerId)), ...patch };
    this.views.set(peerId, view);
    this.emit(CallEvent.PeerUpdated, view);
  }

  private configFor(policy: NetworkPolicy): RTCConfiguration | null {
    const result = rtcConfigurationFor(policy, this.iceServers);
    if (!result.ok) {
      this.fail(result.error);
      return null;
    }
    return this.e2ee?.configure(result.config) ?? result.config;
  }

  private onWelcome(w: WelcomeEvent): void {
    this.selfId = w.self.peerId;
    this.e2ee?.start(w.self.peerId, (to, data) => this.deps.signal.sendSignal(to, data));
    this.iceServers = w.iceServers;
    this.emit(CallEvent.Joined, { selfId: w.self.peerId });
    // A failure said before stays on show until a connection proves it wrong (onLinkState).
    this.emit(CallEvent.PhaseChanged, { phase: 'in-call', failure: this.failure });
    const present = new Set(w.peers.map((p) => p.peerId));
    // We are the newcomer to everyone already here: we offer.
    for (const peer of w.peers) this.onPeerJoined(peer, true);
    // Alone in the room: the others will offer to us.
    this.dropPrepared();
    if (w.reconnected) {
      this.stats.timeline.record('reconnect', null, { peers: w.peers.length });
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
    // Present when we joined (we initiate to them), or joined after us: keys are ratcheted for those.
    if (initiator) this.e2ee?.peerPresent(peer.peerId);
    else this.e2ee?.peerJoined(peer.peerId);
    const entry = this.links.get(peer.peerId);
    this.upsert(peer.peerId, { name: peer.name, away: false });
    if (entry) {
      // Back after a signaling drop: the peer connection was kept.
      entry.timers.stop('away');
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
      this.upsert(peerId, { away: true });
      entry.timers.startOnce('away', this.deps.awayGraceMs ?? 20_000, () => this.removePeer(peerId));
      return;
    }
    this.removePeer(peerId);
  }

  private removePeer(peerId: string): void {
    const entry = this.links.get(peerId);
    if (entry) this.dropLink(peerId, entry);
    this.e2ee?.peerLeft(peerId);
    if (this.views.delete(peerId)) this.emit(CallEvent.PeerRemoved, { peerId });
  }

  /** Closes a peer's connection; its tile stays (removePeer takes that too). */
  private dropLink(peerId: string, entry: LinkEntry): void {
    entry.timers.stopAll();
    entry.meter?.close();
    entry.meter = null;
    entry.link.close();
    this.links.delete(peerId);
    this.stats.untrack(peerId);
  }

  private createLink(peerId: string, initiator: boolean): LinkEntry | null {
    const policy = this.deps.policy;
    const config = this.configFor(policy);
    if (!config || !this.selfId) return null;
    const entry: LinkEntry = { policy, timers: new TimerSet(this.clock), meter: null, everConnected: false, heard: false, candidateErrors: [], link: null! };
    entry.link = new PeerLink({
      peerId,
      polite: this.selfId < peerId,
      config,
      RTCPeerConnection: this.deps.RTCPeerConnection,
      send: (data) => this.deps.signal.sendSignal(peerId, data),
      tracks: this.deps.media.tracks(),
      stream: this.deps.media.stream,
      initiator,
      prepared: initiator ? this.takePrepared() : null,
      events: {
        onRemoteStream: (stream) => this.onRemoteStream(peerId, entry, stream),
        onStateChange: (state) => this.onLinkState(peerId, entry, state),
        onCandidate: (c) => this.detector?.onCandidate({ type: c.type, protocol: c.protocol, relayProtocol: (c as { relayProtocol?: string }).relayProtocol ?? null, url: (c as { url?: string }).url ?? null }),
        onCandidateError: (e) => {
          entry.candidateErrors.push({ url: e.url ?? null, errorCode: e.errorCode });
          this.stats.timeline.record('candidate-error', peerId, { url: e.url ?? null, errorCode: e.errorCode, errorText: e.errorText ?? null });
          this.detector?.onCandidateError({ errorCode: e.errorCode, url: e.url ?? null });
        },
        onGatheringComplete: () => {
          this.stats.timeline.record('ice-gathering', peerId, { state: 'complete' });
          this.detector?.onGatheringComplete();
        },
        onGatheringStart: () => {
          this.stats.timeline.record('ice-gathering', peerId, { state: 'gathering' });
          if (entry.policy === 'auto' && !this.detector) this.startDetector();
        },
        // Kept visible for developers; the link recovers through ICE restarts and timers.
        onError: (err, during) => console.warn(`peer ${peerId}: ${during} failed: ${err.message}`),
        onFingerprints: (local, remote) => void meshSecurityCode(local, remote).then((code) => this.showSecurityCode(peerId, entry, code)),
      },
    });
    this.links.set(peerId, entry);
    this.e2ee?.attach(peerId, entry.link.pc);
    this.stats.track(peerId, entry.link.pc);
    this.armConnectTimer(peerId, entry);
    this.upsert(peerId, { link: 'new' });
    return entry;
  }

  private showSecurityCode(peerId: string, entry: LinkEntry, code: SecurityCode): void {
    const before = this.views.get(peerId)?.securityCode ?? null;
    if (this.ended || this.links.get(peerId) !== entry || sameCode(before, code)) return;
    this.upsert(peerId, { securityCode: { ...code, changed: before != null } });
  }

  /** The prepared offer, for the first link we offer on (it was made with this session's policy). */
  private takePrepared(): PreparedOffer | null {
    const prepared = this.prepared;
    this.prepared = null;
    return prepared;
  }

  private onRemoteStream(peerId: string, entry: LinkEntry, stream: MediaStream): void {
    this.upsert(peerId, { stream });
    entry.meter?.close();
    const create = this.deps.createMeter ?? ((s, onLevel) => new LevelMeter(s, onLevel));
    entry.meter = create(stream, (_level, speaking) => {
      if (this.views.has(peerId) && this.views.get(peerId)?.speaking !== speaking) this.upsert(peerId, { speaking });
    });
  }

  private armConnectTimer(peerId: string, entry: LinkEntry): void {
    entry.timers.start('connect', this.deps.connectTimeoutMs ?? 15_000, () => {
      if (entry.link.state !== 'connected') this.onLinkFailed(peerId, entry);
    });
  }

  private onLinkState(peerId: string, entry: LinkEntry, state: LinkState): void {
    if (state === 'closed') return;
    this.upsert(peerId, { link: state });
    this.stats.timeline.record('connection', peerId, { state });
    if (state === 'connected') {
      entry.everConnected = true;
      entry.timers.stop('connect', 'disconnected');
      if (this.failure) {
        this.failure = null;
        this.emit(CallEvent.PhaseChanged, { phase: 'in-call', failure: null });
      }
    } else if (state === 'disconnected' || (state === 'failed' && entry.everConnected)) {
      // Often a network change, or the relay restarted (its allocations gone, a TLS relay's socket
      // closed: 'failed' at once). A few seconds without recovery means restart ICE on a new path;
      // a restart that fails is tried again until the connect timer gives up.
      entry.timers.startOnce('disconnected', this.deps.disconnectedRestartMs ?? 3000, () => this.restartStalled(peerId, entry));
    } else if (state === 'failed') {
      this.onLinkFailed(peerId, entry);
    }
  }

  private restartStalled(peerId: string, entry: LinkEntry): void {
    // An away peer cannot answer a restart; once back it restarts ICE itself, or offers afresh if it reloaded.
    // A link that worked and then failed (a TURN relay restarted) is retried like a disconnected one.
    const now = entry.link.state;
    if ((now === 'disconnected' || now === 'failed') && !entry.timers.running('away')) {
      this.stats.timeline.record('ice-restart', peerId, { reason: now });
      entry.link.restartIce();
      if (!entry.timers.running('connect')) this.armConnectTimer(peerId, entry);
    }
  }

  /** Auto falls back to relay over TLS 443 with an ICE restart; after that, the user is told why. */
  private onLinkFailed(peerId: string, entry: LinkEntry): void {
    // A peer that is away (left, reloading, or not back after a server restart) is not reachable through
    // any path, and without signaling no ICE restart can be negotiated: neither says anything about our
    // network. The away timer or the next welcome (which restarts ICE on every link not connected) goes on.
    const away = entry.timers.running('away');
    if (away || this.deps.signal.state !== ConnectionState.Connected) {
      this.stats.timeline.record('connection', peerId, { state: 'failed', deferred: away ? 'peer away' : 'signaling down' });
      return;
    }
    if (entry.policy !== 'relay-tls' && this.iceServers.some((s) => urls(s).some((u) => u.startsWith('turns:')))) {
      entry.policy = 'relay-tls';
      const config = this.configFor('relay-tls');
      if (!config) return;
      entry.link.setConfiguration(config);
      this.stats.timeline.record('policy', peerId, { policy: 'relay-tls', reason: 'connection failed' });
      this.stats.timeline.record('ice-restart', peerId, { reason: 'fallback to TURN over TLS 443' });
      entry.link.restartIce();
      this.armConnectTimer(peerId, entry);
      this.notice('The direct path failed; trying again through TURN over TLS 443.');
      return;
    }
    const name = this.views.get(peerId)?.name ?? 'this person';
    this.upsert(peerId, { link: 'failed' });
    const message = `Could not connect to ${name}. ${whatWasTried({ offeredUrls: this.iceServers.flatMap(urls), linkPolicy: entry.policy, callPolicy: this.deps.policy, candidateErrors: entry.candidateErrors })}`;
    // Others still connected: the call goes on, and the news is about this person only.
    if (this.anyConnected()) this.notice(message);
    else this.fail(message);
  }

  private startDetector(): void {
    this.detector = new RestrictiveNetworkDetector({ urls: this.iceServers.flatMap(urls), ...this.deps.clock });
    void this.detector.decided.then((verdict: NetworkVerdict) => {
      if (this.ended) return;
      this.stats.timeline.record('network', null, { restrictive: verdict.restrictive, blocked: verdict.blocked, message: verdict.message });
      if (verdict.restrictive) {
        this.notice(verdict.message);
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
    if (isE2eeSignal(data)) return this.e2ee?.handle(from, data);
    if (data.kind === 'media-state') {
      this.upsert(from, { media: { audio: data.audio, video: data.video, screen: data.screen } });
      return;
    }
    let entry = this.links.get(from);
    if (entry?.link.isFreshOffer(data)) {
      // The same participant on a new peer connection (it reloaded or restarted): the old one is dead.
      this.stats.timeline.record('connection', from, { state: 'replaced' });
      this.dropLink(from, entry);
      this.upsert(from, { away: false });
      entry = undefined;
    }
    // A peer may offer before we learn it joined (welcome/peer-joined race): make the link now.
    entry ??= this.views.has(from) ? (this.createLink(from, false) ?? undefined) : undefined;
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

  private sendMediaState(peerId: string): void {
    const { audio, video, screen } = this.deps.media.flags;
    this.deps.signal.sendSignal(peerId, { kind: 'media-state', audio, video, screen });
  }

  /** Tells every peer what we send (after mute, camera or screen changes). */
  announceMedia(): void {
    const { audio, video, screen } = this.deps.media.flags;
    this.stats.timeline.record('media', null, { audio, video, screen });
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
    this.stats.dispose();
    this.detector?.dispose();
    this.dropPrepared();
    this.e2ee?.close();
    this.deps.warm?.close();
    for (const off of this.unsubscribe.splice(0)) off();
    // Every link has a view (createLink makes one): removing the views takes the links too.
    for (const peerId of [...this.views.keys()]) this.removePeer(peerId);
    this.deps.signal.close();
  }
}
