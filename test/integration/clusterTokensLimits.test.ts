/**
 * Two signaling nodes sharing a real redis-server (on loopback, stopped by PID): a room token is
 * single-use across nodes, limits hold across nodes, and while Redis is away joins are refused with
 * `service-unavailable` (limits fall back to each node's memory) until Redis is back.
 */
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, redisReady } from '../../server/src/cluster/redis.js';
import type { ServerConfigInput } from '../../server/src/config.js';
import { clusterRedisConfig, hasRedis, startRedis, type RedisProcess } from '../support/redis.js';
import { TEST_ROOM_SECRET } from '../support/signalingHarness.js';
import { SignalingNodes, type User } from '../support/signalingNodes.js';

describe.skipIf(!hasRedis())('room tokens and limits across two nodes on Redis', () => {
  let redis: RedisProcess;
  let cluster: SignalingNodes | undefined;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** Two nodes with one configuration; a key prefix of their own keeps each test's state apart. */
  async function twoNodes(limits: Partial<ServerConfigInput['limits']> = {}): Promise<SignalingNodes> {
    const config: Partial<ServerConfigInput> = {
      roomToken: { secret: TEST_ROOM_SECRET },
      cluster: { redis: clusterRedisConfig(redis, `zrt${randomBytes(3).toString('hex')}:`) },
      limits: { joinBurst: 100, ...limits },
    };
    cluster = await SignalingNodes.start([config, config]);
    return cluster;
  }

  async function networkCheck(c: SignalingNodes, i: number, user: User): Promise<number> {
    const res = await fetch(`${c.node(i).baseUrl}/v1/ice-servers`, { method: 'POST', headers: { authorization: `Bearer ${await c.accessToken(user)}` } });
    await res.body?.cancel();
    return res.status;
  }

  it('refuses on node B a room token already used on node A', async () => {
    const c = await twoNodes();
    const joined = await c.join(0, 'replay-across', 'alice');
    const first = await c.socketJoin(0, joined.roomToken);
    expect(first.welcome).toBeDefined();
    const again = await c.socketJoin(1, joined.roomToken);
    expect(again.error).toMatchObject({ code: 'token-replayed' });
    expect(again.closeCode).toBe(4409);
    first.socket.close();
    // One key per used token, under the configured prefix, forgotten when the token expires.
    const { jti, exp } = decodeJwt(joined.roomToken);
    const client = openRedis(c.node(0).app.config.cluster.redis!, pino({ level: 'silent' }), 'test');
    try {
      await redisReady(client, 5_000);
      const ttl = await client.ttl(`${c.node(0).app.config.cluster.redis!.keyPrefix}room-token:${jti}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(exp! - Math.floor(Date.now() / 1000) + 1);
    } finally {
      client.disconnect();
    }
    // A fresh token works on node B.
    const fresh = await c.socketJoin(1, (await c.join(0, 'replay-across', 'alice')).roomToken);
    expect(fresh.welcome).toBeDefined();
    fresh.socket.close();
  });

  it('holds the per-user and per-address join limits and the network-check limit across nodes', async () => {
    const c = await twoNodes({ joinBurst: 4, joinsPerMinute: 1, ipJoinBurst: 6, ipJoinsPerMinute: 1, networkCheckBurst: 2, networkChecksPerMinute: 1 });
    // Alice's four joins, alternating between the nodes: a per-node limit would allow eight.
    for (let n = 0; n < 4; n++) expect((await c.joinHttp(n % 2, 'limits', 'alice')).status).toBe(200);
    for (const i of [0, 1]) {
      const refused = await c.joinHttp(i, 'limits', 'alice');
      expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate-limited' } } });
    }
    // The refused joins took the address's last two units too: Bob is refused by the per-address limit.
    expect((await c.joinHttp(1, 'limits', 'bob')).status).toBe(429);
    expect(c.node(0).logs.concat(c.node(1).logs).some((l) => l.includes('"reason":"rate-limited"') && l.includes('"limit":"ip"'))).toBe(true);

    expect(await networkCheck(c, 0, 'carol')).toBe(200);
    expect(await networkCheck(c, 1, 'carol')).toBe(200);
    expect(await networkCheck(c, 0, 'carol')).toBe(429);
    expect(await networkCheck(c, 1, 'carol')).toBe(429);
  });

  it('refuses joins with service-unavailable while Redis is down, limits each node on its own meanwhile, and recovers by itself', async () => {
    const c = await twoNodes({ networkCheckBurst: 2, networkChecksPerMinute: 1 });
    const before = await c.join(0, 'outage', 'alice');
    await redis.stop();
    try {
      // The room token was issued; its single use cannot be vouched for: refused, not used up.
      const refused = await c.socketJoin(1, before.roomToken);
      expect(refused.error).toMatchObject({ code: 'service-unavailable' });
      expect(refused.closeCode).toBe(4503);

      // Once the node has seen the connection drop, a new join is refused at once, not given a token
      // the socket would refuse.
      await expect.poll(async () => (await c.joinHttp(0, 'outage', 'bob')).status).toBe(503);
      expect(await c.joinHttp(0, 'outage', 'bob')).toMatchObject({ status: 503, body: { error: { code: 'service-unavailable' } } });

      // The network check needs no shared state: its limit falls back to each node's memory, so
      // Bob gets the burst on node 0, and again on node 1.
      for (const i of [0, 1]) {
        for (let n = 0; n < 2; n++) expect(await networkCheck(c, i, 'bob')).toBe(200);
        expect(await networkCheck(c, i, 'bob')).toBe(429);
      }
    } finally {
      redis = await startRedis({ port: redis.port, password: redis.password });
    }
    // Back without a restart of either node; the refused token was not used up.
    await expect
      .poll(
        async () => {
          const attempt = await c.socketJoin(1, before.roomToken);
          attempt.socket.close();
          return attempt.welcome ? 'welcome' : attempt.error;
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe('welcome');
    const again = await c.socketJoin(0, before.roomToken);
    expect(again.error).toMatchObject({ code: 'token-replayed' });
    again.socket.close();
    expect((await c.joinHttp(0, 'outage', 'bob')).status).toBe(200);
  });

  it('refuses a join instead of holding it while Redis is hung (stopped, connection still open)', async () => {
    const c = await twoNodes();
    const joined = await c.join(0, 'hung', 'alice');
    process.kill(redis.pid, 'SIGSTOP');
    try {
      // The claim gets no answer: it fails after cluster.redis.commandTimeoutMs, and the join with it.
      const refused = await c.socketJoin(1, joined.roomToken);
      expect(refused.error).toMatchObject({ code: 'service-unavailable' });
      expect(refused.closeCode).toBe(4503);
      // The limits do not wait either: they answer from the node's memory after the same timeout.
      expect((await c.joinHttp(1, 'hung', 'bob')).status).toBe(200);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    // Redis ran the timed-out claim once it woke: that token counts as used (the app fetches a new
    // one, as for any used token); a new one joins.
    const stale = await c.socketJoin(1, joined.roomToken);
    expect(stale.error).toMatchObject({ code: 'token-replayed' });
    const after = await c.socketJoin(1, (await c.join(0, 'hung', 'alice')).roomToken);
    expect(after.welcome).toBeDefined();
    after.socket.close();
  });
});
