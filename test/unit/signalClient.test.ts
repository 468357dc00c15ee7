import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { PROTOCOL_VERSION, TERMINAL_CLOSE_CODES, type JoinResponse, type SignalData } from '../../shared/protocol/index.js';
import { ExponentialBackoffPolicy, type ReconnectContext, type ReconnectPolicy } from '../../renderer/src/call/ReconnectPolicy.js';
import {
  ConnectionState,
  SignalClient,
  SignalError,
  SignalEvent,
  type SignalEventPayloads,
} from '../../renderer/src/call/SignalClient.js';
import { FakeClock } from '../support/fakeClock.js';
import { A, B, TestServer, type Conn } from '../support/signalTestServer.js';

const offer: SignalData = { kind: 'description', description: { type: 'offer', sdp: 'v=0' } };
const candidate = (n: number): SignalData => ({ kind: 'candidate', candidate: { candidate: `candidate:${n}`, sdpMid: '0' } });

/** Wraps a policy and lets the test wait until it has been asked (the client sleeps right after). */
class RecordingPolicy implements ReconnectPolicy {
  readonly calls: ReconnectContext[] = [];
  private readonly changes = new EventEmitter();
  constructor(private readonly inner: ReconnectPolicy) {}
  nextDelayMs(ctx: ReconnectContext): number | null {
    this.calls.push(ctx);
    this.changes.emit('call');
    return this.inner.nextDelayMs(ctx);
  }
  asked(times: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.calls.length < times) return;
        this.changes.off('call', check);
        resolve();
      };
      this.changes.on('call', check);
      check();
    });
  }
}

function next<E extends SignalEvent>(
  client: SignalClient,
  event: E,
  match: (p: SignalEventPayloads[E]) => boolean = () => true,
): Promise<SignalEventPayloads[E]> {
  return new Promise((resolve) => {
    const off = client.on(event, (p) => {
      if (!match(p)) return;
      off();
      resolve(p);
    });
  });
}

const toState = (client: SignalClient, state: ConnectionState) => next(client, SignalEvent.StateChanged, (p) => p.state === state);

let server: TestServer;
let clock: FakeClock;
let clients: SignalClient[];

beforeEach(async () => {
  server = await TestServer.start();
  clock = new FakeClock();
  clients = [];
});

afterEach(async () => {
  for (const c of clients) c.close();
  await server.stop();
});

function makeClient(policy: ReconnectPolicy = new RecordingPolicy({ nextDelayMs: () => 100 }), maxQueuedMessages?: number, clientId?: string) {
  let n = 0;
  const getJoin = vi.fn(async (): Promise<JoinResponse> => ({
    roomToken: `token-${++n}`,
    expiresAt: '2030-01-01T00:00:00Z',
    iceServers: [{ urls: `turns:turn.example.com:443?transport=tcp`, username: `u${n}`, credential: 'c' }],
    iceServersExpireAt: '2030-01-01T00:00:00Z',
    signalingUrl: server.url,
    roomSizeLimit: 4,
  }));
  const client = new SignalClient({
    WebSocket: WsWebSocket as unknown as typeof WebSocket,
    getJoin,
    policy,
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    ...(maxQueuedMessages !== undefined && { maxQueuedMessages }),
    ...(clientId !== undefined && { clientId }),
  });
  clients.push(client);
  const states: ConnectionState[] = [];
  client.on(SignalEvent.StateChanged, (p) => states.push(p.state));
  const errors: SignalError[] = [];
  client.on(SignalEvent.Error, (e) => errors.push(e));
  return { client, getJoin, states, errors };
}

const signalsTo = (conn: Conn) => conn.received.filter((m) => m.type === 'signal');

