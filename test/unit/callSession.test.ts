import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DesktopApi } from '../../shared/ipc/desktopApi.js';
import type { IceServer, PeerInfo, SignalData } from '../../shared/protocol/index.js';
import { CallSession } from '../../renderer/src/call/CallSession.js';
import type { LocalMedia } from '../../renderer/src/call/LocalMedia.js';
import type { SignalClient } from '../../renderer/src/call/SignalClient.js';
import { ConnectionState, SignalEvent, type SignalEventPayloads } from '../../renderer/src/call/signalTypes.js';
import { createAppStore, type useAppStore } from '../../renderer/src/store/index.js';

/** Just enough of RTCPeerConnection for negotiation: descriptions carry an `o=` line with this pc's session id. */
class FakePc {
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
  restartIce() {}
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

class FakeSignal {
  state = ConnectionState.Connected;
  iceServers: IceServer[] = [];
  readonly sent: { to: string; data: SignalData }[] = [];
  private readonly listeners = new Map<string, ((p: unknown) => void)[]>();
  on<E extends SignalEvent>(event: E, cb: (p: SignalEventPayloads[E]) => void) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), cb as (p: unknown) => void]);
    return () => undefined;
  }
  emit<E extends SignalEvent>(event: E, payload: SignalEventPayloads[E]) {
    for (const cb of this.listeners.get(event) ?? []) cb(payload);
  }
  async connect() {}
  sendSignal(to: string, data: SignalData) {
    this.sent.push({ to, data });
    return 'sent' as const;
  }
  close() {}
}

const ICE: IceServer[] = [
  { urls: 'stun:turn.example.com:3478' },
  { urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:443?transport=tcp'], username: 'u', credential: 'c' },
];
const ME: PeerInfo = { peerId: 'aaaa-me', name: 'Alice' };
const BOB: PeerInfo = { peerId: 'bbbb-bob', name: 'Bob' };
const offerFrom = (session: string, version = 1): SignalData => ({ kind: 'description', description: { type: 'offer', sdp: `v=0\r\no=- ${session} ${version} IN IP4 127.0.0.1\r\n` } });

let signal: FakeSignal;
let store: ReturnType<typeof createAppStore>;
let session: CallSession;
/** Whether Bob's tile was ever gone since the test began watching. */
let bobTileLost: boolean;

beforeEach(async () => {
  vi.useFakeTimers();
  FakePc.all = [];
  signal = new FakeSignal();
  store = createAppStore({} as DesktopApi);
  session = new CallSession({
    signal: signal as unknown as SignalClient,
    media: { tracks: () => [], stream: {} } as unknown as LocalMedia,
    RTCPeerConnection: FakePc as unknown as typeof RTCPeerConnection,
    store: store as unknown as typeof useAppStore,
    policy: 'auto',
    rememberNetwork: () => undefined,
    statsIntervalMs: 3_600_000,
  });
  await session.start();
  signal.emit(SignalEvent.Welcome, { room: 'r', self: ME, peers: [], roomSizeLimit: 8, iceServers: ICE, iceServersExpireAt: '2030-01-01T00:00:00Z', reconnected: false, previousSelfId: null });
  signal.emit(SignalEvent.PeerJoined, BOB);
  signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('111') });
  await vi.advanceTimersByTimeAsync(0);
  FakePc.all[0]!.become('connected');
  bobTileLost = false;
  store.subscribe((s) => {
    if (!s.call.peers[BOB.peerId]) bobTileLost = true;
  });
});

afterEach(() => {
  session.leave();
  vi.useRealTimers();
});

const notice = () => store.getState().call.notice;

