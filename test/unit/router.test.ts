import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, type Identity } from '../../server/src/identity.js';
import { createMetrics } from '../../server/src/metrics.js';
import { HttpError, sendJson } from '../../server/src/http/respond.js';
import { createRequestHandler, exact, type AuthenticatedRoute, type Route } from '../../server/src/http/router.js';

// The router's shared pre-handler: authenticated routes get an identity or never run; public ones
// are never asked for one.

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(routes: Route[], authenticate: (req: http.IncomingMessage, ip: string, onRejected: (reason: string) => void) => Promise<Identity>) {
  const server = http.createServer(createRequestHandler(routes, { log: pino({ level: 'silent' }), metrics: createMetrics(), clientIp: () => '192.0.2.7', authenticate }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return (path: string, method = 'GET', headers: Record<string, string> = {}) => fetch(base + path, { method, headers });
}

describe('router: authentication as a shared pre-handler', () => {
  const ran: string[] = [];
  const rejected: string[] = [];
  const routes: Route[] = [
    { name: 'open', method: 'GET', match: exact('/open'), handle: ({ res }) => (ran.push('open'), sendJson(res, 200, { ok: true })) },
    {
      name: 'private',
      method: 'POST',
      match: exact('/private'),
      auth: { onRejected: (reason) => rejected.push(reason) },
      handle: ({ res, identity, ip }) => (ran.push('private'), sendJson(res, 200, { sub: identity.sub, ip })),
    } satisfies AuthenticatedRoute,
  ];
  const authenticate = async (req: http.IncomingMessage, _ip: string, onRejected: (reason: string) => void): Promise<Identity> => {
    if (req.headers.authorization === 'Bearer good') return { sub: 'alice', name: 'Alice' } as Identity;
    const err = new AuthError('expired', 'the token has expired');
    onRejected(err.reason);
    throw new HttpError(401, 'unauthorized', err.message);
  };

  it('hands the identity and the client address to an authenticated route', async () => {
    const call = await serve(routes, authenticate);
    const res = await call('/private', 'POST', { authorization: 'Bearer good' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'alice', ip: '192.0.2.7' });
  });

  it('never runs an authenticated route whose token is refused, and tells the route why', async () => {
    ran.length = 0;
    rejected.length = 0;
    const call = await serve(routes, authenticate);
    const res = await call('/private', 'POST', { authorization: 'Bearer stale' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect(ran).toEqual([]);
    expect(rejected).toEqual(['expired']);
  });

  it('asks nothing of a public route', async () => {
    ran.length = 0;
    let asked = 0;
    const call = await serve(routes, async () => {
      asked += 1;
      throw new Error('not for public routes');
    });
    expect((await call('/open')).status).toBe(200);
    expect(asked).toBe(0);
    expect(ran).toEqual(['open']);
  });
});
