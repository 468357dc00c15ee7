import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IceServer, PeerInfo, SignalData } from '../../shared/protocol/index.js';
import { CallSession, type MediaSource } from '../../renderer/src/call/CallSession.js';
import { CallEvent, type CallSessionEvents, type PeerView } from '../../renderer/src/call/events.js';
import type { SignalClient } from '../../renderer/src/call/SignalClient.js';
import { ConnectionState, SignalEvent } from '../../renderer/src/call/signalTypes.js';
import { FakePc, FakeSignal } from '../support/fakeCall.js';
import { FakeClock } from '../support/fakeClock.js';

// The call domain on its own: a CallSession with an injected clock, fake peer connections and a fake
// signaling client, observed only through its events. No store, no browser, no root.

const ICE: IceServer[] = [
  { urls: 'stun:turn.example.com:3478' },
  { urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:443?transport=tcp'], username: 'u', credential: 'c' },
];
const ME: PeerInfo = { peerId: 'mmmm-me', name: 'Me' };
// Bob sorts after us: we are the polite side towards him. Ann sorts before: we are impolite towards her.
const BOB: PeerInfo = { peerId: 'zzzz-bob', name: 'Bob' };
const ANN: PeerInfo = { peerId: 'aaaa-ann', name: 'Ann' };
const MEDIA: MediaSource = { stream: {} as MediaStream, tracks: () => [], flags: { audio: true, video: false, screen: false } };
const offerFrom = (session: string): SignalData => ({ kind: 'description', description: { type: 'offer', sdp: `v=0\r\no=- ${session} 1 IN IP4 127.0.0.1\r\n` } });
const welcome = (peers: PeerInfo[], reconnected = false) =>
  ({ room: 'r', self: ME, peers, roomSizeLimit: 8, iceServers: ICE, iceServersExpireAt: '2030-01-01T00:00:00Z', reconnected, previousSelfId: reconnected ? ME.peerId : null });
/** Lets PeerLink's queued negotiation steps (promises) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

let clock: FakeClock;
let signal: FakeSignal;
let session: CallSession;
let events: { [E in keyof CallSessionEvents]?: CallSessionEvents[E][] };
/** The peers as the events describe them (what a store would show). */
let peers: Map<string, PeerView>;

function start(policy: 'auto' | 'relay' | 'relay-tls' = 'auto'): Promise<void> {
  session = new CallSession({
    signal: signal as unknown as SignalClient,
    media: MEDIA,
    RTCPeerConnection: FakePc as unknown as typeof RTCPeerConnection,
    policy,
    rememberNetwork: () => undefined,
    clock,
    createMeter: () => ({ close: () => undefined }),
    statsIntervalMs: 3_600_000,
  });
  for (const name of Object.values(CallEvent)) {
    session.on(name as keyof CallSessionEvents, (payload: unknown) => {
      ((events[name as keyof CallSessionEvents] ??= []) as unknown[]).push(payload);
    });
  }
  session.on(CallEvent.PeerUpdated, (view) => peers.set(view.peerId, view));
  session.on(CallEvent.PeerRemoved, ({ peerId }) => peers.delete(peerId));
  return session.start();
}

const last = <E extends keyof CallSessionEvents>(event: E) => events[event]?.at(-1);
const sentTo = (peerId: string, kind: SignalData['kind']) => signal.sent.filter((m) => m.to === peerId && m.data.kind === kind);

beforeEach(() => {
  clock = new FakeClock(1_000);
  signal = new FakeSignal();
  events = {};
  peers = new Map();
  FakePc.all = [];
});

afterEach(() => {
  session.leave();
  expect(signal.closed).toBe(true);
});

describe('call domain: events out, no app state', () => {
  it('reports connecting, then in-call with our peer id, and a tile for each peer already there', async () => {
    await start();
    expect(events[CallEvent.PhaseChanged]).toEqual([{ phase: 'connecting', failure: null }]);
    signal.emit(SignalEvent.Welcome, welcome([BOB]));
    expect(last(CallEvent.Joined)).toEqual({ selfId: ME.peerId });
    expect(last(CallEvent.PhaseChanged)).toEqual({ phase: 'in-call', failure: null });
    expect(peers.get(BOB.peerId)).toMatchObject({ name: 'Bob', link: 'new', away: false });
    // We are the newcomer: we offer, and tell Bob what we send.
    await settle();
    expect(sentTo(BOB.peerId, 'description')).toHaveLength(1);
    expect(sentTo(BOB.peerId, 'media-state').at(-1)!.data).toEqual({ kind: 'media-state', audio: true, video: false, screen: false });
  });

  it('maps the signaling state and a lost server into events, with words for the user', async () => {
    await start();
    signal.emit(SignalEvent.StateChanged, { state: ConnectionState.Reconnecting, previous: ConnectionState.Connected, error: null });
    expect(last(CallEvent.SignalingChanged)).toEqual({ state: ConnectionState.Reconnecting });
    const error = Object.assign(new Error('the room token was refused'), { code: 'unauthorized' });
    signal.emit(SignalEvent.StateChanged, { state: ConnectionState.Closed, previous: ConnectionState.Reconnecting, error: error as never });
    expect(last(CallEvent.PhaseChanged)).toEqual({ phase: 'failed', failure: 'The connection to the server ended: the room token was refused. Leave and join again.' });
  });
});

describe('call domain: the welcome/offer race', () => {
  beforeEach(async () => {
    await start();
    signal.emit(SignalEvent.Welcome, welcome([]));
  });

  it('a newcomer gets its connection when it joins, so its offer applies at once and is answered on it', async () => {
    signal.emit(SignalEvent.PeerJoined, BOB);
    expect(FakePc.all).toHaveLength(1); // made now; the newcomer offers, we do not
    expect(FakePc.all[0]!.signalingState).toBe('stable');
    signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('900') });
    await settle();
    expect(FakePc.all).toHaveLength(1);
    expect(FakePc.all[0]!.remoteDescription?.sdp).toContain('o=- 900 ');
    expect(sentTo(BOB.peerId, 'description').map((m) => (m.data as { description: { type: string } }).description.type)).toEqual(['answer']);
  });

  it('its first answer takes the DTLS server role; a later answer keeps the role the first one set', async () => {
    signal.emit(SignalEvent.PeerJoined, BOB);
    signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('901') });
    await settle();
    const answers = () => sentTo(BOB.peerId, 'description').map((m) => (m.data as { description: { sdp: string } }).description.sdp);
    expect(answers()[0]).toMatch(/^a=setup:passive\r$/m);
    expect(answers()[0]).not.toMatch(/a=setup:active/);
    // A renegotiation (Bob shares his screen): Chromium's own answer, untouched.
    const pc = FakePc.all[0]!;
    pc.createAnswer = () => Promise.reject(new Error('a later answer is not rewritten'));
    signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('901') });
    await settle();
    expect(answers()).toHaveLength(2);
    expect(answers()[1]).not.toMatch(/a=setup:passive/);
  });

  it('its remote stream is shown once the connection is up, not at the track event', async () => {
    signal.emit(SignalEvent.PeerJoined, BOB);
    const pc = FakePc.all[0]!;
    signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('904') });
    await settle();
    const stream = { id: 'bob-stream' } as unknown as MediaStream;
    (pc.ontrack as unknown as (e: { streams: MediaStream[]; track: unknown }) => void)({ streams: [stream], track: {} });
    expect(peers.get(BOB.peerId)?.stream).toBeNull();
    pc.become('connected');
    expect(peers.get(BOB.peerId)?.stream).toBe(stream);
  });

  it('an offer from a peer signaling has not announced is dropped: no connection to a stranger', async () => {
    signal.emit(SignalEvent.Signal, { from: 'nnnn-nobody', data: offerFrom('901') });
    await settle();
    expect(FakePc.all).toHaveLength(0);
    expect(signal.sent.filter((m) => m.to === 'nnnn-nobody')).toEqual([]);
  });

  it('when both sides offer at once, the impolite side keeps its offer and the polite side answers', async () => {
    // Welcome again after a drop, with Ann and Bob both there: we offer to both.
    signal.emit(SignalEvent.Welcome, welcome([ANN, BOB], true));
    await settle();
    const [toAnn, toBob] = FakePc.all;
    expect(toAnn!.signalingState).toBe('have-local-offer');
    expect(toBob!.signalingState).toBe('have-local-offer');
    // Their offers cross ours (same peer connections: same session ids as their later descriptions).
    signal.emit(SignalEvent.Signal, { from: ANN.peerId, data: offerFrom('902') });
    signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('903') });
    await settle();
    // Towards Ann we are impolite: her offer is ignored, ours stands.
    expect(toAnn!.signalingState).toBe('have-local-offer');
    expect(sentTo(ANN.peerId, 'description').map((m) => (m.data as { description: { type: string } }).description.type)).toEqual(['offer']);
    // Towards Bob we are polite: we roll back and answer his.
    expect(sentTo(BOB.peerId, 'description').at(-1)!.data).toMatchObject({ description: { type: 'answer' } });
  });
});