describe('CallSession: a participant who comes back', () => {
  it('a fresh offer (a new peer connection) from a known peer replaces the old connection; the tile stays', async () => {
    const [old] = FakePc.all;
    // Bob reloaded without a goodbye reaching the server: his new session replaced the old one.
    signal.emit(SignalEvent.PeerJoined, BOB);
    expect(old!.connectionState).toBe('connected'); // a signaling-only reconnect keeps a working connection
    signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('222') });
    await vi.advanceTimersByTimeAsync(0);
    expect(old!.connectionState).toBe('closed');
    expect(FakePc.all).toHaveLength(2);
    expect(FakePc.all[1]!.remoteDescription?.sdp).toContain('o=- 222 ');
    // Answered at once on the new connection.
    expect(signal.sent.at(-1)).toMatchObject({ to: BOB.peerId, data: { kind: 'description', description: { type: 'answer' } } });
    expect(bobTileLost).toBe(false);
    expect(store.getState().call.peers[BOB.peerId]).toMatchObject({ name: 'Bob', away: false });
  });

  it('a renegotiation or ICE restart on the same connection keeps it', async () => {
    signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('111', 2) });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakePc.all).toHaveLength(1);
    expect(FakePc.all[0]!.connectionState).toBe('connected');
  });

  it('a peer that went away before answering our offer gets a fresh connection when it joins again', async () => {
    // Dave sorts before us, so we are the impolite side: a colliding offer from him would be ignored.
    const DAVE: PeerInfo = { peerId: 'a000-dave', name: 'Dave' };
    signal.emit(SignalEvent.Welcome, { room: 'r', self: ME, peers: [BOB, DAVE], roomSizeLimit: 8, iceServers: ICE, iceServersExpireAt: '2030-01-01T00:00:00Z', reconnected: true, previousSelfId: ME.peerId });
    await vi.advanceTimersByTimeAsync(0);
    const offered = FakePc.all.at(-1)!;
    expect(offered.signalingState).toBe('have-local-offer');
    // Dave reloads before answering, and comes back offering on a new peer connection.
    signal.emit(SignalEvent.PeerJoined, DAVE);
    signal.emit(SignalEvent.Signal, { from: DAVE.peerId, data: offerFrom('555') });
    await vi.advanceTimersByTimeAsync(0);
    expect(offered.connectionState).toBe('closed');
    expect(FakePc.all.at(-1)!.remoteDescription?.sdp).toContain('o=- 555 ');
    expect(signal.sent.at(-1)).toMatchObject({ to: DAVE.peerId, data: { kind: 'description', description: { type: 'answer' } } });
  });
});

describe('CallSession: failures that say nothing about our network', () => {
  it('a link failing while its peer is away gives no advice and no fallback; the away grace removes it', async () => {
    const [pc] = FakePc.all;
    signal.emit(SignalEvent.PeerLeft, { peerId: BOB.peerId, reason: 'disconnected' });
    expect(store.getState().call.peers[BOB.peerId]?.away).toBe(true);
    pc!.become('failed');
    expect(notice()).toBeNull();
    expect(pc!.configs).toHaveLength(1); // no switch to relay over TLS 443
    await vi.advanceTimersByTimeAsync(20_000);
    expect(store.getState().call.peers[BOB.peerId]).toBeUndefined();
    expect(notice()).toBeNull();
    expect(store.getState().call.phase).toBe('in-call');
  });

  it('a peer kicked by a server shutting down (as older servers announce it) keeps its connection; one that left is gone', async () => {
    signal.emit(SignalEvent.PeerLeft, { peerId: BOB.peerId, reason: 'kicked' });
    expect(FakePc.all[0]!.connectionState).toBe('connected');
    expect(store.getState().call.peers[BOB.peerId]).toMatchObject({ away: true });
    signal.emit(SignalEvent.PeerJoined, BOB);
    expect(store.getState().call.peers[BOB.peerId]).toMatchObject({ away: false });
    signal.emit(SignalEvent.PeerLeft, { peerId: BOB.peerId, reason: 'left' });
    expect(FakePc.all[0]!.connectionState).toBe('closed');
    expect(store.getState().call.peers[BOB.peerId]).toBeUndefined();
  });

  it('no ICE restart is asked of an away peer (it cannot answer); a present one gets it after 3 s', async () => {
    const [pc] = FakePc.all;
    const restarts = () => signal.sent.filter((m) => m.data.kind === 'restart').length;
    signal.emit(SignalEvent.PeerLeft, { peerId: BOB.peerId, reason: 'disconnected' });
    pc!.become('disconnected');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(restarts()).toBe(0);
    signal.emit(SignalEvent.PeerJoined, BOB);
    pc!.become('connected');
    pc!.become('disconnected');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(restarts()).toBe(1);
  });

  it('a link failing while signaling is down waits for the reconnect instead of blaming the network', async () => {
    const [pc] = FakePc.all;
    signal.state = ConnectionState.Reconnecting;
    pc!.become('failed');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(notice()).toBeNull();
    expect(store.getState().call.failure).toBeNull();
    expect(bobTileLost).toBe(false);
  });

  it('with signaling up and the peer present, a connection that worked and failed is restarted, then falls back to TURN over TLS 443 and says so', async () => {
    const [pc] = FakePc.all;
    pc!.become('failed');
    // A relay restarting fails a working connection at once: first an ICE restart on the same policy.
    expect(notice()).toBeNull();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(pc!.configs).toHaveLength(1);
    // Still not connected when the connect timer gives up: the fallback, and the user is told.
    await vi.advanceTimersByTimeAsync(15_000);
    expect(notice()).toMatch(/TURN over TLS 443/);
    expect(pc!.configs.at(-1)).toMatchObject({ iceTransportPolicy: 'relay' });
  });

  it('after a server restart, a peer not back yet keeps its tile (away) even if its link is still connecting', async () => {
    signal.emit(SignalEvent.PeerJoined, { peerId: 'cccc-carol', name: 'Carol' });
    signal.emit(SignalEvent.Signal, { from: 'cccc-carol', data: offerFrom('444') });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakePc.all.at(-1)!.connectionState).toBe('new');
    signal.emit(SignalEvent.Welcome, { room: 'r', self: ME, peers: [], roomSizeLimit: 8, iceServers: ICE, iceServersExpireAt: '2030-01-01T00:00:00Z', reconnected: true, previousSelfId: ME.peerId });
    expect(store.getState().call.peers['cccc-carol']).toMatchObject({ away: true });
    expect(store.getState().call.peers[BOB.peerId]).toMatchObject({ away: true });
    signal.emit(SignalEvent.PeerJoined, BOB);
    expect(store.getState().call.peers[BOB.peerId]).toMatchObject({ away: false });
    expect(FakePc.all[0]!.connectionState).toBe('connected');
  });
});

