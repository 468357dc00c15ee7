/**
 * The signaling server as a deployment runs it (its own process, server/src/main.ts, a replay store
 * file): a crash (SIGKILL) right after a join still leaves that room token used, and a graceful stop
 * (SIGTERM) tells the members to reconnect without reporting anyone as gone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JoinResponse, PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { freePort } from '../../dev/coturn.js';
import { DEV_USERS, startDevIdp, type DevIdp } from '../../dev/idp.js';
import { startSignalingProcess, type SignalingProcess } from '../../dev/signalingProcess.js';
import { loginWithPassword } from '../support/idpLogin.js';
import { processConfig, TestSocket } from '../support/signalingHarness.js';

describe('signaling server process restarts', () => {
  let idp: DevIdp;
  let server: SignalingProcess;
  let dir: string;
  let base: string;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zr-hub-process-'));
    idp = await startDevIdp();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startSignalingProcess({
      config: processConfig(idp, port),
      dir,
      host: '127.0.0.1',
      port,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function joinRoom(room: string, username: 'alice' | 'bob'): Promise<JoinResponse> {
    let token = tokens.get(username);
    if (!token) {
      token = (await loginWithPassword(idp, DEV_USERS.find((u) => u.username === username)!)).accessToken;
      tokens.set(username, token);
    }
    const res = await fetch(`${base}/v1/rooms/${room}/join`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return JoinResponse.parse(await res.json());
  }

  async function enter(joined: JoinResponse, clientId?: string) {
    const socket = await TestSocket.open(joined.signalingUrl);
    socket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken, ...(clientId ? { clientId } : {}) });
    return { socket, welcome: await socket.next('welcome') };
  }

  it('after a crash, a room token used just before it is refused', async () => {
    const used = await joinRoom('crash-room', 'alice');
    const first = await enter(used);
    await server.restart(); // SIGKILL, then the same server again
    expect((await first.socket.closed).code).toBe(1006);
    const again = await TestSocket.open(used.signalingUrl);
    again.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: used.roomToken });
    expect(await again.next('error')).toMatchObject({ code: 'token-replayed', fatal: true });
    expect((await again.closed).code).toBe(4409);
  });

  it('on SIGTERM every member gets server-shutdown (1001) and no peer-left; each comes back under its peer id', async () => {
    const alice = await enter(await joinRoom('term-room', 'alice'), 'call-alice-term-000001');
    const bob = await enter(await joinRoom('term-room', 'bob'), 'call-bob-term-00000001');
    await alice.socket.next('peer-joined');
    await server.stop(10_000);
    for (const member of [alice, bob]) {
      expect(await member.socket.next('error')).toMatchObject({ code: 'server-shutdown', fatal: true });
      expect((await member.socket.closed).code).toBe(1001);
      expect(member.socket.pending().filter((m) => m.type === 'peer-left')).toEqual([]);
    }
    await server.restart();
    const alice2 = await enter(await joinRoom('term-room', 'alice'), 'call-alice-term-000001');
    expect(alice2.welcome.self.peerId).toBe(alice.welcome.self.peerId);
    alice2.socket.close();
  });
});
