import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { nodeIdOf } from '../cluster/redis.js';
import type { ServerConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { IssuedIce } from '../SignalingHub.js';
import { buildIceServers, createTurnCredential } from '../turn.js';
import { AllocationStats } from './AllocationStats.js';
import { probeAllocate } from './probe.js';
import { turnServersOf, type TurnServerSpec } from './servers.js';
import { TurnPool } from './TurnPool.js';

export { TurnPool, type ServerState } from './TurnPool.js';
export { turnServersOf, type TurnServerSpec } from './servers.js';

export type IceTrigger = 'join' | 'refresh' | 'check';

/** Chooses the TURN servers for one issue of ICE servers; started and stopped with the app. */
export interface TurnSelector {
  select(trigger: IceTrigger): TurnServerSpec[];
  start(): void;
  stop(): Promise<void>;
  /** The pool, when turn.servers configures one. */
  readonly pool?: TurnPool;
}

/**
 * The single-host form (turn.host) hands out its one server, unprobed, as it always did; a list
 * (turn.servers) becomes a probed pool, loaded from coturn's statsdb when cluster.redis is set.
 */
export function createTurnSelector(config: ServerConfig, deps: { metrics: Metrics; log: Logger; now: () => number }): TurnSelector {
  const servers = turnServersOf(config.turn);
  if (!config.turn.servers) {
    return { select: () => servers, start: () => undefined, stop: () => Promise.resolve() };
  }
  const { pool: settings, secrets, realm } = config.turn;
  const log = deps.log.child({ component: 'turn-pool' });
  const ca = settings.caFile ? readFileSync(settings.caFile, 'utf8') : undefined;
  const redis = config.cluster.redis;
  const stats = redis && servers.some((s) => s.statsDb !== undefined) ? new AllocationStats(redis, realm, log) : undefined;
  const probeId = `probe.${nodeIdOf(config)}`;
  const pool = new TurnPool({
    servers,
    probeIntervalMs: settings.probeIntervalMs,
    perJoin: settings.perJoin,
    metrics: deps.metrics,
    log,
    probe: (spec, transport) => {
      // Signed like a client's, with the secret clients get now: a probe also proves the instance knows it.
      const c = createTurnCredential({ secret: secrets[0]!, id: probeId, ttlSeconds: 300, now: new Date(deps.now()) });
      return probeAllocate(spec, transport, {
        credential: { username: c.username, password: c.credential },
        timeoutMs: settings.probeTimeoutMs,
        ...(ca ? { ca } : {}),
      });
    },
    ...(stats ? { countAllocations: (db: number) => stats.count(db) } : {}),
  });
  return {
    pool,
    select: (trigger) => pool.select(trigger),
    start: () => pool.start(),
    stop: async () => {
      await pool.stop();
      await stats?.close();
    },
  };
}

/** issueIce for the hub and the HTTP routes: a fresh credential and the selected servers' URLs. */
export function createIceIssuer(config: ServerConfig, selector: TurnSelector, metrics: Metrics, now: () => number) {
  return (sid: string, trigger: IceTrigger): IssuedIce => {
    // The first secret signs; coturn also accepts the others during a rotation.
    const credential = createTurnCredential({ secret: config.turn.secrets[0]!, id: sid, ttlSeconds: config.turn.ttlSeconds, now: new Date(now()) });
    metrics.turnCredentials.inc({ trigger });
    return { iceServers: buildIceServers(selector.select(trigger), credential), expiresAt: credential.expiresAt };
  };
}
