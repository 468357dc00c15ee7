import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { AppContext } from './context.js';
import { requestTarget, validHostHeader } from './request.js';
import { rejectUpgrade } from './respond.js';
import { isRefused } from './server.js';

/** Opens signaling sockets: path, draining, origin and per-address checks, then the hub takes over. */
export function createUpgradeHandler(ctx: AppContext, wss: WebSocketServer) {
  const { config, metrics, audit, log, hub } = ctx;
  const connectionsByIp = new Map<string, number>();
  const releaseIp = (ip: string) => {
    const left = (connectionsByIp.get(ip) ?? 1) - 1;
    if (left <= 0) connectionsByIp.delete(ip);
    else connectionsByIp.set(ip, left);
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const ip = ctx.clientIp(req);
    const target = requestTarget(req);
    if (!target) return rejectUpgrade(socket, 400, 'bad-request', 'the request target does not parse');
    if (!validHostHeader(req)) return rejectUpgrade(socket, 400, 'bad-request', 'the Host header is not a host');
    if (target.path !== '/v1/signal') return rejectUpgrade(socket, 404, 'not-found', 'no such endpoint');
    if (ctx.isDraining()) return rejectUpgrade(socket, 503, 'server-shutdown', 'the server is restarting');
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
    let accepted = false;
    try {
      wss.handleUpgrade(req, socket, head, (ws) => {
        accepted = true;
        hub.accept(ws, ip, releaseIp);
      });
    } finally {
      // ws answers a bad handshake itself (400) without calling back: the slot is not taken then.
      if (!accepted) {
        socket.once('close', () => {
          if (!accepted) releaseIp(ip);
        });
      }
    }
  };

  /** Like the request handler, nothing thrown here may reach the server: a bug answers 500. */
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    if (isRefused(socket as Socket)) {
      socket.destroy();
      return;
    }
    try {
      upgrade(req, socket, head);
    } catch (err) {
      log.error({ err }, 'upgrade failed');
      rejectUpgrade(socket, 500, 'internal', 'internal error');
    }
  };
}