describe('CallSession: call setup order', () => {
  /** A session of our own, joining a room where Bob already is (the shared one is in a call already). */
  async function newcomer(): Promise<{ mine: CallSession; sig: FakeSignal; st: ReturnType<typeof createAppStore> }> {
    const sig = new FakeSignal();
    sig.iceServers = ICE;
    const st = createAppStore({} as DesktopApi);
    const mine = new CallSession({
      signal: sig as unknown as SignalClient,
      media: { tracks: () => [], stream: {} } as unknown as LocalMedia,
      RTCPeerConnection: FakePc as unknown as typeof RTCPeerConnection,
      store: st as unknown as typeof useAppStore,
      policy: 'auto',
      rememberNetwork: () => undefined,
      statsIntervalMs: 3_600_000,
    });
    FakePc.all = [];
    await mine.start();
    return { mine, sig, st };
  }
  const welcome = (peers: PeerInfo[]) => ({ room: 'r', self: ME, peers, roomSizeLimit: 8, iceServers: ICE, iceServersExpireAt: '2030-01-01T00:00:00Z', reconnected: false, previousSelfId: null });

  it('the first offer is made before the welcome, and goes to the first peer the welcome names', async () => {
    const { mine, sig } = await newcomer();
    expect(FakePc.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakePc.all[0]!.signalingState).toBe('have-local-offer');
    expect(sig.sent).toHaveLength(0); // nobody to send it to yet
    sig.emit(SignalEvent.Welcome, welcome([BOB]));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakePc.all).toHaveLength(1);
    const offers = sig.sent.filter((s) => s.data.kind === 'description');
    expect(offers).toEqual([{ to: BOB.peerId, data: { kind: 'description', description: { type: 'offer', sdp: FakePc.all[0]!.localDescription!.sdp } } }]);
    mine.leave();
  });

  it('alone in the room, the prepared connection is closed: the others offer to us', async () => {
    const { mine, sig } = await newcomer();
    sig.emit(SignalEvent.Welcome, welcome([]));
    await vi.advanceTimersByTimeAsync(0);
    expect(FakePc.all[0]!.connectionState).toBe('closed');
    expect(sig.sent.filter((s) => s.data.kind === 'description')).toHaveLength(0);
    mine.leave();
  });

  it('a newcomer gets its connection when it joins, and its remote stream once connected', async () => {
    const { mine, sig, st } = await newcomer();
    sig.emit(SignalEvent.Welcome, welcome([]));
    sig.emit(SignalEvent.PeerJoined, BOB);
    expect(FakePc.all).toHaveLength(2);
    const pc = FakePc.all[1]!;
    sig.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('777') });
    await vi.advanceTimersByTimeAsync(0);
    expect(FakePc.all).toHaveLength(2);
    expect(pc.remoteDescription?.sdp).toContain('o=- 777 ');
    const stream = { id: 'bob-stream' } as unknown as MediaStream;
    (pc.ontrack as unknown as (e: { streams: MediaStream[]; track: unknown }) => void)({ streams: [stream], track: {} });
    expect(st.getState().call.peers[BOB.peerId]?.stream ?? null).toBeNull();
    pc.become('connected');
    expect(st.getState().call.peers[BOB.peerId]?.stream).toBe(stream);
    mine.leave();
  });
});
