import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { WebSocketServer } from 'ws';
import type { ServerConfig } from './config.js';
import { openRoomTokens, type ReloadResult } from './cluster/keyringFile.js';
import { openAdmissionState } from './cluster/limits.js';
import { createTokenVerifier, type TokenVerifier } from './identity.js';
import { createMetrics, type Metrics } from './metrics.js';
import { RoomPolicy } from './RoomPolicy.js';
import { randomId } from './RoomTokens.js';
import { HARD_FRAME_FACTOR, SignalingHub } from './SignalingHub.js';
import { createIceIssuer, createTurnSelector, type TurnPool } from './turnPool/index.js';
import { clientIpOf, type AppContext } from './http/context.js';
import { authenticate } from './http/auth.js';
import { createRequestHandler } from './http/router.js';
import { clientConfigRoute } from './http/routes/clientConfig.js';
import { healthRoute, readyRoute } from './http/routes/health.js';
import { iceServersRoute } from './http/routes/iceServers.js';
import { joinRoute } from './http/routes/join.js';
import { joinPageRoute } from './http/routes/joinPage.js';
import { metricsRoute } from './http/routes/metrics.js';
import { createHttpServer } from './http/server.js';
import { memorySharedState } from './cluster/memory.js';
import { nodeIdOf, redactedRedisUrl } from './cluster/redis.js';
import { redisSharedState } from './cluster/redisState.js';
import type { SharedState } from './cluster/types.js';
import { createUpgradeHandler } from './http/upgrade.js';

