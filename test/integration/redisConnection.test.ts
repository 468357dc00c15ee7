import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, redisReady } from '../../server/src/cluster/redis.js';
import { clusterRedisConfig, hasRedis, startRedis, type RedisProcess } from '../support/redis.js';

const log = pino({ level: 'silent' });

describe.skipIf(!hasRedis())('Redis connection (real redis-server on loopback)', () => {
  let server: RedisProcess;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('runs with the production settings: never evicts, and keeps an append-only file', async () => {
    const redis = openRedis(clusterRedisConfig(server), log);
    try {
      await redisReady(redis, 5_000);
      const info = await redis.info('memory');
      expect(info).toMatch(/maxmemory_policy:noeviction/);
      expect(await redis.info('persistence')).toMatch(/aof_enabled:1/);
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a client without the password', async () => {
    const redis = openRedis({ ...clusterRedisConfig(server), password: 'wrong-password' }, log);
    try {
      await expect(redisReady(redis, 2_000)).rejects.toThrow(/WRONGPASS|invalid|not ready/i);
    } finally {
      redis.disconnect();
    }
  });

  it('fails commands at once while Redis is down and recovers by itself when it is back', async () => {
    const redis = openRedis(clusterRedisConfig(server), log);
    try {
      await redisReady(redis, 5_000);
      await redis.set('zr:probe', '1');
      expect(await redis.get('zr:probe')).toBe('1');

      await server.stop();
      await expect.poll(() => redis.status).not.toBe('ready');
      const started = Date.now();
      await expect(redis.get('zr:probe')).rejects.toThrow();
      // No offline queue: a command is refused, never parked until Redis returns.
      expect(Date.now() - started).toBeLessThan(2_000);

      server = await startRedis({ port: server.port, password: server.password });
      await redisReady(redis, 10_000);
      // Restarted empty: nothing of the old state is there.
      expect(await redis.get('zr:probe')).toBeNull();
    } finally {
      redis.disconnect();
    }
  });
});
