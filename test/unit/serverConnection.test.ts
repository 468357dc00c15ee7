import { describe, expect, it, vi } from 'vitest';
import { errorFromResponse, ServerConnection, type AccessTokens } from '../../electron/main/ServerConnection.js';
import type { ClientConfig } from '../../shared/protocol/index.js';
import { roomIdRules } from '../../shared/protocol/rooms.js';

const ORIGIN = 'https://calls.example.org';
const CONFIG: ClientConfig = {
  issuer: 'https://id.example.org',
  clientId: 'zerorange-desktop',
  scopes: ['openid'],
  audience: 'https://calls.example.org',
  signalingUrl: 'wss://calls.example.org/v1/signal',
  roomId: roomIdRules,
  protocolVersion: 1,
};

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** A server that answers client-config, then the given answers to POSTs in turn, recording the tokens it saw. */
function fakeServer(...answers: Response[]) {
  const tokens: string[] = [];
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    if (String(url) === `${ORIGIN}/v1/client-config`) return json(200, CONFIG);
    tokens.push(new Headers(init?.headers).get('authorization') ?? '');
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next;
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, tokens, posts: () => tokens.length };
}

function tokenSource(): AccessTokens & { refreshed: string[] } {
  let current = 'token-1';
  const refreshed: string[] = [];
  return {
    refreshed,
    getAccessToken: async () => current,
    handleUnauthorized: async (rejected) => {
      refreshed.push(rejected);
      current = `token-${refreshed.length + 1}`;
      return current;
    },
  };
}

describe('ServerConnection.connect', () => {
  it('reads the client configuration of a ZeroRange server', async () => {
    const server = fakeServer();
    const connection = await ServerConnection.connect(ORIGIN, { fetch: server.fetch });
    expect(connection.origin).toBe(ORIGIN);
    expect(connection.config.clientId).toBe('zerorange-desktop');
  });

  it('says whether the server was unreachable or is not a ZeroRange server', async () => {
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(ServerConnection.connect(ORIGIN, { fetch: down })).rejects.toMatchObject({ code: 'server-unreachable' });
    const notFound = (async () => new Response('nope', { status: 404 })) as unknown as typeof fetch;
    await expect(ServerConnection.connect(ORIGIN, { fetch: notFound })).rejects.toMatchObject({ code: 'server-error', message: expect.stringMatching(/answered 404/) });
    const other = (async () => json(200, { hello: 'world' })) as unknown as typeof fetch;
    await expect(ServerConnection.connect(ORIGIN, { fetch: other })).rejects.toMatchObject({ code: 'server-error', message: expect.stringMatching(/client configuration/) });
  });
});

describe('ServerConnection.post', () => {
  it('sends the access token and returns the answer', async () => {
    const server = fakeServer(json(200, { fine: true }));
    const connection = await ServerConnection.connect(ORIGIN, { fetch: server.fetch });
    const tokens = tokenSource();
    expect(await connection.post('/v1/ice-servers', tokens)).toEqual({ fine: true });
    expect(server.tokens).toEqual(['Bearer token-1']);
    expect(tokens.refreshed).toEqual([]);
  });

  it('after a 401 refreshes the token once and retries with the new one', async () => {
    const server = fakeServer(json(401, errorBody('unauthorized', 'token expired')), json(200, { fine: true }));
    const connection = await ServerConnection.connect(ORIGIN, { fetch: server.fetch });
    const tokens = tokenSource();
    expect(await connection.post('/v1/rooms/abc/join', tokens)).toEqual({ fine: true });
    expect(tokens.refreshed).toEqual(['token-1']); // the rejected token is named, so a concurrent refresh is not repeated
    expect(server.tokens).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('a second 401 asks for a new sign-in, and does not try again', async () => {
    const server = fakeServer(json(401, errorBody('unauthorized', 'token expired')), json(401, errorBody('unauthorized', 'wrong audience')), json(200, {}));
    const connection = await ServerConnection.connect(ORIGIN, { fetch: server.fetch });
    const tokens = tokenSource();
    await expect(connection.post('/v1/rooms/abc/join', tokens)).rejects.toMatchObject({ code: 'not-signed-in', message: expect.stringMatching(/sign in again/) });
    expect(server.posts()).toBe(2);
    expect(tokens.refreshed).toHaveLength(1);
  });

  it('passes on that the refresh itself failed (signed out), without a second request', async () => {
    const server = fakeServer(json(401, errorBody('unauthorized', 'revoked')));
    const connection = await ServerConnection.connect(ORIGIN, { fetch: server.fetch });
    const signedOut = Object.assign(new Error('sign in again'), { code: 'not-signed-in' });
    const tokens: AccessTokens = { getAccessToken: async () => 'token-1', handleUnauthorized: async () => Promise.reject(signedOut) };
    await expect(connection.post('/v1/ice-servers', tokens)).rejects.toBe(signedOut);
    expect(server.posts()).toBe(1);
  });

  it('maps a refusal by the server to an error code and keeps its message', async () => {
    const server = fakeServer(json(409, errorBody('room-full', 'the room is full (8 people)')));
    const connection = await ServerConnection.connect(ORIGIN, { fetch: server.fetch });
    await expect(connection.post('/v1/rooms/abc/join', tokenSource())).rejects.toMatchObject({ code: 'room-full', message: 'the room is full (8 people)' });
  });

  it('says the server is unreachable when the request fails', async () => {
    const server = fakeServer();
    const connection = await ServerConnection.connect(ORIGIN, { fetch: server.fetch });
    await expect(connection.post('/v1/ice-servers', tokenSource())).rejects.toMatchObject({ code: 'server-unreachable' });
  });
});

describe('errorFromResponse', () => {
  it.each([
    // The server's code wins over what its status alone would say.
    [400, 'bad-request', 'invalid-argument'],
    [413, 'bad-request', 'invalid-argument'],
    [403, 'origin-not-allowed', 'forbidden'],
    [429, 'too-many-connections', 'rate-limited'],
    [503, 'server-shutdown', 'server-unreachable'],
    [503, 'internal', 'server-error'],
    [503, 'service-unavailable', 'service-unavailable'],
    [404, 'invalid-room', 'invalid-room'],
    [401, 'unauthorized', 'not-signed-in'],
  ])('%i with the server code %s → %s', (status, code, expected) => {
    const error = errorFromResponse(status, errorBody(code, 'what the server said'));
    expect(error).toMatchObject({ code: expected, message: 'what the server said' });
  });

  it.each([
    // No code, or one this app does not know (a newer server, a proxy): the status decides.
    [400, null, 'invalid-room'],
    [401, { error: { code: 'token-from-the-future', message: 'new kind of refusal' } }, 'not-signed-in'],
    [403, { error: { code: 'constructor', message: 'x' } }, 'forbidden'],
    [409, { error: { message: 'full' } }, 'room-full'],
    [429, 'Too Many Requests', 'rate-limited'],
    [502, '<html>Bad Gateway</html>', 'server-error'],
    [503, '<html>Service Unavailable</html>', 'service-unavailable'],
    [418, {}, 'server-error'],
  ])('%i with %j → %s by its status', (status, body, expected) => {
    expect(errorFromResponse(status, body).code).toBe(expected);
  });

  it('says the status when the server gave no message', () => {
    expect(errorFromResponse(502, null).message).toBe('the server answered 502');
    expect(errorFromResponse(409, { error: { code: 'room-full', message: 'the room is full' } }).message).toBe('the room is full');
  });
});
