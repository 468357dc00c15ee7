import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DesktopApi } from '../../shared/ipc/desktopApi.js';
import { CLOSE_CODE, PROTOCOL_VERSION, type IceServer, type JoinResponse, type PeerInfo } from '../../shared/protocol/index.js';
import { RoomTokenSource } from '../../renderer/src/call/RoomTokenSource.js';
import { StandbySocket } from '../../renderer/src/call/StandbySocket.js';
import { CallController } from '../../renderer/src/controllers/CallController.js';
import type { DesktopClient } from '../../renderer/src/desktop.js';
import { bindCall, createAppStore, type AppStore } from '../../renderer/src/store/index.js';
import { fakeDesktopState, FakePc, FakeStream, FakeWebSocket, fakeMediaDevices } from '../support/fakeCall.js';
import { FakeClock } from '../support/fakeClock.js';

// The signaling socket opened while the pre-join screen shows (the standby socket), driven through the
// call controller with a fake clock, fake sockets the test answers as the server, and fake peer
// connections: used at Join call, closed when the pre-join goes, renewed before the server's join
// timeout, and the room token untouched until the join.

const URL = 'wss://calls.example.org/v1/signal';
const ALICE: PeerInfo = { peerId: 'peer-alice', name: 'Alice' };
const welcome = (peers: PeerInfo[] = []) => ({ type: 'welcome', v: PROTOCOL_VERSION, room: 'standup', self: { peerId: 'peer-me-0001', name: 'Me' }, peers, roomSizeLimit: 6 });

let clock: FakeClock;
let store: AppStore;
let controller: CallController;
let fetched: string[];

function setUp({ iceServers = [] as IceServer[] } = {}) {
  let n = 0;
  fetched = [];
  const tokens = new RoomTokenSource({
    fetch: async (roomId): Promise<JoinResponse> => {
      fetched.push(roomId);
      n += 1;
      return { roomToken: `token-${n}`, expiresAt: '2030-01-01T00:00:00Z', iceServersExpireAt: '2030-01-01T00:00:00Z', signalingUrl: URL, roomSizeLimit: 6, iceServers };
    },
    now: clock.now,
  });
  store = createAppStore({} as DesktopApi, { roomTokens: tokens });
  store.setState((s) => ({ session: { ...s.session, startup: 'ready', desktop: fakeDesktopState() } }));
  controller = new CallController({
    app: store,
    desktop: { rememberNetwork: async () => fakeDesktopState() } as unknown as DesktopClient,
    tokens,
    media: fakeMediaDevices().devices,
    RTCPeerConnection: FakePc as unknown as typeof RTCPeerConnection,
    WebSocket: FakeWebSocket as unknown as typeof WebSocket,
    fillRandom: (bytes) => bytes.fill(7),
    createMeter: () => ({ close: () => undefined }),
    clock,
  });
  bindCall(store, controller);
}

/** The room slice's HTTP join and the pre-join screen: devices open, the standby socket opening. */
async function prejoin(): Promise<() => void> {
  expect(await store.getState().joinRoom('standup')).toBe(true);
  await controller.prepare('standup');
  return controller.warmUp('standup');
}

const joins = (ws: FakeWebSocket) => ws.sent.filter((m) => m.type === 'join');

/** Join call, and the microtasks of the click's task: whatever goes out without a socket handshake has. */
async function clickJoin(): Promise<{ joined: Promise<void> }> {
  const joined = controller.join();
  await Promise.resolve();
  await Promise.resolve();
  return { joined };
}

/** After prejoin(): its socket open, Join call, and the welcome naming `peers`; `atClick` looks before the welcome. */
async function joinedWith(peers: PeerInfo[], atClick: (ws: FakeWebSocket) => void = () => undefined): Promise<FakeWebSocket> {
  const ws = FakeWebSocket.all[0]!;
  ws.accept();
  const { joined: joining } = await clickJoin();
  atClick(ws);
  ws.receive(welcome(peers));
  await joining;
  await Promise.resolve();
  return ws;
}

beforeEach(() => {
  (globalThis as { MediaStream?: unknown }).MediaStream = FakeStream;
  clock = new FakeClock(0);
  FakeWebSocket.all = [];
  FakePc.all = [];
});

afterEach(() => {
  controller.leave();
  // Whatever a test did, nothing is left open.
  expect(FakeWebSocket.live()).toEqual([]);
  expect(clock.pending).toBe(0);
  delete (globalThis as { MediaStream?: unknown }).MediaStream;
});

