import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { SignalingHarness, TestSocket } from '../support/signalingHarness.js';

// What a restart of the signaling server does to the people in a call: a graceful stop reports
// nobody as gone, and a restarted server with the same secret and store refuses used room tokens.

let dir: string;
let storeFile: string;
const harnesses: SignalingHarness[] = [];
const start = async (overrides: Parameters<typeof SignalingHarness.start>[0] = {}) => {
  const h = await SignalingHarness.start({ ...overrides, roomToken: { replayStoreFile: storeFile, ...overrides.roomToken } });
  harnesses.push(h);
  return h;
};
const stop = async (h: SignalingHarness) => {
  harnesses.splice(harnesses.indexOf(h), 1);
  await h.close();
};
const socketUrl = (h: SignalingHarness) => `${h.baseUrl.replace('http', 'ws')}/v1/signal`;
const auditEvents = (h: SignalingHarness) =>
  h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.audit === true);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zr-hub-restart-'));
  storeFile = join(dir, 'state', 'room-tokens.log');
});
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signaling server restart', () => {
  it('on shutdown tells every member server-shutdown (1001) and nobody peer-left; the same call resumes its peer id', async () => {
    const h = await start();
    const alice = await h.connect('restart-room', 'alice', { clientId: 'call-alice-0123456789' });
    const bob = await h.connect('restart-room', 'bob', { clientId: 'call-bob-0123456789ab' });
    await alice.socket.next('peer-joined');

    await stop(h);
    for (const member of [alice, bob]) {
      expect(await member.socket.next('error')).toMatchObject({ code: 'server-shutdown', fatal: true });
      expect((await member.socket.closed).code).toBe(1001);
      expect(member.socket.pending().filter((m) => m.type === 'peer-left')).toEqual([]);
    }
    const events = auditEvents(h);
    expect(events.filter((e) => e.event === 'server.shutdown')).toEqual([
      expect.objectContaining({ connections: 2, rooms: 1, members: 2 }),
    ]);
    expect(events.filter((e) => e.event === 'session.left')).toEqual([]);

    // The restarted server (same secret): each call comes back under its old peer id, with fresh room tokens.
    const h2 = await start();
    const alice2 = await h2.connect('restart-room', 'alice', { clientId: 'call-alice-0123456789' });
    const bob2 = await h2.connect('restart-room', 'bob', { clientId: 'call-bob-0123456789ab' });
    expect(alice2.welcome.self.peerId).toBe(alice.welcome.self.peerId);
    expect(bob2.welcome.self.peerId).toBe(bob.welcome.self.peerId);
    expect(bob2.welcome.peers).toEqual([alice.welcome.self]);
    alice2.socket.close();
    bob2.socket.close();
  });

  it('on a drain fails /readyz and refuses new sockets first, then closes the sockets with server-shutdown (1001)', async () => {
    const h = await start({ cluster: { drainDelayMs: 2000 } });
    const alice = await h.connect('drain-first', 'alice');
    expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(200);
    const closing = h.app.close(2000);
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'draining' });
    await expect(TestSocket.open(socketUrl(h))).rejects.toMatchObject({ status: 503 });
    // The balancer has had its chance to notice before anyone is sent away.
    expect(alice.socket.pending()).toEqual([]);
    expect(await alice.socket.next('error')).toMatchObject({ code: 'server-shutdown', fatal: true });
    // Not a terminal code: the app reconnects at once (after at most its first jitter), through the balancer.
    expect((await alice.socket.closed).code).toBe(1001);
    await closing;
  });

  it('sends no peer-left for a socket that closes while the server drains', async () => {
    const h = await start({ shutdownGraceMs: 5000 });
    const alice = await h.connect('drain-room', 'alice');
    const bob = await h.connect('drain-room', 'bob');
    await alice.socket.next('peer-joined');
    // Bob's client does not answer the close handshake: the server waits for it while draining.
    (bob.socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const closing = h.app.close(5000);
    expect(await alice.socket.next('error')).toMatchObject({ code: 'server-shutdown' });
    // Bob's socket goes away while the server is still draining.
    bob.socket.ws.terminate();
    await closing;
    expect((await alice.socket.closed).code).toBe(1001);
    expect(alice.socket.pending().filter((m) => m.type === 'peer-left')).toEqual([]);
    expect(auditEvents(h).filter((e) => e.event === 'session.left')).toEqual([]);
  });

  it('refuses a room token used before a restart, and admits a fresh one', async () => {
    const h = await start();
    const used = await h.join('replay-room', 'alice');
    const first = await TestSocket.open(socketUrl(h));
    first.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: used.roomToken });
    await first.next('welcome');
    // The session ends before the restart: the token is still used up.
    first.send({ type: 'leave' });
    expect((await first.closed).code).toBe(1000);
    await stop(h);
    expect(statSync(storeFile).mode & 0o777).toBe(0o600);

    const h2 = await start();
    const again = await TestSocket.open(socketUrl(h2));
    again.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: used.roomToken });
    expect(await again.next('error')).toMatchObject({ code: 'token-replayed', fatal: true });
    expect((await again.closed).code).toBe(4409);
    expect(auditEvents(h2)).toContainEqual(expect.objectContaining({ event: 'room-token.rejected', reason: 'replayed' }));

    const fresh = await h2.connect('replay-room', 'alice');
    expect(fresh.welcome.room).toBe('replay-room');
    fresh.socket.close();
    expect(readFileSync(storeFile, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('without a store file remembers used tokens in memory only, and says so at start', async () => {
    const h = await SignalingHarness.start();
    harnesses.push(h);
    const warnings = h.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);
    expect(warnings.map((w) => w.msg)).toContainEqual(expect.stringMatching(/replayStoreFile is not set.*accepted again after/));
  });
});
