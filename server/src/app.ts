import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { ServerConfig } from './config.js';
import { createTokenVerifier, type TokenVerifier } from './identity.js';
import { createMetrics, type Metrics } from './metrics.js';
import { KeyedRateLimiter } from './rateLimit.js';
import { RoomPolicy } from './RoomPolicy.js';
import { openReplayStore } from './replayStore.js';
import { RoomTokens } from './RoomTokens.js';
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
  const roomTokens = new RoomTokens(config.roomToken.secret, config.roomToken.ttlSeconds, now);
  const turnServers = createTurnSelector(config, { metrics, log, now });
  const issueIce = createIceIssuer(config, turnServers, metrics, now);
  const replay = openReplayStore(config.roomToken.replayStoreFile, log, now);
  const hub = new SignalingHub({ config, roomTokens, replay, metrics, log, audit, issueIce, now, peerIdKey: config.roomToken.secret });
  const publicUrl = config.publicUrl ? new URL(config.publicUrl) : undefined;

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
    isDraining: () => hub.isDraining,
    clientIp: (req) => clientIpOf(config, req),
    baseUrl: () => publicUrl ?? listeningUrl(config, server),
  };
  const limits = config.limits;
  const routes = [
    healthRoute(),
    readyRoute(ctx),
    clientConfigRoute(ctx),
    iceServersRoute(ctx, new KeyedRateLimiter(limits.networkCheckBurst, limits.networkChecksPerMinute / 60, now)),
    joinRoute(ctx, new KeyedRateLimiter(limits.joinBurst, limits.joinsPerMinute / 60, now)),
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
      log.info('signaling server closed');
    })();
    return closing;
  };

  turnServers.start();
  return { config, server, metricsServer, hub, metrics, verifier, log, turnPool: turnServers.pool, close };
}
