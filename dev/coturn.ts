import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CoturnProcess {
  pid: number;
  /** Folder holding the config, log, pid file and userdb; removed by stop(). */
  dir: string;
  /** coturn's stdout and stderr. */
  logFile: string;
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after the deadline; resolves once the process has exited and its files are gone. Idempotent. */
  stop(deadlineMs?: number): Promise<void>;
  /** SIGUSR2: coturn re-reads its TLS certificates. */
  reloadCertificates(): void;
}

export class CoturnStartError extends Error {
  constructor(
    message: string,
    /** True when coturn could not bind its ports (a caller may retry with others). */
    readonly portInUse = false,
  ) {
    super(message);
    this.name = 'CoturnStartError';
  }
}

export function turnserverPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v turnserver'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : null;
}

/** A port on `host` free for both TCP and UDP (coturn binds both on its listening port). */
export async function freePort(host = '127.0.0.1', exclude: number[] = []): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    if (!exclude.includes(port) && (await canBindUdp(port, host))) return port;
  }
  throw new Error(`no port free for both TCP and UDP on ${host}`);
}

function canBindUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/** Whether this process may bind a TCP port (443 needs root or CAP_NET_BIND_SERVICE) and it is free. */
export function canBindTcp(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** A STUN Binding request over UDP: true once coturn answers anything. */
function stunAnswers(host: string, port: number, timeoutMs = 200): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('message', () => done(true));
    sock.once('error', () => done(false));
    sock.send(request, port, host);
  });
}

/**
 * The configuration coturn is started with: the given one with its log, pid file and user database
 * moved into `dir` (out of /var). Nothing else changes: the relay policy is exactly the caller's.
 */
export function withProcessFiles(config: string, dir: string): string {
  return config
    .replace(/^\s*(log-file|pidfile|syslog|no-stdout-log|userdb)\b.*$/gm, '')
    .concat(`\n# Process files, kept out of /var\nlog-file=stdout\npidfile=${join(dir, 'turnserver.pid')}\nuserdb=${join(dir, 'turndb')}\n`);
}

/** Running turnservers, killed if this process exits without stopping them. */
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function track(child: ChildProcess, dir: string): void {
  live.set(child, dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const [c, d] of live) {
      c.kill('SIGKILL');
      rmSync(d, { recursive: true, force: true });
    }
    live.clear();
  };
  // 'exit' handlers must be synchronous, hence SIGKILL.
  process.once('exit', killAll);
}

/**
 * Runs coturn with the given configuration (log-file, pidfile and userdb are placed in a private
 * folder here) and resolves once it answers STUN over UDP and accepts connections on every TCP
 * port. coturn keeps running through unknown options, unusable certificates and ports in use;
 * those are read from its log and turned into errors here. The caller must stop() the process.
 */
export async function startCoturn(opts: {
  config: string;
  host: string;
  udpPort: number;
  tcpPorts: number[];
  /** Expect a TLS listener (fail fast when coturn cannot start TLS). */
  tls?: boolean;
  startTimeoutMs?: number;
}): Promise<CoturnProcess> {
  const bin = turnserverPath();
  if (!bin) throw new CoturnStartError('turnserver (coturn) is not installed: apt-get install coturn');
  const dir = mkdtempSync(join(tmpdir(), 'zerorange-coturn-'));
  const logFile = join(dir, 'turnserver.log');
  const confFile = join(dir, 'turnserver.conf');
  const config = withProcessFiles(opts.config, dir);
  writeFileSync(confFile, config, { mode: 0o600 });
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, ['-c', confFile], { stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  track(child, dir);
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void gone.then(() => live.delete(child));
  let exited = false;
  void gone.then(() => {
    exited = true;
  });

  const logTail = (lines = 30): string => {
    try {
      return readFileSync(logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  let stopped: Promise<void> | undefined;
  const handle: CoturnProcess = {
    pid: child.pid ?? -1,
    dir,
    logFile,
    logTail,
    stop(deadlineMs = 5000) {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
          await gone;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    reloadCertificates() {
      child.kill('SIGUSR2');
    },
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    for (;;) {
      if (exited) throw new CoturnStartError(`turnserver exited at start (code ${child.exitCode})`);
      const log = logTail(500);
      const badOption = /Bad configuration format: (.*)/.exec(log);
      if (badOption) throw new CoturnStartError(`turnserver does not know the option "${badOption[1]}"`);
      if (opts.tls && /cannot start TLS/i.test(log)) throw new CoturnStartError('turnserver cannot start TLS: certificate or key unusable');
      if (/Cannot bind|Address already in use/.test(log)) throw new CoturnStartError('turnserver could not bind its ports', true);
      const tcp = await Promise.all(opts.tcpPorts.map((p) => tcpOpen(opts.host, p)));
      if (tcp.every(Boolean) && (await stunAnswers(opts.host, opts.udpPort))) return handle;
      if (Date.now() > deadline) throw new CoturnStartError('turnserver did not answer in time');
      // There is no readiness event to await; back off briefly, or wake at once if it exits.
      await Promise.race([gone, new Promise((r) => setTimeout(r, 50))]);
    }
  } catch (err) {
    const tail = logTail();
    await handle.stop();
    const e = err as Error;
    throw new CoturnStartError(`${e.message}\n--- turnserver log ---\n${tail}`, err instanceof CoturnStartError && err.portInUse);
  }
}
