/**
 * `npm run stack` as a user runs it: a separate process that brings up the IdP, the signaling
 * server and coturn, works end to end, refuses a second start, and on SIGTERM leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientConfig, JoinResponse, PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { canBindTcp, turnserverPath } from '../../dev/coturn.js';
import type { StackInfo } from '../../dev/stack.js';
import { loginWithPassword } from '../support/idpLogin.js';
import { TestSocket } from '../support/signalingHarness.js';
import { TurnClient } from '../support/stunClient.js';

const root = path.resolve(import.meta.dirname, '../..');

function runStack(stateDir: string, dataDir: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'dev/stack.ts', '--state-dir', stateDir, '--data-dir', dataDir, '--idp-port', '0', '--signaling-port', '0', '--turn-port', '0', '--turns-port', '0'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function readyLine(child: ChildProcess, output: () => string, exited: Promise<number | null>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (output().includes('Ready.')) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`stack exited (${code}) before it was ready:\n${output()}`)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run stack', () => {
  let work: string;
  let stack: ReturnType<typeof runStack> | undefined;
  let info: StackInfo;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'zr-stack-test-'));
    stack = runStack(path.join(work, 'state'), path.join(work, 'data'));
    await readyLine(stack.child, stack.output, stack.exited);
    info = JSON.parse(await readFile(path.join(work, 'state', 'stack.json'), 'utf8')) as StackInfo;
  }, 60_000);

  afterAll(async () => {
    if (stack && stack.child.exitCode === null) {
      stack.child.kill('SIGKILL');
      await stack.exited;
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('publishes where everything is', async () => {
    expect(info.pid).toBe(stack!.child.pid);
    const config = ClientConfig.parse(await (await fetch(info.signaling.clientConfigUrl)).json());
    expect(config.issuer).toBe(info.idp.issuer);
    expect(info.idp.users.map((u) => u.username)).toEqual(['alice', 'bob', 'carol']);
    expect(stack!.output()).toContain('alice / alice-dev-password');
    if (turnserverPath()) expect(info.turn.enabled).toBe(true);
    expect((await fetch(info.signaling.metricsUrl)).status).toBe(200);
    expect((await fetch(`${info.signaling.url}/metrics`)).status).toBe(404);
  });

  it('works end to end: sign-in, join, signaling, and TURN over UDP, TCP and TLS', async () => {
    const alice = info.idp.users[0]!;
    const { accessToken } = await loginWithPassword(info.idp, alice);
    const res = await fetch(`${info.signaling.url}/v1/rooms/stack-check/join`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    const joined = JoinResponse.parse(await res.json());
    const socket = await TestSocket.open(joined.signalingUrl);
    socket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken });
    expect((await socket.next('welcome')).self.name).toBe(alice.name);
    socket.close();

    if (!info.turn.enabled) return;
    const turn = joined.iceServers.find((s) => s.username)!;
    const urls = Array.isArray(turn.urls) ? turn.urls : [turn.urls];
    expect(urls).toEqual([
      `turn:${info.host}:${info.turn.port}?transport=udp`,
      `turn:${info.host}:${info.turn.port}?transport=tcp`,
      `turns:${info.host}:${info.turn.tlsPort}?transport=tcp`,
    ]);
    const ca = await readFile(info.turn.caCertFile);
    for (const transport of ['udp', 'tcp', 'tls'] as const) {
      const client = await TurnClient.connect({ transport, host: info.host, port: transport === 'tls' ? info.turn.tlsPort : info.turn.port, ca });
      try {
        const result = await client.allocate({ username: turn.username!, password: turn.credential! });
        expect(result, transport).toMatchObject({ ok: true });
      } finally {
        await client.close();
      }
    }
  });

  it('refuses a second start in the same folder instead of fighting over ports', async () => {
    const second = runStack(path.join(work, 'state'), path.join(work, 'data'));
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/already running \(pid \d+/);
    expect(isAlive(stack!.child.pid!)).toBe(true);
  });

  it('on SIGUSR1 kills the signaling server like a crash and starts it again on the same port', async () => {
    const before = info.signaling.pid;
    const restarted = new Promise<void>((resolve) => {
      const onData = () => {
        if (stack!.output().includes('signaling server restarted')) {
          stack!.child.stdout!.off('data', onData);
          resolve();
        }
      };
      stack!.child.stdout!.on('data', onData);
    });
    stack!.child.kill('SIGUSR1');
    await restarted;
    expect(isAlive(before)).toBe(false);
    info = JSON.parse(await readFile(path.join(work, 'state', 'stack.json'), 'utf8')) as StackInfo;
    expect(info.signaling.pid).not.toBe(before);
    expect((await fetch(info.signaling.clientConfigUrl)).status).toBe(200);
  });

  it('stops everything on SIGTERM: no process, port, lock or file left', async () => {
    const ports = [Number(new URL(info.signaling.url).port), Number(new URL(info.signaling.metricsUrl).port), Number(new URL(info.idp.issuer).port)];
    const turnPid = info.turn.enabled ? info.turn.pid : undefined;
    const turnDir = info.turn.enabled ? path.dirname(info.turn.logFile) : undefined;
    if (info.turn.enabled) ports.push(info.turn.port, info.turn.tlsPort);

    stack!.child.kill('SIGTERM');
    expect(await stack!.exited).toBe(0);
    expect(isAlive(info.signaling.pid)).toBe(false);
    if (turnPid) expect(isAlive(turnPid)).toBe(false);
    if (turnDir) expect(existsSync(turnDir)).toBe(false);
    for (const port of ports) expect(await canBindTcp(port, info.host), `port ${port}`).toBe(true);
    expect(existsSync(path.join(work, 'state', 'stack.json'))).toBe(false);
    expect(existsSync(path.join(work, 'state', 'stack.lock'))).toBe(false);
    // The development CA stays for the next run; the leaf certificate went with the stack.
    expect(existsSync(path.join(work, 'data', 'ca', 'dev-ca.pem'))).toBe(true);
  });
});
