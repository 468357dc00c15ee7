/**
 * Two signaling nodes sharing one real redis-server: rooms span the nodes, relays cross them in
 * order, the room size holds across them, and a call moves from one node to the other keeping its
 * peer id. A node that dies (SIGKILL of a node in its own process) loses its members after the
 * presence TTL, except those that resumed on the other node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { freePort } from '../../dev/coturn.js';
import { startDevIdp, type DevIdp } from '../../dev/idp.js';
import { startSignalingProcess, type SignalingProcess } from '../../dev/signalingProcess.js';
import { processConfig, SignalingHarness, TestSocket } from '../support/signalingHarness.js';
import { clusterRedisConfig, hasRedis, startRedis, type RedisProcess } from '../support/redis.js';

type User = 'alice' | 'bob' | 'carol';
const sockets: TestSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** Opens a socket on `node` with a room token issued by `issuer` (any node: they share the secret). */
async function enter(issuer: SignalingHarness, node: SignalingHarness | string, room: string, user: User, clientId?: string) {
  const joined = await issuer.join(room, user);
  const url = typeof node === 'string' ? node : `${node.baseUrl.replace('http', 'ws')}/v1/signal`;
  const socket = await TestSocket.open(url);
  sockets.push(socket);
  socket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken, ...(clientId ? { clientId } : {}) });
  return { socket, welcome: await socket.next('welcome') };
}

describe.skipIf(!hasRedis())('signaling on two nodes', () => {
  let redis: RedisProcess;
  let idp: DevIdp;
  let a: SignalingHarness;
  let b: SignalingHarness;
  let rooms = 0;
  const nextRoom = () => `cluster-${++rooms}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    redis = await startRedis();
    idp = await startDevIdp();
    const node = (nodeId: string) => ({ rooms: { maxPeers: 3 }, limits: { joinBurst: 500 }, cluster: { nodeId, redis: clusterRedisConfig(redis) } });
    a = await SignalingHarness.start(node('node-a'), { idp });
    b = await SignalingHarness.start(node('node-b'), { idp });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await idp?.close();
    await redis?.stop();
  });

  it('relays both ways between members on different nodes, in order', async () => {
    const room = nextRoom();
    const alice = await enter(a, a, room, 'alice');
    const bob = await enter(b, b, room, 'bob');
    expect(bob.welcome.peers).toEqual([alice.welcome.self]);
    expect(await alice.socket.next('peer-joined')).toMatchObject({ peer: bob.welcome.self });
    const burst = (from: typeof alice, to: typeof bob) => {
      for (let i = 0; i < 50; i++) {
        from.socket.send({ type: 'signal', to: to.welcome.self.peerId, data: { kind: 'candidate', candidate: { candidate: `candidate:${i} 1 udp 1 10.0.0.1 ${1000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 } } });
      }
    };
    burst(alice, bob);
    burst(bob, alice);
    for (const [receiver, sender] of [[bob, alice], [alice, bob]] as const) {
      for (let i = 0; i < 50; i++) {
        const got = await receiver.socket.next('signal');
        expect(got.from).toBe(sender.welcome.self.peerId);
        expect(got.data).toMatchObject({ candidate: { candidate: expect.stringContaining(`candidate:${i} `) as string } });
      }
    }
  });

  it('tells members on the other node who joined and who left', async () => {
    const room = nextRoom();
    const alice = await enter(a, a, room, 'alice');
    const bob = await enter(b, b, room, 'bob');
    const carol = await enter(a, a, room, 'carol');
    expect(carol.welcome.peers.map((p) => p.peerId).sort()).toEqual([alice.welcome.self.peerId, bob.welcome.self.peerId].sort());
    expect(await bob.socket.next('peer-joined')).toMatchObject({ peer: carol.welcome.self });
    carol.socket.send({ type: 'leave' });
    expect(await bob.socket.next('peer-left')).toEqual({ type: 'peer-left', peerId: carol.welcome.self.peerId, reason: 'left' });
    bob.socket.close();
    expect(await alice.socket.next('peer-left', (m) => m.peerId === bob.welcome.self.peerId)).toMatchObject({ reason: 'disconnected' });
  });

  it('holds the room size across nodes', async () => {
    const room = nextRoom();
    await enter(a, a, room, 'alice');
    await enter(b, b, room, 'bob');
    // Issued while there was room: the nodes' HTTP check passes, the socket's join decides.
    const joined = await a.join(room, 'carol');
    await enter(b, b, room, 'carol', 'call-carol-000000000001');
    const fourth = await TestSocket.open(`${a.baseUrl.replace('http', 'ws')}/v1/signal`);
    sockets.push(fourth);
    fourth.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken, clientId: 'call-carol-000000000002' });
    expect(await fourth.next('error')).toMatchObject({ code: 'room-full', fatal: true });
    expect((await fourth.closed).code).toBe(4410);
  });

  it('moves a call to the other node under its peer id, without a peer-left', async () => {
    const room = nextRoom();
    const clientId = 'call-alice-moves-0000001';
    const alice = await enter(a, a, room, 'alice', clientId);
    const bob = await enter(a, a, room, 'bob');
    await alice.socket.next('peer-joined');
    const moved = await enter(b, b, room, 'alice', clientId);
    expect(moved.welcome.self.peerId).toBe(alice.welcome.self.peerId);
    expect(moved.welcome.peers).toEqual([bob.welcome.self]);
    expect(await alice.socket.next('error')).toMatchObject({ code: 'session-replaced', fatal: true });
    expect((await alice.socket.closed).code).toBe(4412);
    expect(await bob.socket.next('peer-joined')).toMatchObject({ peer: { peerId: alice.welcome.self.peerId } });
    bob.socket.send({ type: 'signal', to: alice.welcome.self.peerId, data: { kind: 'restart' } });
    expect(await moved.socket.next('signal')).toMatchObject({ from: bob.welcome.self.peerId });
    await bob.socket.ping();
    expect(bob.socket.pending().filter((m) => m.type === 'peer-left')).toEqual([]);
  });
});