describe('the pre-join screen opens the signaling socket ahead', () => {
  it('opens one socket to the join’s URL that carries nothing, and leaves the room token in the token source', async () => {
    setUp();
    await prejoin();
    expect(FakeWebSocket.all.map((ws) => ws.url)).toEqual([URL]);
    const [ws] = FakeWebSocket.all;
    ws!.accept();
    clock.advance(5_000);
    expect(ws!.sent).toEqual([]);
    expect(fetched).toEqual(['standup']);
  });

  it('Join call sends `join` on it at once, with the pre-join’s token, and opens no other socket', async () => {
    setUp();
    await prejoin();
    // In the click's task already: no socket handshake in between.
    await joinedWith([], (ws) => expect(joins(ws)).toEqual([{ type: 'join', v: PROTOCOL_VERSION, roomToken: 'token-1', clientId: expect.any(String) }]));
    expect(FakeWebSocket.all).toHaveLength(1);
    expect(fetched).toEqual(['standup']);
    expect(store.getState().call).toMatchObject({ phase: 'in-call', selfId: 'peer-me-0001', failure: null });
  });

  it('a socket still opening at the click is used too: `join` goes out when it opens', async () => {
    setUp();
    await prejoin();
    const joining = controller.join();
    await Promise.resolve();
    const ws = FakeWebSocket.all[0]!;
    ws.accept();
    expect(joins(ws)).toHaveLength(1);
    ws.receive(welcome());
    await joining;
    expect(FakeWebSocket.all).toHaveLength(1);
  });

  it('leaving the pre-join screen (its cleanup), leaving the room, or the window going away closes it', async () => {
    setUp();
    const stop = await prejoin();
    FakeWebSocket.all[0]!.accept();
    stop();
    expect(FakeWebSocket.all[0]!.closedWith).toBe(1000);

    controller.warmUp('standup');
    controller.leave();
    expect(FakeWebSocket.all[1]!.closedWith).toBe(1000);

    await prejoin();
    controller.pageHidden();
    expect(FakeWebSocket.all[2]!.closedWith).toBe(1000);
    expect(FakeWebSocket.live()).toEqual([]);
  });

  it('is renewed before the server’s join timeout (10 s): a new socket opens, then the old one closes; never more than two', async () => {
    setUp();
    await prejoin();
    FakeWebSocket.all[0]!.accept();
    for (let i = 0; i < 5; i++) {
      clock.advance(6_500);
      expect(FakeWebSocket.live()).toHaveLength(2);
      FakeWebSocket.all.at(-1)!.accept();
      expect(FakeWebSocket.live()).toEqual([FakeWebSocket.all.at(-1)]);
    }
    // Join call after half a minute on the pre-join screen uses the newest socket, never one near its timeout.
    const { joined: joining } = await clickJoin();
    const newest = FakeWebSocket.all.at(-1)!;
    expect(joins(newest)).toHaveLength(1);
    expect(FakeWebSocket.all.slice(0, -1).every((ws) => ws.sent.length === 0)).toBe(true);
    newest.receive(welcome());
    await joining;
  });

  it('a server with a shorter join timeout closes it (4408): opened again at once, renewed in time from then on, no error shown', async () => {
    setUp();
    await prejoin();
    FakeWebSocket.all[0]!.accept();
    clock.advance(3_000);
    FakeWebSocket.all[0]!.receive({ type: 'error', code: 'join-timeout', message: 'no join message in time', fatal: true });
    FakeWebSocket.all[0]!.serverClose(CLOSE_CODE['join-timeout']!);
    expect(FakeWebSocket.live()).toHaveLength(1);
    FakeWebSocket.all[1]!.accept();
    // Renewed within the 3 s the server allows.
    clock.advance(2_000);
    expect(FakeWebSocket.all).toHaveLength(3);
    FakeWebSocket.all[2]!.accept();
    expect(FakeWebSocket.live()).toEqual([FakeWebSocket.all[2]]);
    expect(store.getState().call).toMatchObject({ phase: 'prejoin', failure: null });
  });

  it('timed out by the server because its renewal ran late (a hidden window throttles timers): not opened again', () => {
    setUp();
    let now = 0;
    // Timers that never fire, as in a throttled window: only the server's close comes.
    const standby = new StandbySocket({ WebSocket: FakeWebSocket as unknown as typeof WebSocket, url: URL, now: () => now, setTimeout: () => 0, clearTimeout: () => undefined });
    FakeWebSocket.all[0]!.accept();
    now = 10_000;
    FakeWebSocket.all[0]!.serverClose(CLOSE_CODE['join-timeout']!);
    expect(FakeWebSocket.all).toHaveLength(1);
    expect(standby.take(URL)).toBeNull();
  });

  it('closed under the join (before the welcome): joins again on a new socket with a new token, no error shown', async () => {
    setUp();
    await prejoin();
    const ws = FakeWebSocket.all[0]!;
    ws.accept();
    const { joined: joining } = await clickJoin();
    expect(joins(ws)[0]).toMatchObject({ roomToken: 'token-1' });
    ws.serverClose(CLOSE_CODE['join-timeout']!);
    // Room tokens are single-use: a new one is fetched for the new socket.
    await expect.poll(() => FakeWebSocket.all.length).toBe(2);
    const again = FakeWebSocket.all[1]!;
    again.accept();
    expect(joins(again)[0]).toMatchObject({ roomToken: 'token-2' });
    again.receive(welcome());
    await joining;
    expect(fetched).toEqual(['standup', 'standup']);
    expect(store.getState().call).toMatchObject({ phase: 'in-call', failure: null });
  });

  it('a socket that cannot open is tried again later, and Join call meanwhile opens its own', async () => {
    setUp();
    await prejoin();
    FakeWebSocket.all[0]!.serverClose(1006);
    expect(FakeWebSocket.live()).toEqual([]);
    clock.advance(1_000);
    expect(FakeWebSocket.all).toHaveLength(2);
    FakeWebSocket.all[1]!.serverClose(1006);
    clock.advance(1_000);
    expect(FakeWebSocket.all).toHaveLength(2); // backing off: 2 s now
    const joining = controller.join();
    await expect.poll(() => FakeWebSocket.all.length).toBe(3);
    FakeWebSocket.all[2]!.accept();
    expect(joins(FakeWebSocket.all[2]!)[0]).toMatchObject({ roomToken: 'token-1' });
    FakeWebSocket.all[2]!.receive(welcome());
    await joining;
    clock.advance(60_000);
    expect(FakeWebSocket.all).toHaveLength(3);
  });

  it('without a fresh join at hand (the token is older than JOIN_FRESH_MS) nothing opens ahead', async () => {
    setUp();
    expect(await store.getState().joinRoom('standup')).toBe(true);
    await controller.prepare('standup');
    clock.advance(240_000);
    controller.warmUp('standup');
    expect(FakeWebSocket.all).toEqual([]);
  });
});

