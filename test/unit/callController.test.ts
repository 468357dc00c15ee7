import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import type { DesktopApi, DesktopState, PreferencesPatch } from '../../shared/ipc/desktopApi.js';
import type { JoinResponse } from '../../shared/protocol/index.js';
import { RoomTokenSource } from '../../renderer/src/call/RoomTokenSource.js';
import { CallController } from '../../renderer/src/controllers/CallController.js';
import { DesktopError, type DesktopClient } from '../../renderer/src/desktop.js';
import { bindCall, createAppStore, type AppStore } from '../../renderer/src/store/index.js';
import { fakeDesktopState as desktopState, FakePc, FakeStream, fakeMediaDevices } from '../support/fakeCall.js';
import { TestServer } from '../support/signalTestServer.js';

// The controller on its own: what the screens call, with fake media devices and peer connections and
// a stand-in signaling server. Everything it reports reaches the store through the binder only.

let server: TestServer;
let store: AppStore;
let controller: CallController;
let fetched: string[];
let policyCalls: string[];
let preferenceCalls: PreferencesPatch[];

function setUp(desktop: DesktopState) {
  let n = 0;
  fetched = [];
  policyCalls = [];
  preferenceCalls = [];
  const tokens = new RoomTokenSource({
    fetch: async (roomId): Promise<JoinResponse> => {
      fetched.push(roomId);
      n += 1;
      return { roomToken: `token-${n}`, expiresAt: '2030-01-01T00:00:00Z', iceServers: [], iceServersExpireAt: '2030-01-01T00:00:00Z', signalingUrl: server.url, roomSizeLimit: 6 };
    },
  });
  store = createAppStore({} as DesktopApi, { roomTokens: tokens });
  store.setState((s) => ({ session: { ...s.session, startup: 'ready', desktop } }));
  const client = {
    setNetworkPolicy: async (policy: string) => {
      // As main does: a policy the organisation fixed is refused.
      if (desktop.managed?.networkPolicy) throw new DesktopError('forbidden', 'the network policy is set by your organisation');
      policyCalls.push(policy);
      return desktopState({ networkPolicy: policy as DesktopState['networkPolicy'] });
    },
    rememberNetwork: async () => desktop,
    setPreferences: async (patch: PreferencesPatch) => (preferenceCalls.push(patch), desktop),
  } as unknown as DesktopClient;
  controller = new CallController({
    app: store,
    desktop: client,
    tokens,
    media: devices,
    RTCPeerConnection: FakePc as unknown as typeof RTCPeerConnection,
    WebSocket: WsWebSocket as unknown as typeof WebSocket,
    fillRandom: (bytes) => bytes.fill(7),
    createMeter: () => ({ close: () => undefined }),
  });
  bindCall(store, controller);
}

/** What the room slice does before the pre-join screen shows: the HTTP join, into the token source. */
async function joinRoomSlice(roomId: string) {
  expect(await store.getState().joinRoom(roomId)).toBe(true);
}

const { devices, opened } = fakeMediaDevices();

beforeEach(async () => {
  (globalThis as { MediaStream?: unknown }).MediaStream = FakeStream;
  opened.length = 0;
  FakePc.all = [];
  server = await TestServer.start();
});

afterEach(async () => {
  controller.leave();
  await server.stop();
  delete (globalThis as { MediaStream?: unknown }).MediaStream;
});