describe.skipIf(!hasRedis())('a signaling node that dies', () => {
  const HEARTBEAT_MS = 200;
  let redis: RedisProcess;
  let idp: DevIdp;
  let dir: string;
  let child: SignalingProcess;
  let childBase: string;
  let b: SignalingHarness;

  beforeAll(async () => {
    redis = await startRedis();
    idp = await startDevIdp();
    dir = mkdtempSync(join(tmpdir(), 'zr-cluster-'));
    const port = await freePort();
    childBase = `http://127.0.0.1:${port}`;
    const cluster = (nodeId: string) => ({ nodeId, heartbeatMs: HEARTBEAT_MS, redis: clusterRedisConfig(redis) });
    child = await startSignalingProcess({
      config: processConfig(idp, port, { cluster: cluster('node-a') }),
      dir,
      host: '127.0.0.1',
      port,
    });
    // It answers /healthz before it has reached Redis; /readyz says when it serves joins.
    for (const deadline = Date.now() + 10_000; (await fetch(`${childBase}/readyz`)).status !== 200; ) {
      if (Date.now() > deadline) throw new Error('node A did not become ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    b = await SignalingHarness.start({ cluster: cluster('node-b') }, { idp });
  });
  afterAll(async () => {
    await child?.stop();
    await b?.close();
    await idp?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('drops its members after the presence TTL, except a call that resumed on the other node', async () => {
    const room = 'node-dies';
    const childSocket = `${childBase.replace('http', 'ws')}/v1/signal`;
    const clientId = 'call-alice-node-dies-001';
    const alice = await enter(b, childSocket, room, 'alice', clientId);
    const carol = await enter(b, childSocket, room, 'carol');
    const bob = await enter(b, b, room, 'bob');
    expect(bob.welcome.peers).toHaveLength(2);

    process.kill(child.pid, 'SIGKILL');
    expect((await alice.socket.closed).code).toBe(1006);
    // Alice's app reconnects through the balancer, which now sends it to node B.
    const back = await enter(b, b, room, 'alice', clientId);
    expect(back.welcome.self.peerId).toBe(alice.welcome.self.peerId);
    expect(await bob.socket.next('peer-joined')).toMatchObject({ peer: { peerId: alice.welcome.self.peerId } });
    // Carol never came back: gone once node A's presence expired (3 beats), with no word about Alice.
    const left = await bob.socket.next('peer-left', () => true, HEARTBEAT_MS * 10);
    expect(left).toEqual({ type: 'peer-left', peerId: carol.welcome.self.peerId, reason: 'timeout' });
    await bob.socket.ping();
    expect(bob.socket.pending().filter((m) => m.type === 'peer-left')).toEqual([]);
    bob.socket.send({ type: 'signal', to: alice.welcome.self.peerId, data: { kind: 'restart' } });
    expect(await back.socket.next('signal')).toMatchObject({ from: bob.welcome.self.peerId });
    // A third person joins the room with the dead node's members gone from its count.
    const late = await enter(b, b, room, 'carol', 'call-carol-late-0000001');
    expect(late.welcome.peers.map((p) => p.peerId).sort()).toEqual([alice.welcome.self.peerId, bob.welcome.self.peerId].sort());
  });

  it('after a restart under the same node id, a member that did not come back is still reported gone', async () => {
    const room = 'node-restarts';
    const cluster = { nodeId: 'node-c', heartbeatMs: HEARTBEAT_MS, redis: clusterRedisConfig(redis) };
    const c = await SignalingHarness.start({ cluster }, { idp: b.idp });
    const bob = await enter(b, b, room, 'bob');
    const carol = await enter(b, c, room, 'carol');
    await bob.socket.next('peer-joined');
    // A graceful restart: nobody is reported gone while it drains, and the new process has the same id.
    await c.close();
    const again = await SignalingHarness.start({ cluster }, { idp: b.idp });
    try {
      expect(await bob.socket.next('peer-left', () => true, HEARTBEAT_MS * 10)).toEqual({ type: 'peer-left', peerId: carol.welcome.self.peerId, reason: 'timeout' });
    } finally {
      await again.close();
    }
  });
});
