import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Identity } from '../identity.js';
import type { Metrics } from '../metrics.js';
import { hasBody, requestTarget, validHostHeader } from './request.js';
import { HttpError, sendError, sendJson } from './respond.js';

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** Still percent-encoded; `params` are the route's captures, also still encoded. */
  path: string;
  params: string[];
}

interface RouteBase {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  /** The captures when the path is this route's, null otherwise. */
  match(path: string): string[] | null;
  /** Refused with 503 while the server drains: it would start something the restart cuts short. */
  readonly refusedWhileDraining?: boolean;
}

/** One endpoint anyone may call: its path, its one method (GET also answers HEAD), its handler. */
export interface PublicRoute extends RouteBase {
  readonly auth?: undefined;
  handle(r: RouteRequest): Promise<void> | void;
}

/** A request that passed the bearer-token check: who made it, and from where. */
export interface AuthenticatedRequest extends RouteRequest {
  identity: Identity;
  ip: string;
}

/** One endpoint behind the IdP's access token, checked by the router before the handler runs. */
export interface AuthenticatedRoute extends RouteBase {
  readonly auth: { onRejected(reason: string): void };
  handle(r: AuthenticatedRequest): Promise<void> | void;
}

export type Route = PublicRoute | AuthenticatedRoute;

export interface RequestHandlerOptions {
  log: Logger;
  metrics: Metrics;
  isDraining?: () => boolean;
  clientIp?: (req: IncomingMessage) => string;
  /** The shared pre-handler of authenticated routes: the identity, or the 401/503 to answer with. */
  authenticate?: (req: IncomingMessage, ip: string, onRejected: (reason: string) => void) => Promise<Identity>;
}

/** A route for one exact path. */
export const exact = (path: string) => (candidate: string) => (candidate === path ? [] : null);

/** A route whose path matches a pattern; its groups are the captures. */
export const pattern = (re: RegExp) => (candidate: string) => {
  const m = re.exec(candidate);
  return m ? m.slice(1).map((g) => g ?? '') : null;
};

/**
 * Everything a request can do ends here: a route's answer, or 400/404/405/413 for the client's
 * faults (debug log), or 500 for our own bugs (error log). Nothing thrown escapes to the server.
 */
export function createRequestHandler(routes: readonly Route[], options: RequestHandlerOptions) {
  const { log, metrics, isDraining = () => false } = options;
  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<string> => {
    const target = requestTarget(req);
    if (!target) throw new HttpError(400, 'bad-request', 'the request target does not parse');
    if (!validHostHeader(req)) throw new HttpError(400, 'bad-request', 'the Host header is not a host');
    // No route takes a body: refuse it instead of reading it, and close once answered.
    if (hasBody(req)) throw new HttpError(413, 'bad-request', 'this server takes no request bodies', { connection: 'close' });
    const method = req.method ?? 'GET';
    for (const route of routes) {
      const params = route.match(target.path);
      if (!params) continue;
      if (method !== route.method && !(route.method === 'GET' && method === 'HEAD')) {
        throw new HttpError(405, 'bad-request', `use ${route.method}`, { allow: route.method });
      }
      if (route.refusedWhileDraining && isDraining()) {
        throw new HttpError(503, 'server-shutdown', 'the server is restarting', { 'retry-after': '2' });
      }
      const request: RouteRequest = { req, res, method, path: target.path, params };
      if (route.auth) {
        if (!options.authenticate) throw new Error(`route ${route.name} needs authentication, and this handler has none`);
        const ip = options.clientIp?.(req) ?? req.socket.remoteAddress ?? 'unknown';
        const identity = await options.authenticate(req, ip, (reason) => route.auth.onRejected(reason));
        await route.handle({ ...request, identity, ip });
      } else {
        await route.handle(request);
      }
      return route.name;
    }
    throw new HttpError(404, 'not-found', 'no such endpoint');
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): string => {
    if (err instanceof HttpError) {
      if (err.status < 500) log.debug({ method: req.method, status: err.status, code: err.code }, 'request refused');
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
      return err.status === 404 ? 'unknown' : 'error';
    }
    log.error({ err, method: req.method }, 'request failed');
    if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'internal error' } }, { connection: 'close' });
    else res.destroy();
    return 'error';
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    // A body still arriving once the answer is out is not read: the connection closes instead.
    res.once('finish', () => {
      if (!req.complete) req.socket.destroySoon();
    });
    const count = (name: string) => metrics.httpRequests.inc({ route: name, status: String(res.statusCode) });
    // dispatch is async: whatever a route throws arrives here as a rejection.
    dispatch(req, res)
      .then(count, (err: unknown) => count(fail(req, res, err)))
      .catch((err: unknown) => log.error({ err }, 'request bookkeeping failed'));
  };
}
