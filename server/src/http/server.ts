import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import { rawResponse } from './respond.js';

export interface HttpServerOptions {
  tls?: ServerConfig['tls'];
  limits: ServerConfig['limits'];
  /** TCP connections one address may hold open at once (0: no cap). */
  connectionsPerIp: number;
  log: Logger;
  metrics?: Metrics;
}

/** Sockets refused by the per-address cap: their requests get no other answer. */
const refused = new WeakSet<Socket>();
export const isRefused = (socket: Socket): boolean => refused.has(socket);

const REFUSED_LINGER_MS = 1000;

const clientErrorStatus = (code: string | undefined): number =>
  code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;

/**
 * An HTTP(S) server with the documented limits enforced on time: headers within headersTimeoutMs,
 * the whole request within requestTimeoutMs, checked every connectionsCheckIntervalMs (Node's
 * default of 30 s let slow clients live several times longer), and a cap per client address.
 */
export function createHttpServer(opts: HttpServerOptions, onRequest: RequestListener): http.Server {
  const { limits, log } = opts;
  const timing = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.connectionsCheckIntervalMs,
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (!isRefused(req.socket)) onRequest(req, res);
  };
  const server = opts.tls
    ? https.createServer({ ...timing, cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile), minVersion: 'TLSv1.2' }, handler)
    : http.createServer(timing, handler);

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    log.debug({ code: err.code }, 'client error');
    // Once a response has started on this connection, a raw answer would corrupt it: just close.
    if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(err.code);
    socket.end(rawResponse(status, { error: { code: 'bad-request', message: http.STATUS_CODES[status] } }));
    // As Node's own handler does: the connection is over once the answer is out, whatever the client does.
    socket.destroySoon();
  });

  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    const count = open.get(ip) ?? 0;
    if (opts.connectionsPerIp > 0 && count >= opts.connectionsPerIp) {
      refused.add(socket);
      opts.metrics?.rejections.inc({ reason: 'too-many-connections' });
      log.debug({ ip }, 'connection refused: too many from this address');
      socket.on('error', () => socket.destroy());
      // Over TLS nothing readable can be said before the handshake: the connection just closes.
      if (opts.tls) {
        socket.destroy();
        return;
      }
      socket.end(rawResponse(429, { error: { code: 'too-many-connections', message: 'too many connections from this address' } }, { 'retry-after': '10' }));
      // Not counted, so not left open: a client that never closes its end is closed a moment later
      // (the moment lets the answer be read before the reset that unread input causes).
      setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
      return;
    }
    open.set(ip, count + 1);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left <= 0) open.delete(ip);
      else open.set(ip, left);
    });
  });
  return server;
}
