import type { IceServer, SignalData } from '../../shared/protocol/index.js';
import { ConnectionState, type SignalEvent, type SignalEventPayloads } from '../../renderer/src/call/signalTypes.js';

// Stand-ins for the browser's RTCPeerConnection and the signaling client, so the call domain runs in
// Node: negotiation is real (PeerLink's perfect negotiation), the network is whatever a test says.

/** Just enough of RTCPeerConnection for negotiation: descriptions carry an `o=` line with this pc's session id. */
export class FakePc {
  static all: FakePc[] = [];
  static nextSession = 1000;
  readonly session = String(FakePc.nextSession++);
  connectionState: RTCPeerConnectionState = 'new';
  signalingState: RTCSignalingState = 'stable';
  iceGatheringState: RTCIceGatheringState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  configs: RTCConfiguration[];
  version = 1;
  onnegotiationneeded: (() => void) | null = null;
  onicecandidate: ((e: { candidate: null }) => void) | null = null;
  onicecandidateerror: (() => void) | null = null;
  ontrack: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  onicegatheringstatechange: (() => void) | null = null;
  constructor(config: RTCConfiguration) {
    this.configs = [config];
    FakePc.all.push(this);
  }
  addTransceiver() {
    return { sender: { replaceTrack: async () => undefined } };
  }
  addTrack() {
    return { replaceTrack: async () => undefined };
  }
  async setLocalDescription() {
    const type = this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
    this.localDescription = { type, sdp: `v=0\r\no=- ${this.session} ${this.version++} IN IP4 127.0.0.1\r\n` };
    this.signalingState = type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate() {}
  /** ICE restarts this side started (the impolite side's own; the polite side asks with a `restart` message). */
  restarts = 0;
  restartIce() {
    this.restarts += 1;
  }
  getConfiguration() {
    return this.configs.at(-1)!;
  }
  setConfiguration(c: RTCConfiguration) {
    this.configs.push(c);
  }
  async getStats() {
    return new Map();
  }
  close() {
    this.connectionState = 'closed';
  }
  /** The network's verdict on this connection. */
  become(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

export class FakeSignal {
  state = ConnectionState.Connected;
  /** The join's ICE servers, known before the welcome (a newcomer prepares its offer with them). */
  iceServers: IceServer[] = [];
  readonly sent: { to: string; data: SignalData }[] = [];
  private readonly listeners = new Map<string, ((p: unknown) => void)[]>();
  on<E extends SignalEvent>(event: E, cb: (p: SignalEventPayloads[E]) => void) {
    const listener = cb as (p: unknown) => void;
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => void this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
  }
  emit<E extends SignalEvent>(event: E, payload: SignalEventPayloads[E]) {
    for (const cb of this.listeners.get(event) ?? []) cb(payload);
  }
  async connect() {}
  sendSignal(to: string, data: SignalData) {
    this.sent.push({ to, data });
    return 'sent' as const;
  }
  closed = false;
  close() {
    this.closed = true;
  }
}

