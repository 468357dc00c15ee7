import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { ClientConfig, JoinResponse, PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { SignalingHarness, TestSocket, TEST_TURN_SECRET } from '../support/signalingHarness.js';
import { clusterRedisConfig, hasRedis, startRedis, type RedisProcess } from '../support/redis.js';

// The same suite against each shared-state implementation: rooms in memory (one node, the
// default) and rooms in a real redis-server.
type StateKind = 'memory' | 'redis';
const STATES: StateKind[] = hasRedis() ? ['memory', 'redis'] : ['memory'];
let redis: RedisProcess | undefined;
beforeAll(async () => {
  if (hasRedis()) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
let harnesses = 0;
/** A harness on the given state; each gets its own key prefix, so room names never meet. */
function startOn(kind: StateKind, overrides: Parameters<typeof SignalingHarness.start>[0] = {}): Promise<SignalingHarness> {
  if (kind === 'memory') return SignalingHarness.start(overrides);
  return SignalingHarness.start({ ...overrides, cluster: { redis: clusterRedisConfig(redis!, `t${++harnesses}:`) } });
}

const sockets: TestSocket[] = [];
function track<T extends { socket: TestSocket }>(c: T): T {
  sockets.push(c.socket);
  return c;
}
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe.each(STATES)('signaling server (%s state)', (kind) => {
  let h: SignalingHarness;
  let room = 0;
  const nextRoom = () => `room-${++room}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    h = await startOn(kind, {
      allowedOrigins: ['app://zerorange'],
      rooms: { maxPeers: 3, policy: [{ rooms: 'ops-*', allow: { groups: ['ops'] } }] },
      limits: { messagesPerSecond: 20, messageBurst: 40, maxMessageBytes: 16 * 1024, joinBurst: 500 },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('publishes the client configuration without authentication', async () => {
    const res = await fetch(`${h.baseUrl}/v1/client-config`);
    expect(res.status).toBe(200);
    const body = ClientConfig.parse(await res.json());
    expect(body.issuer).toBe(h.idp.issuer);
    expect(body.clientId).toBe(h.idp.clientId);
    expect(body.audience).toBe(h.idp.audience);
    expect(body.signalingUrl).toBe(`${h.baseUrl.replace('http', 'ws')}/v1/signal`);
    expect(body.protocolVersion).toBe(PROTOCOL_VERSION);
  });

  it('joins with a real IdP token and returns a room token, TURN credentials and the signaling URL', async () => {
    const res = await h.joinHttp(nextRoom(), await h.accessToken('alice'));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = JoinResponse.parse(res.body);
    const ttl = (Date.parse(body.expiresAt) - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
    const turn = body.iceServers.find((s) => s.username)!;
    expect(turn.urls).toEqual(
      expect.arrayContaining(['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp', 'turns:127.0.0.1:443?transport=tcp']),
    );
    const [expiry] = turn.username!.split(':');
    expect(Number(expiry) * 1000).toBe(Date.parse(body.iceServersExpireAt));
    const { createHmac } = await import('node:crypto');
    expect(turn.credential).toBe(createHmac('sha1', TEST_TURN_SECRET).update(turn.username!).digest('base64'));
  });

  it('relays offer, answer and candidates between two peers, with from set by the server', async () => {
    const r = nextRoom();
    const alice = track(await h.connect(r, 'alice'));
    expect(alice.welcome.peers).toEqual([]);
    expect(alice.welcome.self.name).toBe('Alice Anders');
    const bob = track(await h.connect(r, 'bob'));
    expect(bob.welcome.peers).toEqual([alice.welcome.self]);
    const joined = await alice.socket.next('peer-joined');
    expect(joined.peer).toEqual(bob.welcome.self);

    const offer = { kind: 'description', description: { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' } } as const;
    bob.socket.send({ type: 'signal', to: alice.welcome.self.peerId, data: offer });
    const got = await alice.socket.next('signal');
    expect(got).toEqual({ type: 'signal', from: bob.welcome.self.peerId, data: offer });

    const answer = { kind: 'description', description: { type: 'answer', sdp: 'v=0\r\n' } } as const;
    alice.socket.send({ type: 'signal', to: bob.welcome.self.peerId, data: answer });
    expect((await bob.socket.next('signal')).data).toEqual(answer);

    const candidate = { kind: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 10.1.2.3 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 } } as const;
    alice.socket.send({ type: 'signal', to: bob.welcome.self.peerId, data: candidate });
    alice.socket.send({ type: 'signal', to: bob.welcome.self.peerId, data: { kind: 'candidate', candidate: null } });
    expect((await bob.socket.next('signal')).data).toEqual(candidate);
    expect((await bob.socket.next('signal')).data).toEqual({ kind: 'candidate', candidate: null });

    bob.socket.send({ type: 'leave' });
    const left = await alice.socket.next('peer-left');
    expect(left).toEqual({ type: 'peer-left', peerId: bob.welcome.self.peerId, reason: 'left' });
    expect((await bob.socket.closed).code).toBe(1000);
  });

  it('keeps the peer id of a call that reconnects, replacing its old socket without a peer-left', async () => {
    const r = nextRoom();
    const clientId = 'call-0123456789abcdef';
    const alice = track(await h.connect(r, 'alice', { clientId }));
    const bob = track(await h.connect(r, 'bob'));
    await alice.socket.next('peer-joined');
    // Alice's network changes: a new socket for the same call while the old one still looks open.
    const again = track(await h.connect(r, 'alice', { clientId }));
    expect(again.welcome.self.peerId).toBe(alice.welcome.self.peerId);
    expect(again.welcome.peers).toEqual([bob.welcome.self]);
    expect(await alice.socket.next('error')).toMatchObject({ code: 'session-replaced', fatal: true });
    expect((await alice.socket.closed).code).toBe(4412);
    expect(await bob.socket.next('peer-joined')).toMatchObject({ peer: { peerId: alice.welcome.self.peerId } });
    // Signals to that id reach the new socket; no peer-left was sent.
    bob.socket.send({ type: 'signal', to: alice.welcome.self.peerId, data: { kind: 'restart' } });
    expect(await again.socket.next('signal')).toMatchObject({ from: bob.welcome.self.peerId });
    await bob.socket.ping();
    expect(bob.socket.pending().filter((m) => m.type === 'peer-left')).toEqual([]);
  });

  it('derives peer ids from the verified user: the same clientId gives another user another id', async () => {
    const r = nextRoom();
    const clientId = 'call-fedcba9876543210';
    const alice = track(await h.connect(r, 'alice', { clientId }));
    const carol = track(await h.connect(r, 'carol', { clientId }));
    expect(carol.welcome.self.peerId).not.toBe(alice.welcome.self.peerId);
    expect(carol.welcome.peers).toEqual([alice.welcome.self]);
    await alice.socket.ping();
  });

  it('keeps rooms apart: a client cannot reach a peer in another room', async () => {
    const alice = track(await h.connect(nextRoom(), 'alice'));
    const carol = track(await h.connect(nextRoom(), 'carol'));
    carol.socket.send({ type: 'signal', to: alice.welcome.self.peerId, data: { kind: 'restart' } });
    const err = await carol.socket.next('error');
    expect(err).toMatchObject({ code: 'unknown-peer', fatal: false });
    await alice.socket.ping();
    expect(alice.socket.pending().filter((m) => m.type === 'signal')).toEqual([]);
  });

  describe('access tokens', () => {
    let key: Awaited<ReturnType<typeof importJWK>>;
    let jwk: JWK;
    beforeAll(async () => {
      jwk = h.idp.signingJwk;
      key = await importJWK(jwk, 'ES256');
    });
    const sign = (claims: Record<string, unknown>, signingKey: Parameters<SignJWT['sign']>[0] = key, kid = jwk.kid) =>
      new SignJWT({ scope: 'signaling', ...claims })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...(kid ? { kid } : {}) })
        .setSubject('7d0f3c1e-6a55-4c1b-9f59-a11ce0000001')
        .setIssuedAt()
        .sign(signingKey);
    const good = () => ({ iss: h.idp.issuer, aud: h.idp.audience, exp: Math.floor(Date.now() / 1000) + 300 });

    it('accepts a correctly signed token (the forging helper itself is sound)', async () => {
      expect((await h.joinHttp(nextRoom(), await sign(good()))).status).toBe(200);
    });

    const refusals: [string, () => Promise<string | undefined>][] = [
      ['missing', async () => undefined],
      ['expired', async () => sign({ ...good(), exp: Math.floor(Date.now() / 1000) - 120 })],
      ['not yet valid', async () => sign({ ...good(), nbf: Math.floor(Date.now() / 1000) + 600 })],
      ['wrong audience', async () => sign({ ...good(), aud: 'urn:someone:else' })],
      ['wrong issuer', async () => sign({ ...good(), iss: 'http://127.0.0.1:1' })],
      ['forged with another key under the same kid', async () => sign(good(), (await generateKeyPair('ES256')).privateKey)],
      ['alg none', async () => {
        const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc({ ...good(), sub: 'x' })}.`;
      }],
      ['HS256 keyed with the public key (algorithm confusion)', async () => {
        const { d: _d, ...pub } = jwk;
        return new SignJWT({ ...good() })
          .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
          .setSubject('x')
          .sign(new TextEncoder().encode(JSON.stringify(pub)));
      }],
      ['garbage', async () => 'not-a-jwt'],
      ['signed by a foreign key under a kid the IdP never published', async () => sign(good(), (await generateKeyPair('ES256')).privateKey, 'foreign-key')],
      ['carrying its own key in an embedded jwk header', async () => {
        const foreign = await generateKeyPair('ES256', { extractable: true });
        return new SignJWT({ scope: 'signaling', ...good() })
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', jwk: await exportJWK(foreign.publicKey) })
          .setSubject('x')
          .setIssuedAt()
          .sign(foreign.privateKey);
      }],
      ['pointing at a key set of its own with jku', async () => {
        const foreign = await generateKeyPair('ES256');
        return new SignJWT({ scope: 'signaling', ...good() })
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker', jku: 'http://127.0.0.1:1/jwks.json' })
          .setSubject('x')
          .setIssuedAt()
          .sign(foreign.privateKey);
      }],
      ['issued in the future', async () => issuedAt(Math.floor(Date.now() / 1000) + 600)],
      ['with an unknown crit header', withCrit],
    ];
    /** A correctly signed token whose iat is the given time (beyond the 30 s tolerance when in the future). */
    function issuedAt(iat: number): Promise<string> {
      return new SignJWT({ scope: 'signaling', ...good(), iat })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid! })
        .setSubject('7d0f3c1e-6a55-4c1b-9f59-a11ce0000001')
        .sign(key);
    }
    /** A signed token with its header swapped for one naming a critical extension nobody implements. */
    async function withCrit(): Promise<string> {
      const [, payload, signature] = (await sign(good())).split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid, crit: ['urn:x-zr'], 'urn:x-zr': 1 })).toString('base64url');
      return `${header}.${payload}.${signature}`;
    }
    it.each(refusals)('refuses a %s token with 401', async (_name, make) => {
      const res = await h.joinHttp(nextRoom(), await make());
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'unauthorized' } });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    it('accepts an iat within the clock tolerance', async () => {
      expect((await h.joinHttp(nextRoom(), await issuedAt(Math.floor(Date.now() / 1000) + 10))).status).toBe(200);
    });

    it('audits a crit header and a future iat as invalid tokens, never as an identity provider outage', async () => {
      const before = h.logs.length;
      expect((await h.joinHttp(nextRoom(), await withCrit())).status).toBe(401);
      expect((await h.joinHttp(nextRoom(), await issuedAt(Math.floor(Date.now() / 1000) + 600))).status).toBe(401);
      const reasons = h.logs
        .slice(before)
        .map((l) => JSON.parse(l) as { event?: string; reason?: string })
        .filter((l) => l.event === 'access-token.rejected')
        .map((l) => l.reason);
      expect(reasons).toEqual(['unsupported-token', 'not-yet-valid']);
      const metrics = await (await fetch(`${h.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/outcome="token-unsupported-token"\} [1-9]/);
      expect(metrics).not.toMatch(/idp-unavailable/);
    });
  });

  it('refuses a replayed room token', async () => {
    const joined = await h.join(nextRoom(), 'alice');
    const first = await TestSocket.open(joined.signalingUrl);
    sockets.push(first);
    first.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken });
    await first.next('welcome');
    const second = await TestSocket.open(joined.signalingUrl);
    second.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken });
    expect(await second.next('error')).toMatchObject({ code: 'token-replayed', fatal: true });
    expect((await second.closed).code).toBe(4409);
  });

  it('refuses a forged room token and an unsupported protocol version', async () => {
    const joined = await h.join(nextRoom(), 'alice');
    const forged = await TestSocket.open(joined.signalingUrl);
    const [hd, pl] = joined.roomToken.split('.');
    forged.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: `${hd}.${pl}.AAAA` });
    expect(await forged.next('error')).toMatchObject({ code: 'unauthorized', fatal: true });
    expect((await forged.closed).code).toBe(4401);

    const old = await TestSocket.open(joined.signalingUrl);
    old.send({ type: 'join', v: 99, roomToken: joined.roomToken });
    expect(await old.next('error')).toMatchObject({ code: 'unsupported-version' });
    expect((await old.closed).code).toBe(4426);
  });

  it('applies room policy: a restricted room admits only its group', async () => {
    const denied = await h.joinHttp('ops-night', await h.accessToken('alice'));
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { code: 'forbidden' } });
    const allowed = await h.joinHttp('ops-night', await h.accessToken('bob'));
    expect(allowed.status).toBe(200);
  });

  it('serves a join page whose button opens the desktop app, and nothing for a bad room', async () => {
    const res = await fetch(`${h.baseUrl}/join/team-standup`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await res.text();
    expect(html).toContain(`href="zerorange://join/team-standup?server=${encodeURIComponent(h.baseUrl)}"`);
    expect(html).toContain('Open in ZeroRange');
    expect(html).not.toMatch(/<script/i);
    const bad = await fetch(`${h.baseUrl}/join/%3Cscript%3E`);
    expect(bad.status).toBe(404);
    expect(await bad.text()).not.toContain('<script>');
  });

  it('refuses an invalid room id with a clear error', async () => {
    const res = await h.joinHttp('Not_A_Room', await h.accessToken('alice'));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid-room' } });
  });

  it('refuses a full room over HTTP and on the socket', async () => {
    const r = nextRoom();
    // Take a fourth room token while there is still space, to race the cap on the socket.
    const late = await h.join(r, 'carol');
    track(await h.connect(r, 'alice'));
    track(await h.connect(r, 'bob'));
    track(await h.connect(r, 'carol'));
    const full = await h.joinHttp(r, await h.accessToken('alice'));
    expect(full.status).toBe(409);
    expect(full.body).toMatchObject({ error: { code: 'room-full' } });
    const s = await TestSocket.open(late.signalingUrl);
    s.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: late.roomToken });
    expect(await s.next('error')).toMatchObject({ code: 'room-full', fatal: true });
    expect((await s.closed).code).toBe(4410);
  });

  it('answers malformed JSON, schema violations, binary and oversized frames with their codes and keeps serving', async () => {
    const a = track(await h.connect(nextRoom(), 'alice'));
    a.socket.sendRaw('{"type":');
    expect(await a.socket.next('error')).toMatchObject({ code: 'bad-request', fatal: false });
    a.socket.send({ type: 'signal', to: 'x' });
    expect(await a.socket.next('error')).toMatchObject({ code: 'invalid-message', fatal: false });
    a.socket.sendRaw(Buffer.from([1, 2, 3]));
    expect(await a.socket.next('error')).toMatchObject({ code: 'bad-request', fatal: false });
    a.socket.sendRaw('x'.repeat(20 * 1024));
    expect(await a.socket.next('error')).toMatchObject({ code: 'message-too-large', fatal: false });
    await a.socket.ping();
    // Far beyond the limit the frame is not even read: the socket closes with 1009.
    a.socket.sendRaw('x'.repeat(16 * 1024 * 5));
    expect((await a.socket.closed).code).toBe(1009);
  });

  it('limits a flooding client and keeps serving the others in time', async () => {
    const r = nextRoom();
    const flooder = track(await h.connect(r, 'alice'));
    const calm = track(await h.connect(r, 'bob'));
    const calmBefore = await calm.socket.ping();
    for (let i = 0; i < 2000; i++) flooder.socket.send({ type: 'ping', id: i });
    expect(await flooder.socket.next('error', (m) => m.code === 'rate-limited')).toMatchObject({ fatal: false });
    const calmDuring = await calm.socket.ping();
    expect(calmDuring).toBeLessThan(Math.max(250, calmBefore * 50));
    // Keeping on after the warning ends the connection.
    const closed = await flooder.socket.closed;
    expect(closed.code).toBe(4429);
    expect(await calm.socket.next('peer-left')).toMatchObject({ peerId: flooder.welcome.self.peerId, reason: 'kicked' });
    await calm.socket.ping();
  });

  it('allows only listed browser origins', async () => {
    const url = `${h.baseUrl.replace('http', 'ws')}/v1/signal`;
    await expect(TestSocket.open(url, { origin: 'https://evil.example' })).rejects.toMatchObject({ status: 403 });
    const ok = await TestSocket.open(url, { origin: 'app://zerorange' });
    ok.close();
  });

  it('closes a socket that never joins', async () => {
    const h2 = await startOn(kind, { limits: { joinTimeoutMs: 200 } });
    try {
      const s = await TestSocket.open(`${h2.baseUrl.replace('http', 'ws')}/v1/signal`);
      expect(await s.next('error')).toMatchObject({ code: 'join-timeout', fatal: true });
      expect((await s.closed).code).toBe(4408);
    } finally {
      await h2.close();
    }
  });

  it('reports joins, relays and rejections in /metrics', async () => {
    const body = await (await fetch(`${h.metricsUrl}/metrics`)).text();
    expect(body).toMatch(/zerorange_joins_total\{stage="http",outcome="allowed"\} [1-9]/);
    expect(body).toMatch(/zerorange_messages_relayed_total [1-9]/);
    expect(body).toMatch(/zerorange_rejections_total\{reason="unknown-peer"\} [1-9]/);
    expect(body).toMatch(/zerorange_relay_latency_seconds_bucket/);
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(200);
  });

  it('writes audit events and never a token or credential to its logs', async () => {
    const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = new Set(lines.filter((l) => l.audit).map((l) => l.event));
    for (const e of ['join.allowed', 'join.denied', 'access-token.rejected', 'room-token.rejected', 'session.joined', 'session.rate-limited']) {
      expect(events).toContain(e);
    }
    const joined = await h.join(nextRoom(), 'carol');
    const secrets = [
      await h.accessToken('alice'),
      await h.accessToken('bob'),
      joined.roomToken,
      ...joined.iceServers.flatMap((s) => (s.credential ? [s.credential] : [])),
      TEST_TURN_SECRET,
    ];
    const all = h.logs.join('\n');
    for (const secret of secrets) expect(all).not.toContain(secret);
    // Token signatures alone must not appear either.
    for (const secret of secrets.filter((s) => s.split('.').length === 3)) expect(all).not.toContain(secret.split('.')[2]);
  });
});

describe.each(STATES)('signaling server lifecycle (%s state)', (kind) => {
  it('removes a peer that stops answering heartbeats and tells its room', async () => {
    const h = await startOn(kind, { limits: { heartbeatIntervalMs: 150 } });
    try {
      // Bob first: Alice may be gone after two silent beats, before a slower join of his would see her.
      const bob = await h.connect('heartbeat-room', 'bob');
      const alice = await h.connect('heartbeat-room', 'alice', { autoPong: false });
      expect(await bob.socket.next('peer-left')).toMatchObject({ peerId: alice.welcome.self.peerId, reason: 'timeout' });
      await bob.socket.ping();
      bob.socket.close();
    } finally {
      await h.close();
    }
  });

  it('pushes fresh TURN credentials before the current ones expire', async () => {
    const h = await startOn(kind, { turn: { ttlSeconds: 600, refreshBeforeSeconds: 599 }, limits: { heartbeatIntervalMs: 100 } });
    try {
      const { socket, joined } = await h.connect('refresh-room', 'alice');
      const pushed = await socket.next('ice-servers', () => true, 5000);
      expect(Date.parse(pushed.expiresAt)).toBeGreaterThan(Date.parse(joined.iceServersExpireAt));
      const fresh = pushed.iceServers.find((s) => s.username)!;
      const old = joined.iceServers.find((s) => s.username)!;
      expect(fresh.username).not.toBe(old.username);
      // Same session id, so coturn's per-user quotas and logs follow the session.
      expect(fresh.username!.split(':')[1]).toBe(old.username!.split(':')[1]);
      socket.close();
    } finally {
      await h.close();
    }
  });

  it('disconnects a slow consumer instead of buffering without bound', async () => {
    const h = await startOn(kind, {
      limits: {
        sendQueueBytes: 256 * 1024,
        messagesPerSecond: 10_000,
        messageBurst: 10_000,
        userMessagesPerSecond: 10_000,
        userMessageBurst: 10_000,
        // The byte budget would stop this flood before the queue fills: lift it to reach the queue limit.
        relayByteBurst: 128 * 1024,
        relayBytesPerSecond: 1e9,
      },
    });
    try {
      const alice = await h.connect('slow-room', 'alice');
      const bob = await h.connect('slow-room', 'bob');
      await alice.socket.next('peer-joined');
      // Bob stops reading his socket.
      (bob.socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const sdp = 'a'.repeat(50_000);
      const left = alice.socket.next('peer-left', () => true, 20_000);
      for (let i = 0; i < 1000; i++) {
        alice.socket.send({ type: 'signal', to: bob.welcome.self.peerId, data: { kind: 'description', description: { type: 'offer', sdp } } });
      }
      expect(await left).toMatchObject({ peerId: bob.welcome.self.peerId, reason: 'kicked' });
      const metrics = await (await fetch(`${h.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/zerorange_rejections_total\{reason="slow-consumer"\} 1/);
      alice.socket.close();
      bob.socket.ws.terminate();
    } finally {
      await h.close();
    }
  });

  it('limits joins per user, and says when to retry', async () => {
    const h = await startOn(kind, { limits: { joinBurst: 2, joinsPerMinute: 1 } });
    try {
      const token = await h.accessToken('alice');
      expect((await h.joinHttp('a-room', token)).status).toBe(200);
      expect((await h.joinHttp('a-room', token)).status).toBe(200);
      const third = await h.joinHttp('a-room', token);
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ error: { code: 'rate-limited' } });
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another user is not affected.
      expect((await h.joinHttp('a-room', await h.accessToken('bob'))).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('limits connections per address', async () => {
    const h = await startOn(kind, { limits: { connectionsPerIp: 2 } });
    const open: TestSocket[] = [];
    try {
      const url = `${h.baseUrl.replace('http', 'ws')}/v1/signal`;
      open.push(await TestSocket.open(url), await TestSocket.open(url));
      await expect(TestSocket.open(url)).rejects.toMatchObject({ status: 429 });
      open[0]!.close();
      await open[0]!.closed;
      // The slot is free again once the server has seen the close.
      await expect.poll(async () => TestSocket.open(url).then((s) => (open.push(s), true), () => false)).toBe(true);
    } finally {
      for (const s of open) s.close();
      await h.close();
    }
  });

  it('shuts down gracefully: clients are told and closed with 1001, readiness goes down', async () => {
    const h = await startOn(kind);
    const alice = await h.connect('shutdown-room', 'alice');
    const closing = h.close();
    expect(await alice.socket.next('error')).toMatchObject({ code: 'server-shutdown', fatal: true });
    expect((await alice.socket.closed).code).toBe(1001);
    await closing;
    await expect(fetch(`${h.baseUrl}/healthz`)).rejects.toThrow();
  });
});

describe('signaling server over TLS', () => {
  it('serves HTTPS and WSS itself when given a certificate and key', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const https = await import('node:https');
    const { ensureDevCa, issueDevCertificate } = await import('../../dev/devCerts.js');
    const work = await mkdtemp(path.join(tmpdir(), 'zr-signal-tls-'));
    try {
      await ensureDevCa(path.join(work, 'ca'));
      const cert = await issueDevCertificate({ caDir: path.join(work, 'ca'), outDir: path.join(work, 'tls'), hosts: ['127.0.0.1'], days: 1 });
      const ca = await readFile(path.join(work, 'ca', 'dev-ca.pem'));
      const h = await SignalingHarness.start({ tls: { certFile: cert.certPath, keyFile: cert.keyPath } });
      try {
        const port = new URL(h.baseUrl).port;
        const body = await new Promise<string>((resolve, reject) => {
          https.get({ host: '127.0.0.1', port, path: '/v1/client-config', ca }, (res) => {
            let data = '';
            res.on('data', (d: Buffer) => (data += d.toString()));
            res.on('end', () => resolve(data));
          }).on('error', reject);
        });
        // The server names its own socket as wss: when it terminates TLS itself.
        expect(ClientConfig.parse(JSON.parse(body)).signalingUrl).toBe(`wss://127.0.0.1:${port}/v1/signal`);
        const { default: WebSocket } = await import('ws');
        const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/signal`, { ca });
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        ws.close();
        // Plain HTTP on the TLS port is refused.
        await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      } finally {
        await h.close();
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