describe('the first offer’s peer connection is made on the pre-join screen', () => {
  const ICE: IceServer[] = [{ urls: 'turns:turn.example.com:443?transport=tcp', username: 'u', credential: 'c' }];

  it('with the tracks added and nothing negotiated; Join call offers on it', async () => {
    setUp({ iceServers: ICE });
    await prejoin();
    await expect.poll(() => FakePc.all.length).toBe(1);
    const warm = FakePc.all[0]!;
    expect(warm.localDescription).toBeNull();
    expect(warm.configs[0]).toMatchObject({ iceServers: ICE, iceTransportPolicy: 'all' });
    await joinedWith([ALICE]);
    expect(FakePc.all).toEqual([warm]);
    expect(warm.localDescription).toMatchObject({ type: 'offer' });
  });

  it('made again for a policy chosen on the pre-join screen, and closed when the screen goes', async () => {
    setUp({ iceServers: ICE });
    const stop = await prejoin();
    await expect.poll(() => FakePc.all.length).toBe(1);
    controller.networkRemembered(fakeDesktopState({ restrictiveNetwork: true }));
    expect(FakePc.all.map((pc) => pc.connectionState)).toEqual(['closed', 'new']);
    expect(FakePc.all[1]!.configs[0]).toMatchObject({ iceTransportPolicy: 'relay' });
    stop();
    expect(FakePc.all.map((pc) => pc.connectionState)).toEqual(['closed', 'closed']);
  });
});

describe('the screen waits while a connection is set up', () => {
  it('after Join call, the call shows once the peer is connected, or after the hold at most', async () => {
    setUp();
    await prejoin();
    await joinedWith([ALICE]);
    // Nothing reached the screen during setup: still the pre-join (no render in the middle of it).
    expect(store.getState().call).toMatchObject({ phase: 'prejoin', order: [] });
    clock.advance(199);
    expect(store.getState().call.phase).toBe('prejoin');
    clock.advance(1);
    expect(store.getState().call).toMatchObject({ phase: 'in-call', order: ['peer-alice'] });
  });

  it('alone in the room, the call shows at the welcome; a newcomer’s tile waits for its connection', async () => {
    setUp();
    await prejoin();
    const ws = await joinedWith([]);
    expect(store.getState().call).toMatchObject({ phase: 'in-call', order: [] });
    ws.receive({ type: 'peer-joined', peer: ALICE });
    expect(store.getState().call.order).toEqual([]);
    FakePc.all.at(-1)!.become('connected');
    expect(store.getState().call.order).toEqual(['peer-alice']);
    expect(store.getState().call.peers['peer-alice']).toMatchObject({ name: 'Alice', link: 'connected' });
  });

  it('a connection that fails is shown at once', async () => {
    setUp();
    await prejoin();
    await joinedWith([ALICE]);
    expect(store.getState().call.phase).toBe('prejoin');
    FakePc.all.at(-1)!.become('failed');
    expect(store.getState().call).toMatchObject({ phase: 'failed', order: ['peer-alice'] });
    expect(store.getState().call.failure).toMatch(/Could not connect to Alice/);
  });
});
