import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuzzTarget } from '../support/fuzzTarget.js';
import { rawRequest } from '../support/rawHttp.js';

/**
 * Property-based fuzzing of the HTTP surface over raw TCP, against the server in its own process:
 * random and mutated request lines, targets, headers and bodies. Whatever arrives, the process
 * lives, no answer is a 5xx, no error-level line is logged, and a real client is served throughout.
 */

const ROUTES = ['/healthz', '/readyz', '/v1/client-config', '/v1/ice-servers', '/v1/rooms/fuzz-room/join', '/join/fuzz-room', '/v1/signal', '/metrics'];
const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'PRI', 'get', 'G E T', ''];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 x', 'http/1.1', ''];

const percent = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((n) => `%${n.toString(16).padStart(2, '0').toUpperCase()}`),
  fc.constantFrom('%', '%Z', '%ZZ', '%E0%A4%A', '%F0%9F%98', '%00', '%2F', '%25', '%C0%AF', '%u0041'),
);
const segment = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.stringMatching(/^[a-z0-9-]{1,70}$/),
  fc.array(fc.oneof(percent, fc.constantFrom('[', ']', '::', '..', '.', '@', ':', '?', '#', ';', '\\', '~', '\u00e9', '\u{1F600}', '\u0000', ' ')), { maxLength: 8 }).map((p) => p.join('')),
);
/** Mostly the first, sometimes the second: most inputs must get past Node's parser to reach ours. */
const usually = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>, weight = 6) =>
  fc.oneof({ arbitrary: common, weight }, { arbitrary: rare, weight: 1 });

const target = fc.oneof(
  { arbitrary: fc.constantFrom(...ROUTES, '//[', '//', '*', '/', 'http://[/v1/signal', 'http://127.0.0.1/healthz', '/join/', '/v1/rooms//join'), weight: 3 },
  {
    arbitrary: fc.tuple(fc.constantFrom('/v1/rooms/', '/join/', '/', '//', '/v1/', '/v1/signal'), segment, fc.constantFrom('', '/join', '/', '?x=1', '#f')).map((p) => p.join('')),
    weight: 4,
  },
  { arbitrary: fc.webPath(), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(...ROUTES), fc.integer({ min: 1, max: 7000 })).map(([r, n]) => r + 'a'.repeat(n)), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
);
const HOSTS = ['host: 127.0.0.1', 'host: [[::', 'host: a b', 'host: evil.example', 'host: ', 'host: 127.0.0.1:99999', 'host: \u00e9.example', 'host: xn--'];
const UPGRADE = ['upgrade: websocket', 'connection: Upgrade', 'sec-websocket-version: 13', 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ=='];
const headerLine = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTS), weight: 1 },
  { arbitrary: fc.constantFrom(...UPGRADE, 'connection: keep-alive, Upgrade', 'connection: close', 'sec-websocket-version: 99', 'sec-websocket-key: x', 'sec-websocket-extensions: permessage-deflate', 'sec-websocket-protocol: a, , b'), weight: 3 },
  { arbitrary: fc.constantFrom('origin: app://zerorange', 'origin: https://evil.example', 'origin: null', 'x-forwarded-for: 1.2.3.4, ::1'), weight: 2 },
  {
    arbitrary: fc.constantFrom('transfer-encoding: chunked', 'transfer-encoding: gzip, chunked', 'content-length: 0', 'content-length: -1', 'content-length: 99999999999999999999', 'content-length: 5', 'content-length: 1, 2', 'expect: 100-continue'),
    weight: 2,
  },
  { arbitrary: fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 400 })).map((t) => `authorization: Bearer ${t}`), weight: 2 },
  { arbitrary: fc.constantFrom('authorization: Basic Zm9vOmJhcg==', 'authorization: Bearer', 'authorization: Bearer a.b.c', 'authorization: Bearer eyJhbGciOiJub25lIn0.e30.'), weight: 2 },
  { arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/), fc.string({ maxLength: 100 })).map(([k, v]) => `${k}: ${v}`), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 1 },
);
/** A request as it would be sent, before mutation. */
const request = fc
  .record({
    method: usually(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'), fc.oneof(fc.constantFrom(...METHODS), fc.stringMatching(/^[A-Z]{1,10}$/))),
    target,
    version: usually(fc.constant('HTTP/1.1'), fc.constantFrom(...VERSIONS)),
    host: usually(fc.constant('host: 127.0.0.1'), fc.constantFrom(...HOSTS, '')),
    upgrade: usually(fc.constant(false), fc.constant(true), 2),
    headers: fc.array(headerLine, { maxLength: 8 }),
    body: usually(fc.constant(''), fc.oneof(fc.string({ maxLength: 200 }), fc.constant('0\r\n\r\n'), fc.constant('5\r\nhello\r\n0\r\n\r\n')), 3),
    /** Whether a body gets its correct content-length (else it is whatever the headers say). */
    framed: fc.boolean(),
  })
  .map(({ method, target: t, version, host, upgrade, headers, body, framed }) => {
    const length = framed && body ? [`content-length: ${Buffer.byteLength(body)}`] : [];
    const lines = [...(host ? [host] : []), ...(upgrade ? UPGRADE : []), ...length, ...headers];
    return Buffer.from(`${method} ${t} ${version}\r\n${lines.map((h) => `${h}\r\n`).join('')}\r\n${body}`, 'utf8');
  });

/** Byte-level mutations of a request: flips, deletions, insertions, truncation. */
const mutated = fc
  .tuple(request, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'delete', 'insert', 'cut')), { maxLength: 6 }))
  .map(([bytes, edits]) => {
    let b = Buffer.from(bytes);
    for (const [pos, value, op] of edits) {
      const i = b.length === 0 ? 0 : pos % b.length;
      if (op === 'flip' && b.length > 0) b[i] = value;
      else if (op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([value]), b.subarray(i)]);
      else if (op === 'cut') b = b.subarray(0, i);
    }
    return b;
  });

