/**
 * RFC 8252 §7.3 loopback redirect listener: a one-shot HTTP server on 127.0.0.1 (ephemeral port) that
 * waits for the browser to come back with the authorization (or logout) response.
 */
import { escapeHtml } from '../../../shared/html.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type LoopbackFailure = 'timeout' | 'aborted' | 'closed';

/** Why the listener ended without a matching callback. */
export class LoopbackRedirectError extends Error {
  constructor(readonly reason: LoopbackFailure) {
    super(
      reason === 'timeout'
        ? 'no answer from the browser in time'
        : reason === 'aborted'
          ? 'the wait for the browser was cancelled'
          : 'the redirect listener was closed',
    );
    this.name = 'LoopbackRedirectError';
  }
}

export interface LoopbackRedirectOptions {
  /** Path the redirect must use, e.g. `/callback`. */
  path: string;
  expectedState: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Page shown on success; default tells the user to return to ZeroRange. */
  successMessage?: string;
}

export interface LoopbackRedirect {
  /** `http://127.0.0.1:<port><path>` */
  redirectUri: string;
  /** The full callback URL (with `code` or `error`); rejects with {@link LoopbackRedirectError}. */
  result: Promise<URL>;
  /** Stops listening and destroys every socket; a pending `result` rejects with reason `closed`. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startLoopbackRedirect(opts: LoopbackRedirectOptions): Promise<LoopbackRedirect> {
  if (opts.signal?.aborted) throw new LoopbackRedirectError('aborted');
  const sockets = new Set<Socket>();
  let settle: ((outcome: URL | LoopbackRedirectError) => void) | undefined;
  const result = new Promise<URL>((resolve, reject) => {
    settle = (outcome) => {
      settle = undefined;
      if (outcome instanceof URL) resolve(outcome);
      else reject(outcome);
    };
  });
  // The caller may never await `result` (e.g. it closes first); that must not be an unhandled rejection.
  result.catch(() => undefined);

  const server = createServer((req, res) => handle(req, res));
  // 'close' fires once the listener is gone and every connection has ended.
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  // A browser must not be able to hold the listener open (slow headers, idle keep-alive).
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 1;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${HOST}:${port}`;
  const expectedHost = `${HOST}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (!closing) {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      settle?.(new LoopbackRedirectError('closed'));
      if (server.listening) server.close();
      // Give a response being written a moment to flush, then drop everything (browsers keep sockets).
      setImmediate(() => {
        for (const socket of sockets) socket.destroy();
      });
      closing = closed;
    }
    return closing;
  };
  const fail = (reason: LoopbackFailure): void => {
    settle?.(new LoopbackRedirectError(reason));
    void close();
  };
  const timer = setTimeout(() => fail('timeout'), opts.timeoutMs);
  timer.unref();
  const onAbort = (): void => fail('aborted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    // Host check: a DNS-rebound page on another name must not be able to talk to the listener.
    if (req.headers.host !== expectedHost) return send(res, 400, 'Bad request', 'Unexpected host.');
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      return send(res, 405, 'Method not allowed', 'Only GET is accepted here.');
    }
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname !== opts.path) return send(res, 404, 'Not found', 'Nothing here.');
    if (!settle || closing) return send(res, 410, 'Gone', 'This sign-in has already ended.');
    const state = url.searchParams.get('state');
    if (state === null || !sameSecret(state, opts.expectedState)) {
      return send(
        res,
        400,
        'Stale link',
        'This link belongs to an old or different sign-in attempt. Return to ZeroRange and try again.',
      );
    }
    // Stop accepting connections now, so any later callback is refused outright.
    server.close();
    const error = url.searchParams.get('error');
    if (error) {
      const description = url.searchParams.get('error_description');
      send(res, 200, 'Sign-in failed', `The identity provider said: ${description ?? error}. Return to ZeroRange.`);
    } else {
      send(res, 200, 'Done', opts.successMessage ?? 'You can return to ZeroRange and close this tab.');
    }
    settle(url);
    res.once('close', () => void close());
  }

  return { redirectUri: `${origin}${opts.path}`, result, close };
}

/** Constant-time comparison that does not leak the length either (both sides hashed first). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, title: string, message: string): void {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ZeroRange – ${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#111827}</style>
</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    Connection: 'close',
  });
  res.end(body);
}

