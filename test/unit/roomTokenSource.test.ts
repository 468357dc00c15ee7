import { describe, expect, it } from 'vitest';
import type { DesktopApi } from '../../shared/ipc/desktopApi.js';
import type { JoinResponse } from '../../shared/protocol/index.js';
import { CallEvent, newPeerView, type CallControllerEvents } from '../../renderer/src/call/events.js';
import { JOIN_FRESH_MS, RoomTokenSource } from '../../renderer/src/call/RoomTokenSource.js';
import { ConnectionState } from '../../renderer/src/call/signalTypes.js';
import { TypedEmitter } from '../../renderer/src/call/TypedEmitter.js';
import { bindCall, createAppStore } from '../../renderer/src/store/index.js';

const join = (n: number): JoinResponse => ({
  roomToken: `token-${n}`,
  expiresAt: '2030-01-01T00:00:00Z',
  iceServers: [],
  iceServersExpireAt: '2030-01-01T00:00:00Z',
  signalingUrl: 'wss://calls.example.org/v1/signal',
  roomSizeLimit: 8,
});

function source() {
  let n = 0;
  let t = 0;
  const fetched: string[] = [];
  const tokens = new RoomTokenSource({
    fetch: async (roomId) => {
      fetched.push(roomId);
      return join(++n);
    },
    now: () => t,
  });
  return { tokens, fetched, advance: (ms: number) => (t += ms) };
}

describe('RoomTokenSource', () => {
  it('hands the pre-join join to the first connect synchronously, and fetches afresh for every later one', async () => {
    const { tokens, fetched } = source();
    await tokens.fetch('standup');
    const first = tokens.take('standup');
    expect(first).toEqual(join(1)); // not a promise: the socket opens at once
    expect(await tokens.take('standup')).toEqual(join(2));
    expect(fetched).toEqual(['standup', 'standup']);
  });

  it('never hands out the same room token twice (single-use), even when fetched again as the cache', async () => {
    let calls = 0;
    const same = new RoomTokenSource({ fetch: async () => (calls++, join(7)), now: () => 0 });
    await same.fetch('standup');
    expect(same.take('standup')).toEqual(join(7));
    await same.fetch('standup'); // the server answered with the same token: it is spent
    await expect(Promise.resolve(same.take('standup'))).resolves.toEqual(join(7));
    expect(calls).toBe(3);
  });

  it('judges freshness by elapsed monotonic time, and fetches when the cache is stale or for another room', async () => {
    const { tokens, fetched, advance } = source();
    await tokens.fetch('standup');
    advance(JOIN_FRESH_MS);
    expect(tokens.take('standup')).toBeInstanceOf(Promise);
    await tokens.fetch('standup');
    expect(tokens.take('review')).toBeInstanceOf(Promise);
    expect(fetched).toEqual(['standup', 'standup', 'standup', 'review']);
  });

  it('forgets the cached join when the room is left', async () => {
    const { tokens } = source();
    await tokens.fetch('standup');
    tokens.clear();
    expect(tokens.take('standup')).toBeInstanceOf(Promise);
  });

  it('a failed fetch rejects as the join did, and leaves nothing cached', async () => {
    const failing = new RoomTokenSource({ fetch: async () => Promise.reject(Object.assign(new Error('full'), { code: 'room-full' })) });
    await expect(failing.fetch('standup')).rejects.toMatchObject({ code: 'room-full' });
    await expect(Promise.resolve(failing.take('standup'))).rejects.toMatchObject({ code: 'room-full' });
  });
});

describe('call binder: the call layer events are the only way into the call slice', () => {
  it('maps each event onto the slice, and stops when unbound', () => {
    const store = createAppStore({} as DesktopApi);
    const calls = new TypedEmitter<CallControllerEvents>();
    const unbind = bindCall(store, calls);
    const call = () => store.getState().call;

    calls.emit(CallEvent.Prejoin, { roomId: 'standup', policy: 'relay-tls' });
    expect(call()).toMatchObject({ phase: 'prejoin', roomId: 'standup', policy: 'relay-tls' });
    calls.emit(CallEvent.StartTogglesChanged, { startMuted: true, startCameraOff: false });
    calls.emit(CallEvent.LocalChanged, { level: 0.5 });
    calls.emit(CallEvent.PhaseChanged, { phase: 'connecting', failure: null });
    calls.emit(CallEvent.SignalingChanged, { state: ConnectionState.Connected });
    calls.emit(CallEvent.Joined, { selfId: 'me' });
    calls.emit(CallEvent.PeerUpdated, { ...newPeerView('p1', 'Ann'), away: true });
    calls.emit(CallEvent.PeerUpdated, newPeerView('p2', 'Bob'));
    calls.emit(CallEvent.Notice, { message: 'UDP is blocked' });
    expect(call()).toMatchObject({ startMuted: true, phase: 'connecting', signaling: 'connected', selfId: 'me', order: ['p1', 'p2'], notice: 'UDP is blocked' });
    expect(call().local.level).toBe(0.5);
    expect(call().peers.p1).toMatchObject({ name: 'Ann', away: true });
    calls.emit(CallEvent.PeerRemoved, { peerId: 'p1' });
    expect(call().order).toEqual(['p2']);

    calls.emit(CallEvent.Ended, {});
    expect(call()).toMatchObject({ phase: 'idle', roomId: null, order: [], startMuted: false });
    unbind();
    calls.emit(CallEvent.Prejoin, { roomId: 'other', policy: 'auto' });
    expect(call().phase).toBe('idle');
  });
});
