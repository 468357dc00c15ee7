import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';

export type RedisConfig = NonNullable<ServerConfig['cluster']['redis']>;

/** Reconnect backoff: quick at first, then every 2 s for as long as Redis is away. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(attempt, 6));
}

/**
 * Connection options for a configured Redis. Commands fail at once while the connection is down
 * (no offline queue) and after commandTimeoutMs when Redis does not answer: a node then answers a
 * join with a clear error instead of holding it, and recovers by itself when Redis is back.
 */
export function redisOptions(config: RedisConfig, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): RedisOptions {
  const url = new URL(config.url);
  const tls = url.protocol === 'rediss:';
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`cluster.redis.url: "${url.pathname.slice(1)}" is not a database number`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    db,
    ...(config.username ? { username: config.username } : {}),
    ...(config.password ? { password: config.password } : {}),
    ...(tls ? { tls: { servername: url.hostname, ...(config.caFile ? { ca: readFile(config.caFile) } : {}) } } : {}),
    connectionName: 'zerorange-signaling',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: Math.max(1_000, config.commandTimeoutMs * 2),
    retryStrategy: reconnectDelayMs,
    // A failover replica answers READONLY: reconnect so the client finds the new primary.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  };
}

/**
 * Opens a connection and logs its state changes once each (not every failed retry). The caller
 * closes it with `quit()`. `ready()` resolves once the first connection is usable.
 */
export function openRedis(config: RedisConfig, log: Logger, role = 'state', extra: RedisOptions = {}): Redis {
  const redis = new Redis({ ...redisOptions(config), ...extra });
  const target = redactedRedisUrl(config.url);
  let up = false;
  let lastError = '';
  redis.on('ready', () => {
    up = true;
    lastError = '';
    log.info({ redis: target, role }, 'redis connected');
  });
  redis.on('error', (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    log.warn({ redis: target, role, err: err.message }, 'redis error');
  });
  redis.on('close', () => {
    if (!up) return;
    up = false;
    log.warn({ redis: target, role }, 'redis connection lost; reconnecting');
  });
  return redis;
}

/** Resolves when the connection is ready, or rejects after timeoutMs with the last error. */
export function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = 'no answer';
    const onError = (err: Error) => {
      lastError = err.message;
    };
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const timer = setTimeout(() => done(new Error(`redis not ready after ${timeoutMs} ms: ${lastError}`)), timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/** The URL without user information, for logs. */
export function redactedRedisUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** This node's id: configured, or the host name and listening port (unique per host). */
export function nodeIdOf(config: ServerConfig): string {
  return config.cluster.nodeId ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48)}-${config.listen.port}`;
}
