import type { SignalData } from '../../../shared/protocol/index.js';
import { sdpFingerprints } from './e2ee/securityCode.js';

export type LinkState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface PeerLinkEvents {
  onRemoteStream(stream: MediaStream): void;
  onStateChange(state: LinkState): void;
  onCandidate(candidate: RTCIceCandidate): void;
  onCandidateError(event: RTCPeerConnectionIceErrorEvent): void;
  onGatheringComplete(): void;
  /** ICE gathering began (the detector's clock starts here, not at creation). */
  onGatheringStart(): void;
  /** A negotiation step failed (logged by the caller; the link recovers through ICE restart). */
  onError(error: Error, during: string): void;
  /** Connected: both sides' DTLS fingerprints from the descriptions in use (the security code hashes them). */
  onFingerprints?(local: string[], remote: string[]): void;
}

export interface PeerLinkOptions {
  peerId: string;
  /** The polite peer yields when both send offers at once (perfect negotiation). */
  polite: boolean;
  config: RTCConfiguration;
  RTCPeerConnection: typeof RTCPeerConnection;
  send: (data: SignalData) => void;
  /** Tracks to send from the start, and the stream they belong to. */
  tracks: MediaStreamTrack[];
  /**
   * Whether this side makes the first offer. Only the newcomer does: when both offer at once,
   * Chromium's rollback on the polite side can leave the answer's transport without candidates.
   */
  initiator: boolean;
  stream: MediaStream;
  events: PeerLinkEvents;
  /** An initiator's connection made and offered ahead (its config, tracks and stream are used, not these). */
  prepared?: PreparedOffer | null;
}

/** What a prepared connection reported before it was taken over, in order. */
type HeldEvent =
  | { kind: 'candidate'; candidate: RTCIceCandidate | null }
  | { kind: 'candidate-error'; event: RTCPeerConnectionIceErrorEvent }
  | { kind: 'gathering-start' };

/** Sends our tracks, and receives audio and video whether or not we send them. */
export function addMedia(pc: RTCPeerConnection, tracks: MediaStreamTrack[], stream: MediaStream): Map<string, RTCRtpSender> {
  const senders = new Map<string, RTCRtpSender>();
  // addTrack (not addTransceiver): a colliding remote offer can then reuse these transceivers.
  for (const track of tracks) senders.set(track.kind, pc.addTrack(track, stream));
  // Without a camera or microphone we still receive the others' (and negotiate at all).
  for (const kind of ['audio', 'video'] as const) {
    if (!senders.has(kind)) senders.set(kind, pc.addTransceiver(kind, { direction: 'recvonly' }).sender);
  }
  return senders;
}

/**
 * A newcomer's first peer connection, made and offered while its socket opens and joins: the offer
 * (about 15 ms of WebRTC work, more while a render holds the page) is ready when the welcome names
 * the peer it is for (bench:call). Candidates and errors are held until a PeerLink takes it over.
 */
export class PreparedOffer {
  readonly pc: RTCPeerConnection;
  readonly senders: Map<string, RTCRtpSender>;
  /** Settles when the offer is the local description. */
  readonly ready: Promise<void>;
  private held: HeldEvent[] = [];

  /** `made`: the connection made ahead with these tracks (WarmConnection), else one is made now. */
  constructor(opts: { config: RTCConfiguration; RTCPeerConnection: typeof RTCPeerConnection; tracks: MediaStreamTrack[]; stream: MediaStream; made?: { pc: RTCPeerConnection; senders: Map<string, RTCRtpSender> } | null }) {
    const pc = opts.made?.pc ?? new opts.RTCPeerConnection(opts.config);
    this.pc = pc;
    this.senders = opts.made?.senders ?? addMedia(pc, opts.tracks, opts.stream);
    pc.onicecandidate = ({ candidate }) => this.held.push({ kind: 'candidate', candidate });
    pc.onicecandidateerror = (event) => this.held.push({ kind: 'candidate-error', event: event as RTCPeerConnectionIceErrorEvent });
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'gathering') this.held.push({ kind: 'gathering-start' });
    };
    this.ready = pc.setLocalDescription();
    // Reported by the PeerLink that takes it over; unused, it is closed.
    this.ready.catch(() => undefined);
  }

  /** Stops holding: what happened so far, for the PeerLink taking over (it sets its own handlers). */
  release(): HeldEvent[] {
    this.pc.onicecandidate = null;
    this.pc.onicecandidateerror = null;
    this.pc.onicegatheringstatechange = null;
    return this.held.splice(0);
  }

  close(): void {
    this.release();
    this.pc.close();
  }
}

