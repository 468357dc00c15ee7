/**
 * `npm run stack` inside a test network's server namespace: IdP, signaling and coturn (UDP/TCP 3478,
 * TLS 443) on 10.77.0.1, reachable from the client namespaces and, through the root veth, from the
 * test process. coturn may relay to the whole test subnet (its template denies 10/8 otherwise).
 */
import { processAlive } from '../../dev/stackLock.js';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StackInfo } from '../../dev/stack.js';
import { stackControl } from '../../dev/stackControl.js';
import type { TestNetwork } from './netns.js';

const root = path.resolve(import.meta.dirname, '../..');

export const TEST_ORIGIN = 'http://zerorange.test';
export const TEST_PEER_RANGE = '10.77.0.0-10.77.0.255';

export interface StackInNamespace {
  info: StackInfo;
  /** Everything the stack process printed so far. */
  output(): string;
  /** SIGTERM, SIGKILL after `deadlineMs`; resolves once the process has exited and its folders are gone. Idempotent. */
  stop(deadlineMs?: number): Promise<void>;
  /**
   * Stops the signaling server and lets the stack start it again on the same port: SIGKILL (the
   * default) like a crash, SIGTERM like a graceful restart by systemd or a rolling deploy.
   */
  restartSignaling(signal?: 'SIGTERM' | 'SIGKILL'): void;
  /**
   * Stops coturn (SIGTERM; SIGKILL as a crash would) and starts it again with the same configuration and
   * ports; resolves once it answers again. info.turn.pid and logFile are updated.
   */
  restartTurn(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** The IdP stops listening (open connections dropped), or listens again on the same port. */
  setIdpUp(up: boolean): Promise<void>;
}

export interface StackInNamespaceOptions {
  readyTimeoutMs?: number;
  /** TURN credential lifetime in seconds (`--turn-ttl-seconds`; below 600 only in a development stack). */
  turnTtlSeconds?: number;
}

const WORK_PREFIX = 'zr-netns-stack-';
/** Work folders (state, and the development CA's private key) of stacks not yet stopped. */
const liveWork = new Set<string>();


/** Removes work folders of test processes that died before stopping their stack (the pid is in the name). */
function sweepLeftoverWork(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${WORK_PREFIX}(\\d+)-`).exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
  }
}

let exitHookInstalled = false;

export async function startStackIn(net: TestNetwork, opts: StackInNamespaceOptions = {}): Promise<StackInNamespace> {
  sweepLeftoverWork();
  const work = await mkdtemp(path.join(tmpdir(), `${WORK_PREFIX}${process.pid}-`));
  liveWork.add(work);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // The process itself is ended by the network's exit hook (it runs in the server namespace).
    process.on('exit', () => liveWork.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  }
  const stateDir = path.join(work, 'state');
  // A file, not a pipe: a stack outliving a killed test process must still be able to print while it
  // shuts down on SIGTERM (writing to a broken pipe would crash it before it removes its files).
  const logFile = path.join(work, 'stack.log');
  // A path, not a port: reachable from this namespace while the stack runs in another.
  const controlSocket = path.join(work, 'control.sock');
  const logFd = openSync(logFile, 'a');
  const child: ChildProcess = net.spawnIn(
    net.serverNs,
    process.execPath,
    [
      '--import', 'tsx', 'dev/stack.ts',
      '--host', net.serverIp,
      '--idp-port', '0',
      '--signaling-port', '0',
      '--turn-port', '3478',
      '--turns-port', '443',
      '--allowed-peer-ip', TEST_PEER_RANGE,
      '--allowed-origin', TEST_ORIGIN,
      '--state-dir', stateDir,
      '--data-dir', path.join(work, 'data'),
      '--control-socket', controlSocket,
      ...(opts.turnTtlSeconds ? ['--turn-ttl-seconds', String(opts.turnTtlSeconds)] : []),
    ],
    { cwd: root, stdio: ['ignore', logFd, logFd], env: { ...process.env, ZR_LOG_LEVEL: process.env.ZR_LOG_LEVEL ?? 'warn' } },
  );
  closeSync(logFd);
  const output = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let stopped: Promise<void> | undefined;
  const stop = (deadlineMs = 5000) =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
        await exited;
        clearTimeout(timer);
      }
      await rm(work, { recursive: true, force: true });
      liveWork.delete(work);
    })());

  try {
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = opts.readyTimeoutMs ?? 30_000;
      const watcher = watch(logFile);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        watcher.close();
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (output().includes('Ready.')) finish();
      };
      const timer = setTimeout(() => finish(new Error(`the stack was not ready within ${timeoutMs} ms`)), timeoutMs);
      watcher.on('change', check);
      watcher.on('error', finish);
      child.once('error', finish);
      void exited.then(() => finish(new Error(`the stack exited (${child.signalCode ?? child.exitCode}) before it was ready`)));
      check();
    });
    const info = JSON.parse(await readFile(path.join(stateDir, 'stack.json'), 'utf8')) as StackInfo;
    if (!info.turn.enabled) throw new Error(`the stack runs without TURN: ${info.turn.reason}`);
    // stop() signals child.pid: that must be the stack itself, not an `ip` left in between.
    if (info.pid !== child.pid) throw new Error(`stack.json names pid ${info.pid}, the spawned process is ${child.pid}`);
    if (info.turn.tlsPort !== 443) throw new Error(`TURN over TLS is on ${info.turn.tlsPort}, not 443`);
    // Namespaces share the PID space: the stack's pid from stack.json is signalled directly.
    const restartSignaling = (signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL') => process.kill(info.pid, signal === 'SIGKILL' ? 'SIGUSR1' : 'SIGUSR2');
    const readInfo = async () => Object.assign(info, JSON.parse(await readFile(path.join(stateDir, 'stack.json'), 'utf8')) as StackInfo);
    const restartTurn = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
      await stackControl(controlSocket, { op: 'turn-restart', signal });
      await readInfo();
    };
    const setIdpUp = (up: boolean) => stackControl(controlSocket, { op: 'idp', up });
    return { info, output, stop, restartSignaling, restartTurn, setIdpUp };
  } catch (err) {
    const out = output();
    await stop(1000);
    throw new Error(`${(err as Error).message}\n--- stack output ---\n${out}`, { cause: err });
  }
}