describe('call domain: the first offer is prepared while the socket opens', () => {
  beforeEach(() => {
    signal.iceServers = ICE; // the pre-join's join is at hand before the welcome
  });

  it('is made before the welcome and goes to the first peer the welcome names', async () => {
    await start();
    expect(FakePc.all).toHaveLength(1);
    await settle();
    expect(FakePc.all[0]!.signalingState).toBe('have-local-offer');
    expect(signal.sent).toEqual([]); // nobody to send it to yet
    signal.emit(SignalEvent.Welcome, welcome([BOB]));
    await settle();
    expect(FakePc.all).toHaveLength(1);
    expect(sentTo(BOB.peerId, 'description').map((m) => m.data)).toEqual([{ kind: 'description', description: { type: 'offer', sdp: FakePc.all[0]!.localDescription!.sdp } }]);
  });

  it('alone in the room, the prepared connection is closed: the others offer to us', async () => {
    await start();
    signal.emit(SignalEvent.Welcome, welcome([]));
    await settle();
    expect(FakePc.all[0]!.connectionState).toBe('closed');
    expect(signal.sent.filter((m) => m.data.kind === 'description')).toEqual([]);
  });

  it('without ICE servers before the welcome (a reconnect fetching a fresh join), nothing is prepared', async () => {
    signal.iceServers = [];
    await start();
    expect(FakePc.all).toHaveLength(0);
  });
});

