import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SignalingProcess {
  readonly pid: number;
  /**
   * Stops the server, then starts the same server again on the same port; resolves once it answers.
   * SIGKILL (the default) is a crash; SIGTERM is a graceful restart (SIGKILL after `deadlineMs`).
   */
  restart(signal?: 'SIGKILL' | 'SIGTERM', deadlineMs?: number): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after the deadline. */
  stop(deadlineMs?: number): Promise<void>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** One health request; `ca` trusts the server's own TLS certificate when it serves TLS itself. */
function answers(url: string, ca?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https:') ? https : http).get(url, { ca, timeout: 500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export interface SignalingProcessOptions {
  config: object;
  dir: string;
  host: string;
  port: number;
  /** Node options before the entry point (e.g. an inspector for benchmarks). */
  nodeArgs?: string[];
  /** Where stdout and stderr go: a file descriptor, or this process's own (the default). */
  output?: number;
  env?: Record<string, string>;
  /** The CA of the certificate in `config.tls`, when the server serves TLS itself. */
  ca?: string;
}

/**
 * The signaling server in a process of its own, started from `server/src/main.ts` with the given
 * configuration (written mode 0600 into `dir`: it holds the secrets).
 */
export async function startSignalingProcess(opts: SignalingProcessOptions): Promise<SignalingProcess> {
  const configFile = join(opts.dir, 'signaling.json');
  // Used room tokens outlive restart(), as in a deployment, unless the configuration names a store.
  const roomToken = { replayStoreFile: join(opts.dir, 'room-tokens.log'), ...(opts.config as { roomToken?: object }).roomToken };
  // Several servers may run on one machine: without a chosen metrics port, take any free one.
  const metrics = 'metrics' in opts.config ? {} : { metrics: { host: opts.host, port: 0 } };
  writeFileSync(configFile, JSON.stringify({ ...opts.config, roomToken, ...metrics }), { mode: 0o600 });
  const scheme = 'tls' in opts.config ? 'https' : 'http';
  const health = `${scheme}://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}/healthz`;
  let child: ChildProcess;
  let exited: Promise<void>;

  async function launch(): Promise<void> {
    const out = opts.output ?? 'inherit';
    child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', join(root, 'server/src/main.ts')], {
      cwd: root,
      env: { ...process.env, ...opts.env, ZR_CONFIG: configFile },
      stdio: ['ignore', out, out],
    });
    const c = child;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    const deadline = Date.now() + 20_000;
    // No readiness event crosses the process boundary: poll its health endpoint.
    while (!(await answers(health, opts.ca))) {
      if (gone) throw new Error(`the signaling server exited at start (code ${c.exitCode})`);
      if (Date.now() > deadline) throw new Error('the signaling server did not answer in time');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
    }
  }

  async function kill(signal: NodeJS.Signals, deadlineMs: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    await exited;
    clearTimeout(timer);
  }

  await launch();
  return {
    get pid() {
      return child.pid ?? -1;
    },
    async restart(signal = 'SIGKILL', deadlineMs = 15_000) {
      await kill(signal, signal === 'SIGKILL' ? 0 : deadlineMs);
      await launch();
    },
    stop: (deadlineMs = 5000) => kill('SIGTERM', deadlineMs),
  };
}