/**
 * One peer connection, negotiated with the W3C perfect-negotiation pattern so that offers sent at the
 * same moment by both sides never wedge it: the impolite side ignores a colliding offer, the polite
 * side rolls back and answers. Candidates trickle both ways.
 */
export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly peerId: string;
  private readonly polite: boolean;
  private makingOffer = false;
  private ignoreOffer = false;
  private settingRemoteAnswer = false;
  private closed = false;
  private readonly senders = new Map<string, RTCRtpSender>();
  /** Messages from the peer are applied one at a time, in the order they came. */
  private incoming: Promise<void> = Promise.resolve();
  /** Messages handed to handle() and not yet applied. */
  private queued = 0;
  /**
   * Candidates that came before a remote description to apply them to: the other side's
   * icecandidate events can overtake the description it sends after setLocalDescription resolves.
   */
  private earlyCandidates: (RTCIceCandidateInit | null)[] = [];
  private readonly allowOffers: () => void;

  constructor(private readonly opts: PeerLinkOptions) {
    this.peerId = opts.peerId;
    this.polite = opts.polite;
    const prepared = opts.prepared ?? null;
    // No candidate pool on the answering side: with one, a call test saw the restrictive-network
    // detector (fed by gathering events) call an open network restrictive.
    this.pc = prepared?.pc ?? new opts.RTCPeerConnection(opts.config);
    const pc = this.pc;
    for (const [kind, sender] of prepared?.senders ?? addMedia(pc, opts.tracks, opts.stream)) this.senders.set(kind, sender);

    // The answering side's first negotiation is the remote offer; later changes renegotiate normally.
    let offersAllowed = opts.initiator;
    pc.onnegotiationneeded = () => {
      // The initiator's first offer (below) is already on its way when this fires for its tracks.
      if (offersAllowed && !this.makingOffer && pc.signalingState === 'stable') void this.negotiate();
    };
    // No offer of our own here: once stable, Chromium fires negotiationneeded again if the answer left
    // something to negotiate (a recvonly transceiver the offer did not cover). Offering regardless
    // cost every call a second offer/answer in the middle of ICE (bench:call).
    this.allowOffers = () => {
      offersAllowed = true;
    };
    // The remote stream is reported once connected: showing it means a render (a video element, a level
    // meter), and one while a description is applied or ICE and DTLS run delayed the answer and the
    // connected event by 10–20 ms (bench:call). No frame can arrive before connected anyway.
    let heldStreams: MediaStream[] | null = [];
    pc.ontrack = ({ streams, track }) => {
      const stream = streams[0] ?? new MediaStream([track]);
      if (heldStreams === null) opts.events.onRemoteStream(stream);
      else if (!heldStreams.includes(stream)) heldStreams.push(stream);
    };
    pc.onconnectionstatechange = () => {
      opts.events.onStateChange(this.state);
      if (pc.connectionState === 'connected') this.reportFingerprints();
      if (pc.connectionState !== 'connected' || heldStreams === null) return;
      const streams = heldStreams;
      heldStreams = null;
      for (const stream of streams) opts.events.onRemoteStream(stream);
    };
    if (prepared) {
      void this.offerPrepared(prepared);
      return;
    }
    this.listenForCandidates();
    // At once, not on negotiationneeded: that task runs only after the render our caller's store
    // updates queued, 10–20 ms later (bench:call).
    if (opts.initiator) void this.negotiate();
  }

  private listenForCandidates(): void {
    const { pc, opts } = this;
    pc.onicecandidate = ({ candidate }) => this.onCandidate(candidate);
    pc.onicecandidateerror = (event) => opts.events.onCandidateError(event as RTCPeerConnectionIceErrorEvent);
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'gathering') opts.events.onGatheringStart();
    };
  }

  private onCandidate(candidate: RTCIceCandidate | null): void {
    if (candidate) this.opts.events.onCandidate(candidate);
    else this.opts.events.onGatheringComplete();
    this.opts.send({ kind: 'candidate', candidate: candidate ? candidate.toJSON() as RTCIceCandidateInit & { candidate: string } : null });
  }

  /** Sends the prepared offer as soon as it is set, then the candidates it gathered meanwhile. */
  private async offerPrepared(prepared: PreparedOffer): Promise<void> {
    this.makingOffer = true;
    try {
      await prepared.ready;
      if (!this.closed) this.opts.send({ kind: 'description', description: this.localDescription() });
    } catch (err) {
      this.opts.events.onError(err as Error, 'creating an offer');
    } finally {
      this.makingOffer = false;
    }
    if (this.closed) return;
    for (const held of prepared.release()) {
      if (held.kind === 'candidate') this.onCandidate(held.candidate);
      else if (held.kind === 'candidate-error') this.opts.events.onCandidateError(held.event);
      else this.opts.events.onGatheringStart();
    }
    this.listenForCandidates();
  }

  /** DTLS has verified the peer's certificate against the remote description's fingerprint by now. */
  private reportFingerprints(): void {
    try {
      const local = sdpFingerprints(this.pc.localDescription?.sdp);
      const remote = sdpFingerprints(this.pc.remoteDescription?.sdp);
      if (local.length > 0 && remote.length > 0) this.opts.events.onFingerprints?.(local, remote);
    } catch (err) {
      this.opts.events.onError(err as Error, 'reading the DTLS fingerprints');
    }
  }

  get state(): LinkState {
    return this.closed ? 'closed' : (this.pc.connectionState as LinkState);
  }

  /** The session id of the peer's current description (its `o=` line), null before one is applied. */
  get remoteSessionId(): string | null {
    return sdpSessionId(this.pc.remoteDescription?.sdp);
  }

  /** An offer from a peer connection other than the one this link negotiated with (the peer reloaded). */
  isFreshOffer(data: SignalData): boolean {
    if (data.kind !== 'description' || data.description.type !== 'offer') return false;
    const known = this.remoteSessionId;
    return known !== null && sdpSessionId(data.description.sdp) !== known;
  }

  private async negotiate(): Promise<void> {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.opts.send({ kind: 'description', description: this.localDescription() });
    } catch (err) {
      this.opts.events.onError(err as Error, 'creating an offer');
    } finally {
      this.makingOffer = false;
    }
  }

  /**
   * The first answer takes DTLS's server role (a=setup:passive), so the offerer sends the first DTLS
   * flight. Chromium's default makes the answerer the client: its ICE checks succeed before the
   * offerer has applied the answer, so its first flight arrives before the offerer can use it and
   * waits for a retransmission — about 35 ms of a direct call's setup (bench:call). The offerer
   * applies the answer before its own checks can succeed, so its flight is never early. Later answers
   * (renegotiation, ICE restart) keep the role the first one set, as DTLS requires.
   */
  private async setLocalAnswer(): Promise<void> {
    if (this.pc.localDescription !== null) return this.pc.setLocalDescription();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription({ type: 'answer', sdp: preferDtlsServer(answer.sdp ?? '') });
  }

  private localDescription(): { type: 'offer' | 'answer' | 'pranswer' | 'rollback'; sdp?: string } {
    const d = this.pc.localDescription!;
    return { type: d.type, sdp: d.sdp };
  }

  /** Applies a description or candidate from the peer (queued behind the ones before it). */
  handle(data: SignalData): Promise<void> {
    const run = async () => {
      try {
        await this.apply(data);
      } finally {
        this.queued -= 1;
      }
    };
    // Nothing queued: start now, so setRemoteDescription is under way before the render our caller's
    // store updates queued as a microtask (bench:call).
    this.incoming = this.queued++ === 0 ? run() : this.incoming.then(run);
    return this.incoming;
  }

  private async addCandidate(candidate: RTCIceCandidateInit | null): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate ?? undefined);
    } catch (err) {
      // Candidates of an offer we ignored are expected to fail.
      if (!this.ignoreOffer) this.opts.events.onError(err as Error, 'adding a remote candidate');
    }
  }

  private async apply(data: SignalData): Promise<void> {
    if (this.closed) return;
    if (data.kind === 'description') {
      const description = data.description as RTCSessionDescriptionInit;
      const readyForOffer = !this.makingOffer && (this.pc.signalingState === 'stable' || this.settingRemoteAnswer);
      const collision = description.type === 'offer' && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      try {
        this.settingRemoteAnswer = description.type === 'answer';
        // The polite side's pending offer is rolled back implicitly by setRemoteDescription.
        await this.pc.setRemoteDescription(description);
        this.settingRemoteAnswer = false;
        for (const candidate of this.earlyCandidates.splice(0)) await this.addCandidate(candidate);
        if (description.type === 'offer') {
          await this.setLocalAnswer();
          this.opts.send({ kind: 'description', description: this.localDescription() });
        }
        this.allowOffers();
      } catch (err) {
        this.settingRemoteAnswer = false;
        this.opts.events.onError(err as Error, `applying a remote ${description.type}`);
      }
    } else if (data.kind === 'candidate') {
      if (this.pc.remoteDescription === null) {
        if (!this.ignoreOffer) this.earlyCandidates.push(data.candidate);
        return;
      }
      await this.addCandidate(data.candidate);
    } else if (data.kind === 'restart') {
      this.restartIce();
    }
  }

  /**
   * Restarts ICE on a new path. Only the impolite side offers the restart, so both sides deciding to
   * restart at once (a shared network change) never collide; the polite side asks it to.
   */
  restartIce(): void {
    if (this.closed) return;
    if (this.polite) this.opts.send({ kind: 'restart' });
    else this.pc.restartIce();
  }

  /** New ICE servers (fresh credentials, or a stricter policy) for the next gathering. */
  setConfiguration(config: RTCConfiguration): void {
    if (this.closed) return;
    // Chromium refuses changing the certificate or bundle policy; only servers and transport policy change.
    this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers: config.iceServers ?? [], iceTransportPolicy: config.iceTransportPolicy ?? 'all' });
  }

  /** Swaps the outgoing track of a kind without renegotiation (device switch, screen share). */
  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    const sender = this.senders.get(kind);
    if (sender && !this.closed) await sender.replaceTrack(track);
  }

  getStats(): Promise<RTCStatsReport> {
    return this.pc.getStats();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
    this.pc.onconnectionstatechange = null;
    this.pc.onicegatheringstatechange = null;
    this.pc.onicecandidateerror = null;
    this.pc.ontrack = null;
    this.pc.close();
    this.opts.events.onStateChange('closed');
  }
}

/**
 * The session id of an SDP (RFC 4566 `o=` line). It stays the same through renegotiations and ICE
 * restarts of one peer connection, and differs for a new one: a peer that reloaded.
 */
/** An answer's DTLS role as the server (passive): every `a=setup:active` line becomes passive. */
export function preferDtlsServer(sdp: string): string {
  return sdp.replace(/^a=setup:active(\r?)$/gm, 'a=setup:passive$1');
}

export function sdpSessionId(sdp: string | undefined | null): string | null {
  const m = sdp ? /^o=\S+ (\S+) /m.exec(sdp) : null;
  return m?.[1] ?? null;
}