describe('call domain: timers on an injected clock', () => {
  let pc: FakePc;

  beforeEach(async () => {
    await start();
    signal.emit(SignalEvent.Welcome, welcome([ANN]));
    await settle();
    pc = FakePc.all[0]!;
    pc.become('connected');
  });

  it('ICE is restarted once a disconnected path has not come back for 3 s; a path that recovers is left alone', () => {
    pc.become('disconnected');
    clock.advance(2_999);
    expect(pc.restarts).toBe(0);
    pc.become('connected');
    clock.advance(10_000);
    expect(pc.restarts).toBe(0);

    pc.become('disconnected');
    clock.advance(3_000);
    expect(pc.restarts).toBe(1); // we are impolite towards Ann: we restart ourselves
    expect(peers.get(ANN.peerId)).toMatchObject({ link: 'disconnected' });
  });

  it('a peer away keeps its tile and its connection through the grace period, and is removed after it', () => {
    signal.emit(SignalEvent.PeerLeft, { peerId: ANN.peerId, reason: 'disconnected' });
    expect(peers.get(ANN.peerId)).toMatchObject({ away: true });
    clock.advance(19_999);
    expect(pc.connectionState).toBe('connected');
    expect(peers.has(ANN.peerId)).toBe(true);
    clock.advance(1);
    expect(pc.connectionState).toBe('closed');
    expect(last(CallEvent.PeerRemoved)).toEqual({ peerId: ANN.peerId });
    expect(peers.has(ANN.peerId)).toBe(false);
  });

  it('a peer back within the grace period keeps everything, and the grace timer is gone', () => {
    signal.emit(SignalEvent.PeerLeft, { peerId: ANN.peerId, reason: 'disconnected' });
    clock.advance(10_000);
    signal.emit(SignalEvent.PeerJoined, ANN);
    clock.advance(60_000);
    expect(peers.get(ANN.peerId)).toMatchObject({ away: false, link: 'connected' });
    expect(events[CallEvent.PeerRemoved]).toBeUndefined();
  });

  it('peer-left while a restart is pending: an away peer gets no restart; one that left for good takes its timers along', () => {
    pc.become('disconnected');
    signal.emit(SignalEvent.PeerLeft, { peerId: ANN.peerId, reason: 'disconnected' });
    clock.advance(3_000);
    expect(pc.restarts).toBe(0); // it cannot answer a restart now

    signal.emit(SignalEvent.PeerJoined, ANN);
    pc.become('connected');
    pc.become('disconnected');
    signal.emit(SignalEvent.PeerLeft, { peerId: ANN.peerId, reason: 'left' });
    expect(pc.connectionState).toBe('closed');
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    expect(pc.restarts).toBe(0);
    expect(peers.has(ANN.peerId)).toBe(false);
  });
});

