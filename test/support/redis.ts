/**
 * Real Redis for tests, on loopback: start one per suite and stop it in afterAll. Skip the suite
 * with `describe.skipIf(!hasRedis())` where redis-server is not installed.
 */
import type { ServerConfig } from '../../server/src/config.js';
import { redisServerPath, startRedis, type RedisProcess } from '../../dev/redis.js';

export { startRedis, type RedisProcess };

export function hasRedis(): boolean {
  return redisServerPath() !== null;
}

/** The `cluster.redis` setting that points a signaling server at this Redis. */
export function clusterRedisConfig(redis: RedisProcess, keyPrefix = 'zr:'): NonNullable<ServerConfig['cluster']['redis']> {
  return { url: redis.url, password: redis.password, keyPrefix, commandTimeoutMs: 1_000 };
}
