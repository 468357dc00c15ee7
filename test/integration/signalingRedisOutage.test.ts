/**
 * A node whose Redis goes away: joins are refused at once with service-unavailable (4503) instead
 * of hanging, the calls it serves keep relaying, and when Redis comes back (restarted empty) the
 * node registers its members again on its next heartbeat, so the room size still holds.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { freePort } from '../../dev/coturn.js';
import { SignalingHarness, TestSocket } from '../support/signalingHarness.js';
import { clusterRedisConfig, hasRedis, startRedis, type RedisProcess } from '../support/redis.js';

const sockets: TestSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe.skipIf(!hasRedis())('signaling while Redis is away', () => {
  let redis: RedisProcess;
  let h: SignalingHarness;

  beforeAll(async () => {
    redis = await startRedis();
    h = await SignalingHarness.start({ rooms: { maxPeers: 3 }, limits: { joinBurst: 100 }, cluster: { nodeId: 'node-a', heartbeatMs: 200, redis: clusterRedisConfig(redis) } });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.stop();
  });

  async function attempt(room: string, user: 'alice' | 'bob' | 'carol') {
    const joined = await h.join(room, user);
    const socket = await TestSocket.open(joined.signalingUrl);
    sockets.push(socket);
    socket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken });
    return socket;
  }

  it('refuses joins with service-unavailable, keeps relaying, and rebuilds the room when Redis returns empty', async () => {
    const room = 'outage-room';
    const alice = await h.connect(room, 'alice');
    const bob = await h.connect(room, 'bob');
    sockets.push(alice.socket, bob.socket);
    await alice.socket.next('peer-joined');
    // A room token issued before the outage, presented to the socket during it.
    const early = await h.join('other-room', 'carol');

    await redis.stop();
    await expect.poll(() => h.app.hub.sharedState()).toBe('unreachable');
    // Both doors say so at once: the HTTP join (no token is handed out that the socket would refuse)…
    await expect(h.join('other-room', 'carol')).rejects.toThrow(/503.*service-unavailable/);
    // …and the socket, for a token obtained before.
    const refused = await TestSocket.open(early.signalingUrl);
    sockets.push(refused);
    refused.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: early.roomToken });
    expect(await refused.next('error')).toMatchObject({ code: 'service-unavailable', fatal: true });
    expect((await refused.closed).code).toBe(4503);
    // The call in progress is served from this node's own state.
    alice.socket.send({ type: 'signal', to: bob.welcome.self.peerId, data: { kind: 'restart' } });
    expect(await bob.socket.next('signal')).toMatchObject({ from: alice.welcome.self.peerId });

    redis = await startRedis({ port: redis.port, password: redis.password });
    await expect.poll(() => h.app.hub.sharedState(), { timeout: 10_000 }).toBe('ok');
    // Redis came back empty: the node registers its members again, so a newcomer sees them (and
    // they count against the room's size).
    await expect
      .poll(async () => {
        const third = await attempt(room, 'carol');
        const first = await third.nextAny();
        third.close();
        await third.closed;
        return first.type === 'welcome' ? first.peers.map((p) => p.peerId).sort() : first.type;
      }, { timeout: 5_000 })
      .toEqual([alice.welcome.self.peerId, bob.welcome.self.peerId].sort());
  });
});

describe.skipIf(!hasRedis())('two nodes while Redis is away', () => {
  let redis: RedisProcess;
  let a: SignalingHarness;
  let b: SignalingHarness;

  beforeAll(async () => {
    redis = await startRedis();
    const cluster = (nodeId: string) => ({ cluster: { nodeId, heartbeatMs: 200, redis: clusterRedisConfig(redis) } });
    a = await SignalingHarness.start(cluster('node-a'));
    b = await SignalingHarness.start(cluster('node-b'), { idp: a.idp });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  it('refuses a relay to the other node while Redis is away, without ending the session, and relays again once it is back', async () => {
    const alice = await a.connect('split-room', 'alice');
    const joined = await a.join('split-room', 'bob');
    const bobSocket = await TestSocket.open(`${b.baseUrl.replace('http', 'ws')}/v1/signal`);
    sockets.push(alice.socket, bobSocket);
    bobSocket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken });
    const bob = await bobSocket.next('welcome');
    await alice.socket.next('peer-joined');

    await redis.stop();
    await expect.poll(() => a.app.hub.sharedState()).toBe('unreachable');
    alice.socket.send({ type: 'signal', to: bob.self.peerId, data: { kind: 'restart' } });
    expect(await alice.socket.next('error')).toMatchObject({ code: 'service-unavailable', fatal: false });

    redis = await startRedis({ port: redis.port, password: redis.password });
    await expect.poll(() => [a.app.hub.sharedState(), b.app.hub.sharedState()], { timeout: 10_000 }).toEqual(['ok', 'ok']);
    // Both nodes subscribed again by themselves: the relay crosses once more.
    await expect
      .poll(async () => {
        alice.socket.send({ type: 'signal', to: bob.self.peerId, data: { kind: 'restart' } });
        return bobSocket.next('signal', () => true, 500).then(
          (m) => m.from,
          () => null,
        );
      }, { timeout: 10_000 })
      .toBe(alice.welcome.self.peerId);
    expect(bobSocket.pending().filter((m) => m.type === 'peer-left')).toEqual([]);
  });
});

describe.skipIf(!hasRedis())('a node started before its Redis', () => {
  it('is not ready until it has reached Redis, then serves joins without a restart', async () => {
    const port = await freePort();
    const password = 'redis-password-for-a-late-start-0123';
    const h = await SignalingHarness.start(
      { cluster: { nodeId: 'node-late', heartbeatMs: 200, redis: { url: `redis://127.0.0.1:${port}`, password, commandTimeoutMs: 500 } } },
      { untilSharedState: false },
    );
    let redis: RedisProcess | undefined;
    try {
      const before = await fetch(`${h.baseUrl}/readyz`);
      expect(before.status).toBe(503);
      expect(await before.json()).toEqual({ status: 'shared state not reached yet', sharedState: 'connecting' });
      redis = await startRedis({ port, password });
      await expect.poll(async () => (await fetch(`${h.baseUrl}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      const alice = await h.connect('late-room', 'alice');
      sockets.push(alice.socket);
      expect(alice.welcome.peers).toEqual([]);
    } finally {
      await h.close();
      await redis?.stop();
    }
  });
});
