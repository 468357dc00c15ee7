/** Starts the servers under test as processes of their own, and reads their memory and CPU from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startSignalingProcess } from '../../dev/signalingProcess.js';
import type { Endpoint } from './rawWs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  name: string;
  pid: number;
  endpoint: Endpoint;
  /** Runs a full garbage collection in the server (through its inspector), so RSS shows live memory. */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Every server under test is started with its inspector on a loopback port; nothing attaches except
 * for a moment to ask for a full collection before memory is read, the same for every server.
 */
const INSPECT = '--inspect=127.0.0.1:0';

function inspectorCollector(logFile: string): () => Promise<void> {
  return async () => {
    const url = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
    if (!url) throw new Error(`no inspector address in ${logFile}`);
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
      ws.on('message', (data) => {
        if ((JSON.parse(String(data)) as { id?: number }).id === 1) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
  };
}

function waitExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await waitExit(child);
  clearTimeout(timer);
}

const nodeArgs = (options?: string) => (options ? options.split(/\s+/).filter(Boolean) : []);

export interface ZeroRangeOptions {
  port: number;
  idp: { issuer: string; audience: string; clientId: string };
  tls?: { certFile: string; keyFile: string; ca: string };
  dir: string;
  logLevel: string;
  nodeOptions?: string;
  /** Several nodes of one deployment: rooms in Redis, shared secrets, a metrics port to read. */
  cluster?: { nodeId: string; redis: { url: string; password: string }; secrets: { room: string; turn: string }; metricsPort: number };
}

/** The signaling server from server/src/main.ts with default limits; its JSON logs go to a file, as in production. */
export async function startZeroRange(opts: ZeroRangeOptions): Promise<ServerProcess> {
  const config = {
    listen: { host: '127.0.0.1', port: opts.port },
    publicUrl: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${opts.port}`,
    ...(opts.tls ? { tls: { certFile: opts.tls.certFile, keyFile: opts.tls.keyFile } } : {}),
    idp: opts.idp,
    roomToken: { secret: opts.cluster?.secrets.room ?? randomBytes(32).toString('base64') },
    turn: { secrets: [opts.cluster?.secrets.turn ?? randomBytes(32).toString('base64')], host: '127.0.0.1' },
    logLevel: opts.logLevel,
    ...(opts.cluster
      ? { cluster: { nodeId: opts.cluster.nodeId, redis: opts.cluster.redis }, metrics: { host: '127.0.0.1', port: opts.cluster.metricsPort } }
      : {}),
  };
  const name = opts.cluster ? `zerorange-${opts.cluster.nodeId}` : opts.tls ? 'zerorange-tls' : 'zerorange';
  const logFile = join(opts.dir, `${name}.log`);
  const server = await startSignalingProcess({
    config,
    dir: opts.dir,
    host: '127.0.0.1',
    port: opts.port,
    nodeArgs: [INSPECT, ...nodeArgs(opts.nodeOptions)],
    output: openSync(logFile, 'a'),
    env: { NODE_ENV: 'production' },
    ...(opts.tls ? { ca: opts.tls.ca } : {}),
  }).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; see ${logFile}`);
  });
  return {
    name: opts.tls ? 'ZeroRange (TLS)' : 'ZeroRange',
    pid: server.pid,
    endpoint: { host: '127.0.0.1', port: opts.port, ...(opts.tls ? { ca: opts.tls.ca, servername: 'localhost' } : {}) },
    collectGarbage: inspectorCollector(logFile),
    // Ten thousand sockets take a moment to close gracefully.
    stop: () => server.stop(15_000),
  };
}

export function startPeerJs(port: number, dir: string, nodeOptions?: string): Promise<ServerProcess> {
  return startScript('PeerJS server', 'peerjsServer.ts', port, dir, nodeOptions);
}

/** The yardstick: the same two-connection join with nothing behind it (see referenceServer.ts). */
export function startReference(port: number, dir: string, nodeOptions?: string): Promise<ServerProcess> {
  return startScript('minimal http + ws (ceiling)', 'referenceServer.ts', port, dir, nodeOptions);
}

async function startScript(name: string, script: string, port: number, dir: string, nodeOptions?: string): Promise<ServerProcess> {
  const logFile = join(dir, `${script}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [INSPECT, ...nodeArgs(nodeOptions), '--import', 'tsx', join(root, 'bench/signal', script), String(port)], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', log, log, 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${name} exited at start (code ${code}); see ${logFile}`)));
  });
  child.disconnect();
  return { name, pid: child.pid!, endpoint: { host: '127.0.0.1', port }, collectGarbage: inspectorCollector(logFile), stop: () => stopChild(child) };
}

/** Resident memory in bytes. */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user + system) in ms. */
export function cpuMsOf(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs = 200): { stop(): { t: number; rss: number }[] } {
  const samples: { t: number; rss: number }[] = [];
  const t0 = Date.now();
  const take = () => {
    try {
      samples.push({ t: Date.now() - t0, rss: rssOf(pid) });
    } catch {
      // exited
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}