export interface AppDeps {
  logger?: Logger;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface App {
  readonly config: ServerConfig;
  /** The public port. Not listening: the caller listens (main.ts, or a test on port 0). */
  readonly server: http.Server;
  /** `/metrics` only, on its own (internal) address. Not listening either. */
  readonly metricsServer: http.Server;
  readonly hub: SignalingHub;
  readonly metrics: Metrics;
  readonly verifier: TokenVerifier;
  readonly log: Logger;
  /** Reads `roomToken.keysFile` again (SIGHUP); a file that fails validation keeps the current keys. */
  reloadRoomTokenKeys(trigger?: string): ReloadResult;
  /** The probed TURN pool when turn.servers lists several coturn instances. */
  readonly turnPool: TurnPool | undefined;
  /** Stops accepting, tells every client the server is going away, and closes by the deadline. */
  close(deadlineMs?: number): Promise<void>;
}

/** In development without publicUrl: the listening address, with a wildcard bind read as loopback. */
function listeningUrl(config: ServerConfig, server: http.Server): URL {
  const address = server.address() as AddressInfo | null;
  const port = address?.port ?? config.listen.port;
  const host = config.listen.host === '0.0.0.0' ? '127.0.0.1' : config.listen.host === '::' ? '::1' : config.listen.host;
  return new URL(`${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`);
}

/** Rooms in this process, or shared through Redis with the other nodes when `cluster.redis` is set. */
function openSharedState(config: ServerConfig, log: Logger, node: string, metrics: Metrics): SharedState {
  const redis = config.cluster.redis;
  if (!redis) return memorySharedState();
  log.info({ node, redis: redactedRedisUrl(redis.url), heartbeatMs: config.cluster.heartbeatMs }, 'rooms shared through redis');
  const commands = new Counter({
    name: 'zerorange_redis_commands_total',
    help: 'Commands (round trips) this node sent Redis for rooms and routing, by operation',
    labelNames: ['op'] as const,
    registers: [metrics.registry],
  });
  const state = redisSharedState(redis, log, config.cluster.heartbeatMs, (op) => commands.inc({ op }));
  new Gauge({
    name: 'zerorange_shared_state_up',
    help: 'Whether this node reaches Redis (1) or not (0)',
    registers: [metrics.registry],
    collect() {
      this.set(state.status() === 'ok' ? 1 : 0);
    },
  });
  return state;
}

/** Builds the signaling server: HTTP API, signaling socket, metrics listener. Never listens. */
export function buildApp(config: ServerConfig, deps: AppDeps = {}): App {
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? pino({ level: config.logLevel });
  const auditLog = log.child({ audit: true });
  const audit = (event: string, fields: Record<string, unknown>) => auditLog.info({ event, ...fields }, event);
  const metrics = createMetrics();
  const verifier = createTokenVerifier({
    issuer: config.idp.issuer,
    audience: config.idp.audience,
    algorithms: config.idp.algorithms,
    clockToleranceSeconds: config.idp.clockToleranceSeconds,
    ...(config.idp.jwksUri ? { jwksUri: config.idp.jwksUri } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const { roomTokens, keysFile } = openRoomTokens(config, log, now);
  const turnServers = createTurnSelector(config, { metrics, log, now });
  const issueIce = createIceIssuer(config, turnServers, metrics, now);
  const admission = openAdmissionState(config, log, now);
  const { replay } = admission;
  // One id per process: members a restarted node's predecessor left behind expire with it (as after
  // a crash) instead of lingering under an id that is alive again.
  const node = `${nodeIdOf(config)}.${randomId(6)}`;
  const hub = new SignalingHub({
    config,
    roomTokens,
    replay,
    state: openSharedState(config, log, node, metrics),
    node,
    metrics,
    log,
    audit,
    issueIce,
    now,
    peerIdKey: (config.roomToken.peerIdSecret ?? config.roomToken.secret)!,
  });
  const publicUrl = config.publicUrl ? new URL(config.publicUrl) : undefined;
  /** Set when a drain begins: /readyz fails and new work is refused while the balancer catches up. */
  let unready = false;

  const ctx: AppContext = {
    config,
    log,
    audit,
    metrics,
    verifier,
    hub,
    roomTokens,
    policy: new RoomPolicy(config.rooms.policy),
    issueIce,
    isDraining: () => unready || hub.isDraining,
    clientIp: (req) => clientIpOf(config, req),
    baseUrl: () => publicUrl ?? listeningUrl(config, server),
  };
  const limits = config.limits;
  const routes = [
    healthRoute(),
    readyRoute(ctx),
    clientConfigRoute(ctx),
    iceServersRoute(ctx, admission.limits.networkCheck),
    joinRoute(ctx, admission.limits.join, admission.ready),
    joinPageRoute(ctx),
  ];
  // Behind trusted proxies every connection comes from a proxy: the cap would be theirs to enforce.
  const perIp = config.trustProxyHops > 0 ? 0 : limits.httpConnectionsPerIp;
  const server = createHttpServer({ tls: config.tls, limits, connectionsPerIp: perIp, log, metrics }, createRequestHandler(routes, {
    log,
    metrics,
    isDraining: ctx.isDraining,
    clientIp: ctx.clientIp,
    authenticate: (req, ip, onRejected) => authenticate(ctx, req, ip, onRejected),
  }));
  const metricsServer = createHttpServer({ limits, connectionsPerIp: 0, log }, createRequestHandler([metricsRoute(metrics)], { log, metrics }));

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: limits.maxMessageBytes * HARD_FRAME_FACTOR,
  });
  server.on('upgrade', createUpgradeHandler(ctx, wss));

  const closeServer = (s: http.Server) => (s.listening ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve());
  let closing: Promise<void> | undefined;
  const close = (deadlineMs = config.shutdownGraceMs): Promise<void> => {
    closing ??= (async () => {
      keysFile?.close();
      unready = true;
      // The balancer's health check sees /readyz fail before any socket closes, so the clients
      // that reconnect at once (server-shutdown) are sent to the other nodes.
      if (config.cluster.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.cluster.drainDelayMs));
      const serverClosed = closeServer(server);
      server.closeIdleConnections();
      // The hub's drain flag is the server's (ctx.isDraining): shutdown() sets it before its first
      // await, and nothing here yields before that.
      await hub.shutdown(deadlineMs);
      await turnServers.stop();
      wss.close();
      server.closeAllConnections();
      // Metrics stay up until the hub is done, so a scrape can see the drain.
      const metricsClosed = closeServer(metricsServer);
      metricsServer.closeAllConnections();
      await Promise.all([serverClosed, metricsClosed]);
      admission.close();
      log.info('signaling server closed');
    })();
    return closing;
  };

  const reloadRoomTokenKeys = (trigger = 'reload'): ReloadResult => {
    if (!keysFile) {
      log.warn({ trigger }, 'room-token keys not reloaded: roomToken.secret is set, not roomToken.keysFile');
      return { ok: false, error: 'roomToken.keysFile is not set' };
    }
    return keysFile.reload(trigger);
  };

  turnServers.start();
  return { config, server, metricsServer, hub, metrics, verifier, log, reloadRoomTokenKeys, turnPool: turnServers.pool, close };
}
