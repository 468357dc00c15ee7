import type { Clock } from '../timers.js';
import { withDeadline } from './deadline.js';
import { hostPort } from './targets.js';
import type { NetworkCheckDeps, StepResult } from './types.js';
import { formatMs, seconds } from './words.js';

// The signaling server's probes: an HTTPS request to its health URL and a WebSocket ping.

export async function checkHttps(url: string, clock: Clock, fetchImpl: NetworkCheckDeps['fetch'], timeoutMs: number, signal?: AbortSignal): Promise<StepResult> {
  const { host, port } = hostPort(url);
  const request = async (mode: RequestMode): Promise<{ ms: number; res: Response }> => {
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort);
    const timer = clock.setTimeout(() => abort.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
    const start = clock.now();
    try {
      const res = await fetchImpl(url, { method: 'GET', mode, cache: 'no-store', credentials: 'omit', signal: abort.signal });
      return { ms: clock.now() - start, res };
    } finally {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  };
  const started = clock.now();
  let mode: RequestMode = 'cors';
  let first: { ms: number; res: Response };
  try {
    try {
      first = await request(mode);
    } catch (err) {
      // A server that does not allow reading /healthz from our origin: reachability is still measurable.
      if (!(err instanceof TypeError) || signal?.aborted) throw err;
      mode = 'no-cors';
      first = await request(mode);
    }
  } catch (err) {
    const ms = clock.now() - started;
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return {
      status: 'failed',
      ms,
      blocked: true,
      detail: `GET ${url}: ${timedOut ? `no answer within ${seconds(timeoutMs)}` : err instanceof Error ? err.message : String(err)}`,
      verdict: timedOut
        ? `Blocked — no answer from ${host} on TCP ${port} within ${seconds(timeoutMs)}.`
        : `Blocked — cannot connect to ${host} on TCP ${port} (refused, blocked by a firewall or proxy, or the server is down).`,
    };
  }
  const opaque = first.res.type === 'opaque';
  if (!opaque && !first.res.ok) {
    return {
      status: 'failed',
      ms: first.ms,
      detail: `GET ${url}: HTTP ${first.res.status}`,
      verdict: `The server answered, but with an error (HTTP ${first.res.status}): it may be restarting or misconfigured.`,
    };
  }
  // The second request reuses the connection: its time is close to one round trip.
  let rtt = first.ms;
  try {
    rtt = Math.min(rtt, (await request(mode)).ms);
  } catch {
    // the first one answered: that is enough
  }
  return {
    status: 'passed',
    ms: rtt,
    detail: `GET ${url}: ${opaque ? 'answered (status not readable from the app)' : `HTTP ${first.res.status}`}; ${Math.round(first.ms)} ms with connection set-up, then ${Math.round(rtt)} ms`,
    verdict: `Works — the server answers in ${formatMs(rtt)}.`,
  };
}

export async function checkSocket(url: string, clock: Clock, WebSocketImpl: NetworkCheckDeps['WebSocket'], timeoutMs: number, signal?: AbortSignal): Promise<StepResult> {
  const { host, port } = hostPort(url);
  const started = clock.now();
  let openedAt: number | null = null;
  const pingId = Math.floor(Math.random() * 1e9);
  const failed = (how: string): StepResult => ({
    status: 'failed',
    ms: clock.now() - started,
    blocked: true,
    detail: `${url}: ${how}`,
    verdict: `Blocked — cannot open a WebSocket to ${host} on TCP ${port} (a firewall or proxy may not allow WebSockets).`,
  });
  return withDeadline<StepResult>(
    clock,
    timeoutMs,
    () =>
      openedAt === null
        ? failed(`not open within ${seconds(timeoutMs)}`)
        : {
            status: 'passed',
            ms: openedAt - started,
            detail: `${url}: open in ${Math.round(openedAt - started)} ms; no answer to ping within ${seconds(timeoutMs)}`,
            verdict: 'Works — the socket opens, though the server was slow to answer.',
          },
    (done) => {
      const ws = new WebSocketImpl(url);
      ws.addEventListener('open', () => {
        openedAt = clock.now();
        ws.send(JSON.stringify({ type: 'ping', id: pingId }));
      });
      ws.addEventListener('message', (event: MessageEvent) => {
        let msg: unknown;
        try {
          msg = JSON.parse(String(event.data));
        } catch {
          return;
        }
        const m = msg as { type?: unknown; id?: unknown; code?: unknown };
        // A server answers the ping of a socket that has not joined with a refusal: an answer all the same.
        const answered = (m.type === 'pong' && m.id === pingId) || (m.type === 'error' && m.code === 'not-joined');
        if (!answered || openedAt === null) return;
        const rtt = clock.now() - openedAt;
        done({
          status: 'passed',
          ms: rtt,
          detail: `${url}: open in ${Math.round(openedAt - started)} ms; ping answered in ${Math.round(rtt)} ms`,
          verdict: `Works — the socket opens and answers in ${formatMs(rtt)}.`,
        });
      });
      ws.addEventListener('error', () => {
        if (openedAt === null) done(failed('the connection failed'));
      });
      ws.addEventListener('close', (event: CloseEvent) => {
        if (openedAt === null) done(failed(`closed before it opened (code ${event.code})`));
      });
      return () => {
        try {
          ws.close(1000, 'network check');
        } catch {
          // closing a socket that never opened
        }
      };
    },
    signal,
  );
}