describe('SignalClient', () => {
  it('sends the room token as the first message and resolves on welcome', async () => {
    const { client, states } = makeClient();
    const welcome = next(client, SignalEvent.Welcome);
    await client.connect();
    const conn = await server.conn(0);
    expect(conn.received[0]).toEqual({ type: 'join', v: PROTOCOL_VERSION, roomToken: 'token-1' });
    expect(await welcome).toMatchObject({ self: { peerId: 'self-0001' }, peers: [A, B], reconnected: false, previousSelfId: null });
    expect(states).toEqual([ConnectionState.Connecting, ConnectionState.Connected]);
    expect(client.iceServers[0]!.username).toBe('u1');

    const echoed = next(client, SignalEvent.Signal);
    expect(client.sendSignal(A.peerId, offer)).toBe('sent');
    expect(await echoed).toEqual({ from: A.peerId, data: offer });
  });

  it('names its call in every join, so the server keeps its peer id across reconnects', async () => {
    const policy = new RecordingPolicy({ nextDelayMs: () => 100 });
    const { client } = makeClient(policy, undefined, 'call-abcdefghijklmnop');
    await client.connect();
    const first = await server.conn(0);
    expect(first.received[0]).toEqual({ type: 'join', v: PROTOCOL_VERSION, roomToken: 'token-1', clientId: 'call-abcdefghijklmnop' });
    first.ws.terminate();
    await policy.asked(1);
    const welcome = next(client, SignalEvent.Welcome);
    clock.advance(100);
    await welcome;
    expect((await server.conn(1)).received[0]).toMatchObject({ roomToken: 'token-2', clientId: 'call-abcdefghijklmnop' });
  });

  it('queues while reconnecting, rejoins with a fresh token, and flushes only to peers still present', async () => {
    const policy = new RecordingPolicy({ nextDelayMs: () => 100 });
    const { client, getJoin } = makeClient(policy);
    await client.connect();
    const first = await server.conn(0);

    first.ws.terminate();
    await policy.asked(1);
    expect(client.state).toBe(ConnectionState.Reconnecting);
    expect(policy.calls[0]).toMatchObject({ attempt: 0, lastCloseCode: 1006 });
    expect(client.sendSignal(A.peerId, offer)).toBe('queued');
    expect(client.sendSignal(B.peerId, candidate(1))).toBe('queued');
    expect(client.sendSignal(A.peerId, candidate(2))).toBe('queued');

    server.peers = [A, { peerId: 'self-0001', name: 'Me' }]; // Bob left; our old session lingers
    const welcome = next(client, SignalEvent.Welcome);
    clock.advance(100);
    expect(await welcome).toMatchObject({ reconnected: true, previousSelfId: 'self-0001', peers: [A] });
    expect(getJoin).toHaveBeenCalledTimes(2);

    const second = await server.conn(1);
    expect(second.received[0]).toEqual({ type: 'join', v: PROTOCOL_VERSION, roomToken: 'token-2' });
    // A message sent after the welcome marks the end of the flush.
    client.sendSignal(A.peerId, { kind: 'restart' });
    const signals = await server.until(() => signalsTo(second).length === 3 && signalsTo(second));
    expect(signals.map((m) => m.type === 'signal' && [m.to, m.data.kind])).toEqual([
      [A.peerId, 'description'],
      [A.peerId, 'candidate'],
      [A.peerId, 'restart'],
    ]);
  });

  it('tries again with a fresh token after a replayed-token refusal', async () => {
    const policy = new RecordingPolicy(new ExponentialBackoffPolicy({ random: () => 0.5 }));
    const { client, getJoin } = makeClient(policy);
    await client.connect();
    server.rejectJoins = { code: 'token-replayed', closeCode: 4409, times: 1 };
    (await server.conn(0)).ws.terminate();

    await policy.asked(1);
    clock.advance(125);
    await policy.asked(2);
    expect(policy.calls[1]).toMatchObject({ attempt: 1, lastCloseCode: 4409 });
    const welcome = next(client, SignalEvent.Welcome);
    clock.advance(250);
    expect((await welcome).reconnected).toBe(true);
    expect(getJoin.mock.results.length).toBe(3);
    const tokens = await Promise.all(getJoin.mock.results.map((r) => r.value as Promise<JoinResponse>));
    expect(new Set(tokens.map((t) => t.roomToken)).size).toBe(3);
  });

  it('measures RTT and reconnects when no pong comes in time', async () => {
    const policy = new RecordingPolicy({ nextDelayMs: () => 100 });
    const { client } = makeClient(policy);
    await client.connect();
    const first = await server.conn(0);
    server.answerPings = false;

    clock.advance(5_000);
    await server.until(() => first.heldPings.length === 1);
    clock.advance(37);
    server.releasePongs(first);
    const echoed = next(client, SignalEvent.Signal);
    client.sendSignal(A.peerId, candidate(1)); // ordered after the pong on the same socket
    await echoed;
    expect(client.rttMs).toBe(37);

    clock.advance(5_000 - 37);
    await server.until(() => first.heldPings.length === 1);
    clock.advance(3_999);
    expect(client.state).toBe(ConnectionState.Connected);
    clock.advance(1);
    expect(client.state).toBe(ConnectionState.Reconnecting);
    await first.closed; // the dead socket is closed, not left open

    server.answerPings = true;
    const welcome = next(client, SignalEvent.Welcome);
    clock.advance(100);
    expect((await welcome).reconnected).toBe(true);
  });

  it('treats a server restart (server-shutdown, 1001) as a drop: reconnects with a fresh token and the same call name', async () => {
    const policy = new RecordingPolicy(new ExponentialBackoffPolicy({ random: () => 0.5 }));
    const { client, getJoin } = makeClient(policy, undefined, 'call-abcdefghijklmnop');
    await client.connect();
    const reconnecting = toState(client, ConnectionState.Reconnecting);
    server.kick(await server.conn(0), 'server-shutdown', 1001);
    const { error } = await reconnecting;
    expect(error).toMatchObject({ code: 'server-shutdown', closeCode: 1001 });
    expect(policy.calls[0]).toMatchObject({ attempt: 0, lastCloseCode: 1001, outageCloseCode: 1001 });
    const welcome = next(client, SignalEvent.Welcome);
    clock.advance(125); // full jitter: half of the 250 ms first ceiling
    expect(await welcome).toMatchObject({ reconnected: true });
    expect(getJoin).toHaveBeenCalledTimes(2);
    expect((await server.conn(1)).received[0]).toMatchObject({ roomToken: 'token-2', clientId: 'call-abcdefghijklmnop' });
    expect(client.state).toBe(ConnectionState.Connected);
  });

  it('ends Closed with the code on a terminal close, without retrying', async () => {
    const policy = new RecordingPolicy(new ExponentialBackoffPolicy());
    const { client, getJoin, states } = makeClient(policy);
    await client.connect();
    const closed = toState(client, ConnectionState.Closed);
    server.kick(await server.conn(0), 'forbidden', 4403);
    const { error } = await closed;
    expect(error).toBeInstanceOf(SignalError);
    expect(error).toMatchObject({ code: 'forbidden', closeCode: 4403 });
    expect(TERMINAL_CLOSE_CODES).toContain(4403);
    expect(states).toEqual([ConnectionState.Connecting, ConnectionState.Connected, ConnectionState.Closed]);
    expect(getJoin).toHaveBeenCalledTimes(1);
    expect(clock.pending).toBe(0);
  });

  it('rejects connect() with the fatal error or a timeout before welcome', async () => {
    server.rejectJoins = { code: 'room-full', closeCode: 4410, times: 1 };
    const { client, states } = makeClient();
    await expect(client.connect()).rejects.toMatchObject({ name: 'SignalError', code: 'room-full', closeCode: 4410 });
    expect(states).toEqual([ConnectionState.Connecting, ConnectionState.Disconnected]);

    server.silent = true;
    const pending = client.connect();
    await server.until(() => server.conns[1]?.received.length === 1);
    clock.advance(10_000);
    await expect(pending).rejects.toMatchObject({ code: 'timeout' });
  });

  it('close() sends leave, stops every timer and is idempotent', async () => {
    const { client, states } = makeClient();
    await client.connect();
    const conn = await server.conn(0);
    client.close();
    client.close();
    expect(states.filter((s) => s === ConnectionState.Closed)).toHaveLength(1);
    expect(clock.pending).toBe(0);
    expect(await server.until(() => conn.received.find((m) => m.type === 'leave'))).toEqual({ type: 'leave' });
    expect(client.sendSignal(A.peerId, offer)).toBe('dropped');
  });

  it('sendLeave() lets the server close the socket and ends Closed without retrying', async () => {
    const { client, getJoin } = makeClient();
    await client.connect();
    const conn = await server.conn(0);
    const closed = toState(client, ConnectionState.Closed);
    client.sendLeave();
    expect((await closed).error).toBeNull();
    expect(conn.received.at(-1)).toEqual({ type: 'leave' });
    expect(getJoin).toHaveBeenCalledTimes(1);
    expect(clock.pending).toBe(0);
  });

  it('close() while reconnecting stops the retries', async () => {
    const policy = new RecordingPolicy({ nextDelayMs: () => 100 });
    const { client, getJoin } = makeClient(policy);
    await client.connect();
    (await server.conn(0)).ws.terminate();
    await policy.asked(1);
    client.close();
    expect(client.state).toBe(ConnectionState.Closed);
    expect(clock.pending).toBe(0);
    expect(getJoin).toHaveBeenCalledTimes(1);
  });

  it('reports invalid frames as errors and keeps the session', async () => {
    const { client, errors } = makeClient();
    await client.connect();
    const conn = await server.conn(0);
    server.send(conn, 'not json');
    server.send(conn, JSON.stringify({ type: 'bogus' }));
    const echoed = next(client, SignalEvent.Signal);
    client.sendSignal(B.peerId, offer);
    await echoed;
    expect(errors.map((e) => e.code)).toEqual(['bad-request', 'invalid-message']);
    expect(client.state).toBe(ConnectionState.Connected);
  });

  it('drops queued candidates first on overflow and says so', async () => {
    const policy = new RecordingPolicy({ nextDelayMs: () => 100 });
    const { client, errors } = makeClient(policy, 3);
    await client.connect();
    (await server.conn(0)).ws.terminate();
    await policy.asked(1);
    client.sendSignal(A.peerId, offer);
    client.sendSignal(A.peerId, candidate(1));
    client.sendSignal(A.peerId, candidate(2));
    client.sendSignal(B.peerId, offer);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'queue-overflow', peerId: A.peerId, droppedKind: 'candidate' });

    const welcome = next(client, SignalEvent.Welcome);
    clock.advance(100);
    await welcome;
    const second = await server.conn(1);
    const signals = await server.until(() => signalsTo(second).length === 3 && signalsTo(second));
    expect(signals.map((m) => m.type === 'signal' && [m.to, m.data])).toEqual([
      [A.peerId, offer],
      [A.peerId, candidate(2)],
      [B.peerId, offer],
    ]);
  });
});
