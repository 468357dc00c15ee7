/**
 * A real HAProxy for tests, in the foreground (-db) with a configuration of the test's making, on
 * loopback. The caller stops it (SIGTERM by PID, then SIGKILL); one still running when this
 * process exits is killed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HaproxyProcess {
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

export function haproxyPath(): string | null {
  return spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim() || null;
}

const live = new Set<ChildProcess>();
let exitHook = false;

const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = connect({ host, port });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });

/** Starts haproxy with these configuration files' texts and resolves once every listed port accepts. */
export async function startHaproxy(configs: string[], listening: Array<{ host: string; port: number }>, startTimeoutMs = 10_000): Promise<HaproxyProcess> {
  const bin = haproxyPath();
  if (!bin) throw new Error('haproxy is not installed: apt-get install haproxy');
  const dir = mkdtempSync(join(tmpdir(), 'zr-haproxy-'));
  const files = configs.map((text, i) => {
    const file = join(dir, `${i}.cfg`);
    writeFileSync(file, text);
    return file;
  });
  const child = spawn(bin, ['-db', ...files.flatMap((f) => ['-f', f])], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => live.forEach((c) => c.kill('SIGKILL')));
  }
  let out = '';
  const collect = (d: Buffer) => (out = (out + d.toString()).slice(-16_000));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exited = false;
  void gone.then(() => {
    exited = true;
    live.delete(child);
    rmSync(dir, { recursive: true, force: true });
  });
  const handle: HaproxyProcess = {
    pid: child.pid ?? -1,
    output: () => out,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if ((await Promise.all(listening.map((l) => accepts(l.host, l.port)))).every(Boolean)) return handle;
    if (exited || Date.now() > deadline) {
      await handle.stop();
      throw new Error(`haproxy did not start${exited ? ` (exited ${child.exitCode})` : ''}\n${out}`);
    }
    // No readiness event: back off briefly, or wake at once if it exits.
    await Promise.race([gone, new Promise((r) => setTimeout(r, 50))]);
  }
}