describe('fuzzing the HTTP surface', () => {
  let target: FuzzTarget;
  const tried = { requests: 0, legitimate: 0 };
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    target = await FuzzTarget.start();
  });
  afterAll(async () => {
    await target?.stop();
    const seen = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s || 'closed'}×${n}`).join(' ');
    console.log(`HTTP fuzzing: ${tried.requests} requests tried (statuses: ${seen}); a legitimate client was served ${tried.legitimate} times in between`);
  });

  const exercise = async (bytes: Buffer) => {
    tried.requests += 1;
    // Half-close after the request: an incomplete one is answered (or closed) at once instead of timing out.
    const res = await rawRequest(target.port, bytes, 10_000, { end: true }).catch((err: unknown) => {
      throw target.alive() ? err : new Error('the signaling server process exited');
    });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    expect(res.status, `answer to ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`).toBeLessThan(500);
    if (tried.requests % 100 === 0) {
      expect(target.alive()).toBe(true);
      await target.servesLegitimateClient(`legit-${tried.requests}`);
      tried.legitimate += 1;
    }
  };

  it('never dies, never answers 5xx, keeps serving: generated requests', async () => {
    await fc.assert(fc.asyncProperty(request, exercise), { numRuns: 6000, endOnFailure: true });
  });

  it('never dies, never answers 5xx, keeps serving: mutated requests', async () => {
    await fc.assert(fc.asyncProperty(mutated, exercise), { numRuns: 6000, endOnFailure: true });
  });

  it('is alive, served a legitimate client at the end, and logged no error for any of it', async () => {
    expect(target.alive()).toBe(true);
    await target.servesLegitimateClient('legit-end');
    tried.legitimate += 1;
    expect(target.errorLines()).toEqual([]);
  });
});