describe('call domain: the fallback to relay over TLS 443', () => {
  it('Auto: a link that never connects falls back to TURN over TLS 443 once, then says what was tried', async () => {
    await start('auto');
    signal.emit(SignalEvent.Welcome, welcome([ANN]));
    await settle();
    const pc = FakePc.all[0]!;
    pc.become('failed');
    // The fallback: relay only, TLS servers only, an ICE restart, and the user is told.
    expect(pc.configs.at(-1)).toMatchObject({ iceTransportPolicy: 'relay', iceServers: [{ urls: ['turns:turn.example.com:443?transport=tcp'] }] });
    expect(pc.restarts).toBe(1);
    expect(last(CallEvent.Notice)).toEqual({ message: 'The direct path failed; trying again through TURN over TLS 443.' });
    expect(last(CallEvent.PhaseChanged)).toEqual({ phase: 'in-call', failure: null });

    // Nothing connects over TLS 443 either within the connect timeout: the call fails, in words.
    clock.advance(15_000);
    expect(last(CallEvent.PhaseChanged)).toMatchObject({ phase: 'failed' });
    expect(last(CallEvent.PhaseChanged)!.failure).toMatch(/^Could not connect to Ann\. /);
    expect(peers.get(ANN.peerId)).toMatchObject({ link: 'failed' });
    expect(pc.restarts).toBe(1);

    // A connection that comes through after all clears the failure.
    pc.become('connected');
    expect(last(CallEvent.PhaseChanged)).toEqual({ phase: 'in-call', failure: null });
  });

  it('relay over TLS 443 from the start has nothing to fall back to: it fails at once, naming the policy', async () => {
    await start('relay-tls');
    signal.emit(SignalEvent.Welcome, welcome([ANN]));
    await settle();
    FakePc.all[0]!.become('failed');
    expect(FakePc.all[0]!.restarts).toBe(0);
    expect(last(CallEvent.PhaseChanged)).toMatchObject({ phase: 'failed' });
  });

  it('with another peer still connected, a failed link is news about that person, not a failed call', async () => {
    await start('relay-tls');
    signal.emit(SignalEvent.Welcome, welcome([ANN, BOB]));
    await settle();
    const [toAnn, toBob] = FakePc.all;
    toBob!.become('connected');
    toAnn!.become('failed');
    expect(last(CallEvent.PhaseChanged)).toEqual({ phase: 'in-call', failure: null });
    expect(last(CallEvent.Notice)!.message).toMatch(/^Could not connect to Ann\. /);
  });
});

describe('call domain: leaving', () => {
  it('closes every connection, removes every tile, stops every timer and closes signaling', async () => {
    await start();
    signal.emit(SignalEvent.Welcome, welcome([ANN, BOB]));
    await settle();
    FakePc.all[0]!.become('disconnected');
    signal.emit(SignalEvent.PeerLeft, { peerId: BOB.peerId, reason: 'disconnected' });
    session.leave();
    expect(FakePc.all.map((pc) => pc.connectionState)).toEqual(['closed', 'closed']);
    expect(peers.size).toBe(0);
    expect(clock.pending).toBe(0);
    // Nothing from signaling reaches a session that has left.
    signal.emit(SignalEvent.PeerJoined, { peerId: 'cccc-carol', name: 'Carol' });
    expect(peers.size).toBe(0);
  });
});
