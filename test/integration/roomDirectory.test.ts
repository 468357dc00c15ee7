/**
 * The room directory's contract, one suite for both implementations: in memory, and in a real
 * redis-server (where several nodes share it, with presence and announcements on top).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRoomDirectory } from '../../server/src/cluster/memory.js';
import { RedisRoomDirectory } from '../../server/src/cluster/redisState.js';
import type { RoomDirectory } from '../../server/src/cluster/types.js';
import { hasRedis, startRedis, type RedisProcess } from '../support/redis.js';

let redis: RedisProcess | undefined;
let client: Redis | undefined;
beforeAll(async () => {
  if (!hasRedis()) return;
  redis = await startRedis();
  client = new Redis(redis.url, { password: redis.password });
});
afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

let n = 0;
const impls: [string, () => RoomDirectory][] = [
  ['memory', () => new MemoryRoomDirectory()],
  ...(hasRedis() ? ([['redis', () => new RedisRoomDirectory(client!, `dir${++n}:`, 60_000)]] as [string, () => RoomDirectory][]) : []),
];
const member = (peerId: string, node = 'node-a', name = `Name of ${peerId}`) => ({ peerId, name, node });

describe.each(impls)('room directory (%s)', (_kind, make) => {
  it('admits up to the room size, counting every node, and lists the others', async () => {
    const dir = make();
    expect(await dir.join('r', member('p1'), 2, '')).toEqual({ ok: true, others: [], replacedNode: null });
    expect(await dir.join('r', member('p2', 'node-a', 'Bob\nwith a newline'), 2, '')).toEqual({ ok: true, others: [member('p1')], replacedNode: null });
    expect(await dir.join('r', member('p3'), 2, '')).toEqual({ ok: false, reason: 'room-full' });
  });

  it('lets the same peer id back into a full room, telling which node served it', async () => {
    const dir = make();
    await dir.join('r', member('p1'), 2, '');
    await dir.join('r', member('p2'), 2, '');
    const again = await dir.join('r', member('p2', 'node-a'), 2, '');
    expect(again).toEqual({ ok: true, others: [member('p1')], replacedNode: 'node-a' });
  });

  it('removes a member only for the node that serves it', async () => {
    const dir = make();
    await dir.join('r', member('p1', 'node-a'), 4, '');
    expect(await dir.leave('r', 'p1', 'node-b', '')).toBe(false);
    expect(await dir.leave('r', 'p1', 'node-a', '')).toBe(true);
    expect(await dir.leave('r', 'p1', 'node-a', '')).toBe(false);
    expect(await dir.join('r', member('p2'), 1, '')).toMatchObject({ ok: true, others: [] });
  });

  it('takes registered members into account, and forgets them for their node only', async () => {
    const dir = make();
    await dir.register('r', [member('p1'), member('p2')]);
    expect(await dir.join('r', member('p3'), 2, '')).toEqual({ ok: false, reason: 'room-full' });
    await dir.forget('r', 'p1', 'node-x');
    expect(await dir.join('r', member('p3'), 2, '')).toEqual({ ok: false, reason: 'room-full' });
    await dir.forget('r', 'p1', 'node-a');
    expect(await dir.join('r', member('p3'), 3, '')).toMatchObject({ ok: true, others: [member('p2')] });
  });
});

describe.skipIf(!hasRedis())('room directory in Redis, across nodes', () => {
  it('does not count members of a node whose presence expired, and drops them', async () => {
    const dir = new RedisRoomDirectory(client!, 'presence:', 60_000);
    await dir.heartbeat('node-a', [], []);
    await dir.join('r', member('a1', 'node-a'), 2, '');
    await dir.join('r', member('b1', 'node-b'), 2, '');
    // node-b never beat: not alive, so its member was dropped at the second join already.
    expect(await dir.join('r', member('a2', 'node-a'), 2, '')).toEqual({ ok: true, others: [member('a1', 'node-a')], replacedNode: null });
    expect(await dir.heartbeat('node-a', ['r'], ['node-b', 'node-a'])).toEqual({ stateLost: false, missingRooms: [], deadNodes: ['node-b'] });
  });

  it('announces joins and leaves to the other live nodes of the room, in one step with the change', async () => {
    const dir = new RedisRoomDirectory(client!, 'announce:', 60_000);
    const sub = client!.duplicate();
    const heard: string[] = [];
    await sub.subscribe('announce:bus:node-b');
    sub.on('message', (_ch: string, msg: string) => heard.push(msg));
    await dir.heartbeat('node-b', [], []);
    await dir.join('r', member('b1', 'node-b'), 4, 'ignored: nobody else is in the room');
    await dir.join('r', member('a1', 'node-a'), 4, 'joined a1');
    await dir.leave('r', 'a1', 'node-a', 'left a1');
    await expect.poll(() => heard).toEqual(['joined a1', 'left a1']);
    await sub.quit();
  });

  it('reports a Redis that lost the node (restarted empty) and the rooms it lost', async () => {
    const dir = new RedisRoomDirectory(client!, 'lost:', 60_000);
    expect((await dir.heartbeat('node-a', [], [])).stateLost).toBe(true);
    await dir.join('r', member('a1'), 4, '');
    expect(await dir.heartbeat('node-a', ['r', 'gone'], [])).toEqual({ stateLost: false, missingRooms: ['gone'], deadNodes: [] });
  });
});
