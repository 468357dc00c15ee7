import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import {
  PROTOCOL_VERSION,
  RoomId,
  roomIdRules,
  type ClientConfig,
  type ErrorCode,
  type IceServersResponse,
  type JoinResponse,
} from '../../shared/protocol/index.js';
import type { ServerConfig } from './config.js';
import { AuthError, createTokenVerifier, type Identity, type TokenVerifier } from './identity.js';
import { createMetrics, type Metrics } from './metrics.js';
import { KeyedRateLimiter } from './rateLimit.js';
import { JOIN_PAGE_CSP, renderJoinPage } from './joinPage.js';
import { RoomPolicy } from './roomPolicy.js';
import { openReplayStore } from './replayStore.js';
import { randomId, RoomTokens } from './roomTokens.js';
import { HARD_FRAME_FACTOR, SignalingHub, type IssuedIce } from './SignalingHub.js';
import { buildIceServers, createTurnCredential } from './turn.js';

export interface AppDeps {
  logger?: Logger;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface App {
  readonly config: ServerConfig;
  /** Not listening: the caller listens (main.ts, or a test on port 0). */
  readonly server: http.Server;
  readonly hub: SignalingHub;
  readonly metrics: Metrics;
  readonly verifier: TokenVerifier;
  readonly log: Logger;
  /** Stops accepting, tells every client the server is going away, and closes by the deadline. */
  close(deadlineMs?: number): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

function rejectUpgrade(socket: Duplex, status: number, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Builds the signaling server: HTTP API, signaling socket, metrics. Never listens. */
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
  const policy = new RoomPolicy(config.rooms.policy);
  const joinLimiter = new KeyedRateLimiter(config.limits.joinBurst, config.limits.joinsPerMinute / 60, now);
  const checkLimiter = new KeyedRateLimiter(config.limits.networkCheckBurst, config.limits.networkChecksPerMinute / 60, now);
  const turnEndpoints = {
    host: config.turn.host,
    stunPort: config.turn.stunPort,
    turnPort: config.turn.turnPort,
    turnsPort: config.turn.turnsPort,
    ...(config.turn.tlsHost ? { tlsHost: config.turn.tlsHost } : {}),
  };

  const issueIce = (sid: string, trigger: 'join' | 'refresh' | 'check'): IssuedIce => {
    // The first secret signs; coturn also accepts the others during a rotation.
    const credential = createTurnCredential({
      secret: config.turn.secrets[0]!,
      id: sid,
      ttlSeconds: config.turn.ttlSeconds,
      now: new Date(now()),
    });
    metrics.turnCredentials.inc({ trigger });
    return { iceServers: buildIceServers(turnEndpoints, credential), expiresAt: credential.expiresAt };
  };

  const replay = openReplayStore(config.roomToken.replayStoreFile, log, now);
  const hub = new SignalingHub({ config, roomTokens, replay, metrics, log, audit, issueIce, now, peerIdKey: config.roomToken.secret });
  let draining = false;

  const clientIp = (req: IncomingMessage): string => {
    const direct = req.socket.remoteAddress ?? 'unknown';
    if (config.trustProxyHops === 0) return direct;
    const chain = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // Each trusted proxy appends one entry; the client is the one the outermost trusted proxy saw.
    return chain[chain.length - config.trustProxyHops] ?? direct;
  };

  const baseUrl = (req: IncomingMessage): URL => {
    if (config.publicUrl) return new URL(config.publicUrl);
    const forwardedProto = config.trustProxyHops > 0 ? String(req.headers['x-forwarded-proto'] ?? '') : '';
    const proto = forwardedProto === 'https' || config.tls ? 'https' : 'http';
    return new URL(`${proto}://${req.headers.host ?? `${config.listen.host}:${config.listen.port}`}`);
  };

  const signalingUrl = (req: IncomingMessage): string => {
    const url = baseUrl(req);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = '/v1/signal';
    return url.toString();
  };

  /** Verifies the bearer access token (the IdP's), or throws the 401/503 to answer with. */
  async function authenticate(req: IncomingMessage, ip: string, onRejected: (reason: string) => void): Promise<Identity> {
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer +([A-Za-z0-9\-_.~+/]+=*)$/i.exec(header)?.[1];
    let identity;
    try {
      identity = await verifier.verify(bearer);
    } catch (err) {
      const reason = err instanceof AuthError ? err.reason : 'malformed-token';
      audit('access-token.rejected', { ip, reason });
      onRejected(reason);
      if (reason === 'idp-unavailable') {
        throw new HttpError(503, 'internal', 'the identity provider cannot be reached; try again shortly', { 'retry-after': '5' });
      }
      throw new HttpError(401, 'unauthorized', err instanceof AuthError ? err.message : 'invalid token', {
        'www-authenticate': `Bearer realm="zerorange", error="invalid_token"`,
      });
    }
    return identity;
  }

  async function join(req: IncomingMessage, roomParam: string): Promise<JoinResponse> {
    const ip = clientIp(req);
    const identity = await authenticate(req, ip, (reason) => metrics.joins.inc({ stage: 'http', outcome: `token-${reason}` }));
    const room = RoomId.safeParse(roomParam);
    if (!room.success) {
      throw new HttpError(400, 'invalid-room', room.error.issues[0]?.message ?? 'invalid room ID');
    }
    if (!joinLimiter.take(identity.sub)) {
      audit('join.denied', { ip, sub: identity.sub, room: room.data, reason: 'rate-limited' });
      metrics.joins.inc({ stage: 'http', outcome: 'rate-limited' });
      metrics.rejections.inc({ reason: 'rate-limited' });
      throw new HttpError(429, 'rate-limited', 'too many joins; try again in a minute', { 'retry-after': '10' });
    }
    const decision = policy.decide(room.data, identity);
    if (!decision.allowed) {
      audit('join.denied', { ip, sub: identity.sub, room: room.data, reason: 'policy', rule: decision.rule });
      metrics.joins.inc({ stage: 'http', outcome: 'forbidden' });
      metrics.rejections.inc({ reason: 'forbidden' });
      throw new HttpError(403, 'forbidden', 'you are not on the list of people allowed in this room');
    }
    if (hub.roomSize(room.data) >= config.rooms.maxPeers) {
      audit('join.denied', { ip, sub: identity.sub, room: room.data, reason: 'room-full' });
      metrics.joins.inc({ stage: 'http', outcome: 'room-full' });
      metrics.rejections.inc({ reason: 'room-full' });
      throw new HttpError(409, 'room-full', `the room is full (${config.rooms.maxPeers} people)`);
    }
    const sid = randomId();
    const ice = issueIce(sid, 'join');
    const { token, claims } = await roomTokens.issue({
      sub: identity.sub,
      name: identity.name,
      room: room.data,
      sid,
      iceExp: Math.floor(ice.expiresAt.getTime() / 1000),
    });
    audit('join.allowed', { ip, sub: identity.sub, room: room.data, sid, rule: decision.rule });
    metrics.joins.inc({ stage: 'http', outcome: 'allowed' });
    return {
      roomToken: token,
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      iceServers: ice.iceServers,
      iceServersExpireAt: ice.expiresAt.toISOString(),
      signalingUrl: signalingUrl(req),
      roomSizeLimit: config.rooms.maxPeers,
    };
  }

  /**
   * Fresh TURN credentials for "Check my network", without a room: the check probes STUN and each
   * TURN transport itself. The id in the username is a random check session id (no room, no peer).
   */
  async function iceServersForCheck(req: IncomingMessage): Promise<IceServersResponse> {
    const ip = clientIp(req);
    const identity = await authenticate(req, ip, () => metrics.rejections.inc({ reason: 'unauthorized' }));
    if (!checkLimiter.take(identity.sub)) {
      audit('ice-servers.denied', { ip, sub: identity.sub, reason: 'rate-limited' });
      metrics.rejections.inc({ reason: 'rate-limited' });
      throw new HttpError(429, 'rate-limited', 'too many network checks; try again in a minute', { 'retry-after': '10' });
    }
    const sid = randomId();
    const ice = issueIce(sid, 'check');
    audit('ice-servers.issued', { ip, sub: identity.sub, sid, purpose: 'network-check' });
    return { iceServers: ice.iceServers, expiresAt: ice.expiresAt.toISOString() };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const only = (allowed: string) => {
      if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) {
        throw new HttpError(405, 'bad-request', `use ${allowed}`, { allow: allowed });
      }
    };
    if (path === '/healthz') {
      only('GET');
      // Public and without credentials: the app's network check reads it from its own origin.
      sendJson(res, 200, { status: 'ok' }, { 'access-control-allow-origin': '*' });
      return 'healthz';
    }
    if (path === '/readyz') {
      only('GET');
      if (!draining && !verifier.isReady()) await verifier.ready().catch(() => undefined);
      const ready = !draining && verifier.isReady();
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : draining ? 'draining' : 'identity provider not reachable' });
      return 'readyz';
    }
    if (path === '/metrics') {
      only('GET');
      const body = await metrics.registry.metrics();
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': metrics.registry.contentType });
      res.end(body);
      return 'metrics';
    }
    if (path === '/v1/client-config') {
      only('GET');
      const body: ClientConfig = {
        issuer: config.idp.issuer,
        clientId: config.idp.clientId,
        scopes: config.idp.scopes,
        audience: config.idp.audience,
        signalingUrl: signalingUrl(req),
        roomId: roomIdRules,
        protocolVersion: PROTOCOL_VERSION,
      };
      sendJson(res, 200, body, { 'cache-control': 'public, max-age=300' });
      return 'client-config';
    }
    if (path === '/v1/ice-servers') {
      only('POST');
      if (draining) throw new HttpError(503, 'server-shutdown', 'the server is restarting', { 'retry-after': '2' });
      sendJson(res, 200, await iceServersForCheck(req));
      return 'ice-servers';
    }
    const joinMatch = /^\/v1\/rooms\/([^/]{1,200})\/join$/.exec(path);
    if (joinMatch) {
      only('POST');
      if (draining) throw new HttpError(503, 'server-shutdown', 'the server is restarting', { 'retry-after': '2' });
      sendJson(res, 200, await join(req, decodeURIComponent(joinMatch[1]!)));
      return 'join';
    }
    const pageMatch = /^\/join\/([^/]{1,200})\/?$/.exec(path);
    if (pageMatch) {
      only('GET');
      const room = RoomId.safeParse(decodeURIComponent(pageMatch[1]!));
      if (!room.success) throw new HttpError(404, 'invalid-room', 'no such room link');
      const html = renderJoinPage(room.data, baseUrl(req).origin);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': JOIN_PAGE_CSP,
        'x-frame-options': 'DENY',
      });
      res.end(method === 'HEAD' ? undefined : html);
      return 'join-page';
    }
    throw new HttpError(404, 'not-found', 'no such endpoint');
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // The API takes no request bodies; drain whatever is sent so the socket can be reused.
    req.resume();
    route(req, res)
      .then((name) => metrics.httpRequests.inc({ route: name, status: String(res.statusCode) }))
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
        } else {
          log.error({ err }, 'request failed');
          if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'internal error' } });
          else res.destroy();
        }
        metrics.httpRequests.inc({ route: err instanceof HttpError && err.status === 404 ? 'unknown' : 'error', status: String(res.statusCode) });
      });
  };

  const server = config.tls
    ? https.createServer(
        { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' },
        onRequest,
      )
    : http.createServer(onRequest);
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: config.limits.maxMessageBytes * HARD_FRAME_FACTOR,
  });
  const connectionsByIp = new Map<string, number>();
  const releaseIp = (ip: string) => {
    const left = (connectionsByIp.get(ip) ?? 1) - 1;
    if (left <= 0) connectionsByIp.delete(ip);
    else connectionsByIp.set(ip, left);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const ip = clientIp(req);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/v1/signal') return rejectUpgrade(socket, 404, 'not-found', 'no such endpoint');
    if (draining) return rejectUpgrade(socket, 503, 'server-shutdown', 'the server is restarting');
    const origin = req.headers.origin;
    if (origin !== undefined && !config.allowedOrigins.includes(origin)) {
      metrics.rejections.inc({ reason: 'origin-not-allowed' });
      audit('socket.denied', { ip, reason: 'origin-not-allowed', origin });
      return rejectUpgrade(socket, 403, 'origin-not-allowed', 'this origin may not open a signaling socket');
    }
    const count = connectionsByIp.get(ip) ?? 0;
    if (count >= config.limits.connectionsPerIp) {
      metrics.rejections.inc({ reason: 'too-many-connections' });
      audit('socket.denied', { ip, reason: 'too-many-connections' });
      return rejectUpgrade(socket, 429, 'too-many-connections', 'too many connections from this address');
    }
    connectionsByIp.set(ip, count + 1);
    wss.handleUpgrade(req, socket, head, (ws) => hub.accept(ws, ip, releaseIp));
  });

  let closing: Promise<void> | undefined;
  const close = (deadlineMs = config.shutdownGraceMs): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      const serverClosed = server.listening
        ? new Promise<void>((resolve) => server.close(() => resolve()))
        : Promise.resolve();
      server.closeIdleConnections();
      await hub.shutdown(deadlineMs);
      wss.close();
      server.closeAllConnections();
      await serverClosed;
      log.info('signaling server closed');
    })();
    return closing;
  };

  return { config, server, hub, metrics, verifier, log, close };
}
