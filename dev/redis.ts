/**
 * A real redis-server for the development stack and the tests, configured by the production file
 * (deploy/redis/zerorange.conf) plus only what differs per site: the bound address and port, a
 * password, and its own fresh folder (so every start begins empty). The caller must stop() it; any
 * still running when this process exits is killed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './coturn.js';

export interface RedisProcess {
  pid: number;
  host: string;
  port: number;
  password: string;
  /** redis://host:port (the password is separate, as the server configuration wants it). */
  url: string;
  /** SIGTERM (as systemd stops it), SIGKILL after the deadline; resolves once it has exited. */
  stop(deadlineMs?: number): Promise<void>;
  /** SIGKILL: a crash. Resolves once it has exited. */
  kill(): Promise<void>;
  /** Output of the server so far (for failure messages). */
  output(): string;
}

export function redisServerPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  return found || null;
}

/** The production configuration every Redis started here includes. */
export const REDIS_PRODUCTION_CONF = fileURLToPath(new URL('../deploy/redis/zerorange.conf', import.meta.url));

const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHook) return;
  exitHook = true;
  // 'exit' handlers must be synchronous, hence SIGKILL.
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Whether something accepts TCP connections and answers PING with the password. */
function answersPing(host: string, port: number, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    let buf = '';
    const finish = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => finish(false));
    sock.on('error', () => finish(false));
    sock.on('connect', () => sock.write(`AUTH ${password}\r\nPING\r\n`));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('+PONG')) finish(true);
      else if (buf.includes('-')) finish(false);
    });
  });
}

/**
 * Starts redis-server on host:port (a free loopback port by default) and resolves once it answers.
 * A fixed port lets a test start Redis again, empty, where clients expect it.
 */
export async function startRedis(opts: { host?: string; port?: number; password?: string; startTimeoutMs?: number } = {}): Promise<RedisProcess> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed: apt-get install redis-server');
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const password = opts.password ?? randomBytes(18).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'zerorange-redis-'));
  // The password goes on stdin's config, not the command line, so `ps` does not show it.
  const child = spawn(bin, ['-'], { stdio: ['pipe', 'pipe', 'pipe'], cwd: dir });
  track(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8_000)));
  child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8_000)));
  child.stdin.end(
    [
      `include ${REDIS_PRODUCTION_CONF}`,
      // What a site sets beside the production file:
      `bind ${host}`,
      `port ${port}`,
      `requirepass "${password}"`,
      // A process-private folder: its append-only file starts empty and goes with the process.
      `dir ${dir}`,
      'daemonize no',
      'loglevel warning',
      '',
    ].join('\n'),
  );
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exited = false;
  void gone.then(() => {
    exited = true;
    rmSync(dir, { recursive: true, force: true });
  });
  const end = (signal: NodeJS.Signals, deadlineMs: number) => {
    if (!exited) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    return gone.then(() => clearTimeout(timer));
  };
  const handle: RedisProcess = {
    pid: child.pid ?? -1,
    host,
    port,
    password,
    url: `redis://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stop: (deadlineMs = 5_000) => end('SIGTERM', deadlineMs),
    kill: () => end('SIGKILL', 0),
    output: () => out,
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  while (!(await answersPing(host, port, password))) {
    if (exited || Date.now() > deadline) {
      await handle.kill();
      throw new Error(`redis-server did not start on ${host}:${port}${exited ? ` (exited ${child.exitCode})` : ''}\n${out}`);
    }
    // No readiness event exists; back off briefly, or wake at once if it exits.
    await Promise.race([gone, new Promise((r) => setTimeout(r, 25))]);
  }
  return handle;
}
