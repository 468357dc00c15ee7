import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JoinResponse } from '../../shared/protocol/index.js';
import { freePort } from '../../dev/coturn.js';
import { DEV_USERS, startDevIdp } from '../../dev/idp.js';
import { startSignalingProcess } from '../../dev/signalingProcess.js';
import { loginWithPassword } from '../support/idpLogin.js';
import { TEST_TURN_SECRET } from '../support/signalingHarness.js';
import { SignalingNodes } from '../support/signalingNodes.js';

const K1 = 'first-room-token-key-0123456789abcdefghij';
const K2 = 'second-room-token-key-0123456789abcdefghi';
const PEER_ID_SECRET = 'peer-id-secret-0123456789abcdefghijklmnop';

/**
 * A rolling rotation of the room-token signing key on two nodes while people join all the time,
 * each token issued by one node and used on the other.
 */
describe('room-token key rotation across two nodes', () => {
  let dir: string;
  let files: string[];
  let cluster: SignalingNodes;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zr-rotation-'));
    files = [join(dir, 'keys-a'), join(dir, 'keys-b')];
    for (const f of files) writeFileSync(f, `k1 ${K1}\n`, { mode: 0o600 });
    const node = (keysFile: string) => ({
      roomToken: { keysFile, peerIdSecret: PEER_ID_SECRET },
      limits: { joinsPerMinute: 100_000, joinBurst: 10_000 },
    });
    cluster = await SignalingNodes.start(files.map(node));
  });
  afterAll(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The SIGHUP path: node i rereads its keys file. */
  function rotate(i: number, text: string): void {
    writeFileSync(files[i]!, text);
    expect(cluster.node(i).app.reloadRoomTokenKeys('test')).toMatchObject({ ok: true });
  }

  it('loses no join through add (verify-only), sign, remove; a token of the removed key is refused', async () => {
    const failures: string[] = [];
    const kids = new Map<string, number>();
    let joins = 0;
    let running = true;

    const worker = async (w: number) => {
      for (let n = 0; running; n++) {
        const issuer = (n + w) % 2;
        try {
          const joined = await cluster.join(issuer, `rotation-${w}`, w === 0 ? 'alice' : 'bob');
          const kid = String(decodeProtectedHeader(joined.roomToken).kid);
          const { socket, welcome, error } = await cluster.socketJoin(1 - issuer, joined.roomToken);
          socket.close();
          if (!welcome) failures.push(`node ${1 - issuer} refused a ${kid} token: ${JSON.stringify(error)}`);
          kids.set(kid, (kids.get(kid) ?? 0) + 1);
        } catch (err) {
          failures.push(`join ${n} of worker ${w}: ${(err as Error).message}`);
        }
        joins += 1;
      }
    };
    /** Lets at least `count` more joins happen in the current state. */
    const joinsMore = async (count: number) => {
      const target = joins + count;
      await expect.poll(() => joins, { timeout: 30_000 }).toBeGreaterThanOrEqual(target);
    };
    // A call that reconnects after the rotation, to the other node, keeps its peer id.
    const clientId = 'rotation-client-0123456789';
    const call = await cluster.socketJoin(0, (await cluster.join(0, 'rotation-call', 'carol')).roomToken, clientId);
    const peerId = call.welcome!.self.peerId;
    call.socket.close();

    const workers = [worker(0), worker(1)];
    let held: JoinResponse | undefined;
    try {
      await joinsMore(6);
      // Issued with k1 and kept unused until k1 is gone.
      held = await cluster.join(0, 'rotation-held', 'carol');

      // (a) Every node learns k2 before any node signs with it.
      rotate(0, `k2 ${K2} verify-only\nk1 ${K1}\n`);
      await joinsMore(6);
      rotate(1, `k2 ${K2} verify-only\nk1 ${K1}\n`);
      await joinsMore(6);
      // (b) Node by node, k2 signs; the other node already verifies it.
      rotate(0, `k2 ${K2}\nk1 ${K1}\n`);
      await joinsMore(6);
      rotate(1, `k2 ${K2}\nk1 ${K1}\n`);
      // (c) k1 goes once its tokens are spent (in production: ttlSeconds after step b).
      await joinsMore(6);
      rotate(0, `k2 ${K2}\n`);
      await joinsMore(6);
      rotate(1, `k2 ${K2}\n`);
      await joinsMore(6);
    } finally {
      running = false;
      await Promise.all(workers);
    }

    expect(failures).toEqual([]);
    expect(kids.get('k1')).toBeGreaterThan(0);
    expect(kids.get('k2')).toBeGreaterThan(0);
    expect(decodeProtectedHeader(held.roomToken).kid).toBe('k1');
    const back = await cluster.socketJoin(1, (await cluster.join(0, 'rotation-call', 'carol')).roomToken, clientId);
    expect(back.welcome!.self.peerId).toBe(peerId);
    back.socket.close();
    for (const i of [0, 1]) {
      const { socket, error, closeCode } = await cluster.socketJoin(i, held.roomToken);
      socket.close();
      expect(error).toMatchObject({ code: 'unauthorized', message: 'room token is invalid' });
      expect(closeCode).toBe(4401);
    }
  });
});

describe('room-token keys in the server process', () => {
  it('rereads the keys file on SIGHUP, and keeps the current keys when the file is bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zr-sighup-'));
    const idp = await startDevIdp();
    const logFile = join(dir, 'server.log');
    const out = openSync(logFile, 'w');
    const keysFile = join(dir, 'keys');
    const first = `k1 ${K1}\n`;
    const second = `k2 ${K2}\nk1 ${K1}\n`;
    /** Same size, same inode, same mtime: the server's file watch cannot see it, only SIGHUP loads it. */
    const rewriteUnseen = (text: string) => {
      writeFileSync(keysFile, text.padEnd(second.length - 1, '#') + '\n', { mode: 0o600 });
      utimesSync(keysFile, 1_700_000_000, 1_700_000_000);
    };
    rewriteUnseen(first);
    const port = await freePort();
    const server = await startSignalingProcess({
      config: {
        development: true,
        listen: { host: '127.0.0.1', port },
        idp: { issuer: idp.issuer, audience: idp.audience, clientId: idp.clientId },
        roomToken: { keysFile, peerIdSecret: PEER_ID_SECRET },
        turn: { secrets: [TEST_TURN_SECRET], host: '127.0.0.1' },
        logLevel: 'info',
      },
      dir,
      host: '127.0.0.1',
      port,
      output: out,
    });
    try {
      const { accessToken } = await loginWithPassword(idp, DEV_USERS[0]!);
      const signer = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/rooms/sighup/join`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
        return decodeProtectedHeader(((await res.json()) as JoinResponse).roomToken).kid;
      };
      const logged = (msg: string) => readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes(msg)).length;
      expect(await signer()).toBe('k1');

      rewriteUnseen(second.slice(0, -1));
      process.kill(server.pid, 'SIGHUP');
      await expect.poll(() => logged('"trigger":"SIGHUP"')).toBe(1);
      expect(logged('room-token keys reloaded')).toBe(1);
      expect(await signer()).toBe('k2');

      rewriteUnseen('k3 short\n');
      process.kill(server.pid, 'SIGHUP');
      await expect.poll(() => logged('"trigger":"SIGHUP"')).toBe(2);
      expect(logged('keeping the current keys')).toBe(1);
      expect(await signer()).toBe('k2');
      expect(readFileSync(logFile, 'utf8')).not.toContain(K2);
    } finally {
      await server.stop();
      closeSync(out);
      await idp.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