describe('CallController', () => {
  it('pre-join: opens the devices with the start toggles and the policy a remembered network asks for', async () => {
    setUp(desktopState({ restrictiveNetwork: true }));
    await joinRoomSlice('standup');
    controller.setStartMuted(true);
    await controller.prepare('standup');
    const { call, room } = store.getState();
    expect(room.limits).toEqual({ roomSizeLimit: 6 });
    expect(call).toMatchObject({ phase: 'prejoin', roomId: 'standup', policy: 'relay-tls', startMuted: true });
    expect(call.local.media).toEqual({ audio: false, video: true, screen: false });
    expect(opened.find((t) => t.kind === 'audio')!.enabled).toBe(false);
  });

  it('pre-join: starts as Settings say (muted, camera off) and asks for the kept devices', async () => {
    const preferences = {
      devices: { audioinput: { deviceId: 'mic-usb', label: 'USB headset' }, videoinput: null, audiooutput: null },
      startMuted: true,
      startCameraOff: true,
    };
    setUp(desktopState({ preferences }));
    const asked: MediaStreamConstraints[] = [];
    const getUserMedia = devices.getUserMedia;
    devices.getUserMedia = async (c?: MediaStreamConstraints) => (asked.push(c ?? {}), getUserMedia(c));
    try {
      await joinRoomSlice('standup');
      await controller.prepare('standup');
    } finally {
      devices.getUserMedia = getUserMedia;
    }
    expect(store.getState().call).toMatchObject({ startMuted: true, startCameraOff: true, local: { media: { audio: false, video: false } } });
    // Not listed (before permission ids are hidden): asked for by id, with the default as the fallback.
    expect(asked[0]!.audio).toEqual({ deviceId: { ideal: 'mic-usb' } });
  });

  it('a device picked in the call is kept for the next calls, with its name', async () => {
    setUp(desktopState());
    const enumerate = devices.enumerateDevices;
    devices.enumerateDevices = async () => [{ kind: 'videoinput', deviceId: 'cam-2', label: 'Desk camera', groupId: '' } as MediaDeviceInfo];
    try {
      await joinRoomSlice('standup');
      await controller.prepare('standup');
      await controller.selectDevice('videoinput', 'cam-2');
    } finally {
      devices.enumerateDevices = enumerate;
    }
    expect(preferenceCalls).toEqual([{ devices: { videoinput: { deviceId: 'cam-2', label: 'Desk camera' } } }]);
  });

  it('join: the first connect uses the pre-join join (no second HTTP join); the call shows the room', async () => {
    setUp(desktopState());
    await joinRoomSlice('standup');
    await controller.prepare('standup');
    await controller.join();
    const conn = await server.conn(0);
    await server.until(() => conn.received.length > 0);
    expect(conn.received[0]).toMatchObject({ type: 'join', roomToken: 'token-1' });
    expect(fetched).toEqual(['standup']);
    // The screen waits for the connections being set up (each render would delay them)…
    expect(store.getState().call.phase).toBe('prejoin');
    // …and shows the call once they are connected.
    for (const pc of FakePc.all.filter((p) => p.connectionState === 'new')) pc.become('connected');
    expect(store.getState().call).toMatchObject({ phase: 'in-call', selfId: 'self-0001', order: ['peer-aaaaaaaa', 'peer-bbbbbbbb'] });
  });

  it('a policy the organisation fixed is not changed for this call either', async () => {
    setUp(desktopState({ networkPolicy: 'relay-tls', managed: { server: false, networkPolicy: true, webrtcIpHandling: false } }));
    await joinRoomSlice('standup');
    await controller.prepare('standup');
    await expect(controller.setPolicy('auto')).rejects.toThrow(/set by your organisation/);
    expect(store.getState().call.policy).toBe('relay-tls');
  });

  it('a call in progress keeps its policy; a pre-join takes the new setting', async () => {
    setUp(desktopState());
    await joinRoomSlice('standup');
    await controller.prepare('standup');
    await controller.setPolicy('relay');
    expect(store.getState().call.policy).toBe('relay');
    await controller.join();
    await controller.setPolicy('relay-tls');
    expect(policyCalls).toEqual(['relay', 'relay-tls']);
    expect(store.getState().call.policy).toBe('relay');
  });

  it('leave: devices released, the call slice back to idle, and Try again fetches a fresh join (tokens are single-use)', async () => {
    setUp(desktopState());
    await joinRoomSlice('standup');
    await controller.prepare('standup');
    await controller.join();
    const conn = await server.conn(0);
    controller.leave();
    await conn.closed;
    expect(opened.every((t) => t.readyState === 'ended')).toBe(true);
    expect(store.getState().call).toMatchObject({ phase: 'idle', roomId: null, order: [] });

    await controller.prepare('standup');
    await controller.join();
    const again = await server.conn(1);
    await server.until(() => again.received.length > 0);
    expect(again.received[0]).toMatchObject({ type: 'join', roomToken: 'token-2' });
    expect(fetched).toEqual(['standup', 'standup']);
  });

  it('leaving the room (sign-out, another server) ends the call with it', async () => {
    setUp(desktopState());
    await joinRoomSlice('standup');
    await controller.prepare('standup');
    store.getState().leaveRoom();
    expect(store.getState().call.phase).toBe('idle');
    expect(opened.every((t) => t.readyState === 'ended')).toBe(true);
  });
});
