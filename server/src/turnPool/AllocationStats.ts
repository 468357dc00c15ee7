import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { openRedis, type RedisConfig } from '../cluster/redis.js';

/**
 * Allocation counts from coturn's own accounting (redis-statsdb). Measured with coturn 4.6.1: each
 * live allocation is a string key `turn/realm/<realm>/user/<username>/allocation/<id>/status`
 * (value `new lifetime=600, type=UDP, local=…, remote=…`, no expiry) that coturn deletes when the
 * allocation ends. Allocation ids restart from the same numbers in every instance, and coturn
 * deletes every such key in its database when it starts (other keys stay), so each instance
 * writes to a Redis database of its own (`dbname=` in redis-statsdb) and its load is the number
 * of those keys there.
 * A stopped instance leaves its keys behind until it starts again; the pool ignores the load of
 * an instance whose probes fail anyway.
 *
 * An allocation freed by Refresh lifetime 0 (as browsers and the probes free theirs) is written
 * `refreshed lifetime=0, …` and deleted, and now and then (a few times in a hundred probes here)
 * the write lands after the delete: the key then stays for ever. Such keys are dead by their own
 * value, so they are not counted, and are removed so the database does not grow with every call. The probes' own
 * allocations (user `<expiry>:probe.<node>`) live for a moment only and are not load either.
 */
const FREED = /^\w+ lifetime=0\b/;
const PROBE_USER = /\/user\/\d+:probe\.[^/]*\/allocation\//;

export class AllocationStats {
  private readonly connections = new Map<number, Redis>();

  constructor(
    private readonly redis: RedisConfig,
    private readonly realm: string,
    private readonly log: Logger,
  ) {}

  private connection(db: number): Redis {
    let conn = this.connections.get(db);
    if (!conn) {
      const url = new URL(this.redis.url);
      url.pathname = `/${db}`;
      conn = openRedis({ ...this.redis, url: url.toString() }, this.log, `turn-stats-${db}`);
      this.connections.set(db, conn);
    }
    return conn;
  }

  /** Live allocations of the instance writing to database `db`; rejects while Redis is away. */
  async count(db: number): Promise<number> {
    const conn = this.connection(db);
    // SCAN, not KEYS: it never blocks Redis, whatever the number of allocations.
    const match = `turn/realm/${this.realm.replace(/[*?[\]\\]/g, '\\$&')}/user/*/allocation/*/status`;
    let cursor = '0';
    let total = 0;
    do {
      const [next, keys] = await conn.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      const live = keys.filter((k) => !PROBE_USER.test(k));
      if (live.length === 0) continue;
      const values = await conn.mget(...live);
      const dead = live.filter((_, i) => values[i] != null && FREED.test(values[i]!));
      total += values.filter((v) => v != null).length - dead.length;
      if (dead.length > 0) void conn.unlink(...dead).catch(() => undefined);
    } while (cursor !== '0');
    return total;
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.quit().catch(() => c.disconnect())));
    this.connections.clear();
  }
}
