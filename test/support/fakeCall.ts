import type { DesktopState } from '../../shared/ipc/desktopApi.js';
import type { IceServer, SignalData } from '../../shared/protocol/index.js';
import { ConnectionState, type SignalEvent, type SignalEventPayloads } from '../../renderer/src/call/signalTypes.js';
import { FakeStream } from './fakeMediaStream.js';

/** Just enough of MediaStream for LocalMedia (install it as globalThis.MediaStream). */
export { FakeStream };

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
  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'answer', sdp: `v=0\r\no=- ${this.session} ${this.version++} IN IP4 127.0.0.1\r\na=setup:active\r\n` };
  }
  async setLocalDescription(given?: RTCSessionDescriptionInit) {
    const type = this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
    this.localDescription = given ?? { type, sdp: `v=0\r\no=- ${this.session} ${this.version++} IN IP4 127.0.0.1\r\n` };
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


/** A camera or microphone track: enabled flag, ended on stop. */
export class FakeTrack {
  enabled = true;
  readyState: 'live' | 'ended' = 'live';
  constructor(readonly kind: 'audio' | 'video') {}
  getSettings() {
    return { deviceId: `${this.kind}-1` };
  }
  stop() {
    this.readyState = 'ended';
  }
  addEventListener() {}
}

/** Media devices that open fake tracks; `opened` lists every track handed out. */
export function fakeMediaDevices(): { devices: MediaDevices; opened: FakeTrack[] } {
  const opened: FakeTrack[] = [];
  const devices = {
    getUserMedia: async (c: MediaStreamConstraints) => {
      const tracks = [...(c.audio ? [new FakeTrack('audio')] : []), ...(c.video ? [new FakeTrack('video')] : [])];
      opened.push(...tracks);
      return new FakeStream(tracks);
    },
    enumerateDevices: async () => [],
  } as unknown as MediaDevices;
  return { devices, opened };
}

/**
 * A WebSocket the test plays the server of: `accept()` opens it, `receive()` delivers a server
 * message, `serverClose()` closes it from the far end. Events are delivered synchronously.
 */
export class FakeWebSocket {
  static all: FakeWebSocket[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  /** The code this side closed with, if it did. */
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
  }
  /** Sockets not closed (open or opening). */
  static live(): FakeWebSocket[] {
    return FakeWebSocket.all.filter((ws) => ws.readyState < FakeWebSocket.CLOSING);
  }
  send(data: string) {
    if (this.readyState !== this.OPEN) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000) {
    if (this.readyState >= this.CLOSING) return;
    this.closedWith = code;
    this.readyState = this.CLOSED;
    this.onclose?.({ code });
  }
  accept() {
    this.readyState = this.OPEN;
    this.onopen?.({});
  }
  receive(msg: object) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  serverClose(code: number) {
    if (this.readyState === this.CLOSED) return;
    this.readyState = this.CLOSED;
    this.onclose?.({ code });
  }
}

/** Main's state for a signed-in user on a known server. */
export const fakeDesktopState = (patch: Partial<DesktopState> = {}): DesktopState => ({
  server: { origin: 'https://calls.example.org', config: {} as NonNullable<DesktopState['server']>['config'] },
  user: { sub: 'alice', name: 'Alice', email: null, username: null },
  signingIn: false,
  tokenStorage: 'keystore',
  tokenStorageNote: null,
  knownServers: ['https://calls.example.org'],
  networkPolicy: 'auto',
  restrictiveNetwork: false,
  ...patch,
});
