import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CoturnProcess {
  pid: number;
  /** Folder holding the config, log and pid file; removed by stop(). */
  dir: string;
  logFile: string;
  /** SIGTERM, then SIGKILL after the deadline; resolves once the process has exited and its files are gone. */
  stop(deadlineMs?: number): Promise<void>;
  /** SIGUSR2: coturn re-reads its TLS certificates. */
  reloadCertificates(): void;
}

export function turnserverPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v turnserver'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  return null;
}

/** A free TCP port on `host` that the kernel also lets us bind over UDP. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    if (await canBindUdp(port, host)) return port;
  }
}

function canBindUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/** Whether this process may bind a TCP port (e.g. 443 needs root or CAP_NET_BIND_SERVICE) and it is free. */
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
    const header = Buffer.alloc(20);
    header.writeUInt16BE(0x0001, 0); // Binding request
    header.writeUInt16BE(0, 2);
    header.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(header, 8);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('message', () => done(true));
    sock.once('error', () => done(false));
    sock.send(header, port, host);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Runs coturn with the given configuration text (which must not set log-file or pidfile: they go
 * into a private folder here) and resolves once it answers STUN over UDP and accepts TCP (and TLS)
 * connections. The caller owns the returned process and must stop() it.
 */
export async function startCoturn(opts: {
  config: string;
  host: string;
  udpPort: number;
  tcpPorts: number[];
  startTimeoutMs?: number;
}): Promise<CoturnProcess> {
  const bin = turnserverPath();
  if (!bin) throw new Error('turnserver (coturn) is not installed: apt-get install coturn');
  const dir = mkdtempSync(join(tmpdir(), 'zerorange-coturn-'));
  const logFile = join(dir, 'turnserver.log');
  const confFile = join(dir, 'turnserver.conf');
  const config = opts.config
    .replace(/^(log-file|pidfile|syslog|no-stdout-log)\b.*$/gm, '')
    .concat(`\nlog-file=${logFile}\nno-stdout-log\npidfile=${join(dir, 'turnserver.pid')}\n`);
  writeFileSync(confFile, config, { mode: 0o600 });
  const child = spawn(bin, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const gone = exited(child);
  let stopped: Promise<void> | undefined;
  const handle: CoturnProcess = {
    pid: child.pid!,
    dir,
    logFile,
    stop(deadlineMs = 5000) {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
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
  let died = false;
  void gone.then(() => {
    died = true;
  });
  try {
    for (;;) {
      if (died) throw new Error(`turnserver exited at start (code ${child.exitCode}).\n${stderr}\n${tail(logFile)}`);
      const tcp = await Promise.all(opts.tcpPorts.map((p) => tcpOpen(opts.host, p)));
      if (tcp.every(Boolean) && (await stunAnswers(opts.host, opts.udpPort))) return handle;
      if (Date.now() > deadline) throw new Error(`turnserver did not come up within the deadline.\n${tail(logFile)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await handle.stop();
    throw err;
  }
}
