import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseConfig, type ServerConfig } from '../server/src/config.js';
import { canBindTcp, freePort, startCoturn, turnserverPath, type CoturnProcess } from './coturn.js';
import { renderStackCoturnConfig } from './stackCoturn.js';
import { startSignalingProcess, type SignalingProcess } from './signalingProcess.js';
import { ensureDevCa, issueDevCertificate } from './devCerts.js';
import { DEV_IDP_SCOPES, startDevIdp, type DevIdp } from './idp.js';
import { serveStackControl } from './stackControl.js';
import { acquireLock } from './stackLock.js';

export interface StackOptions {
  /** Address every service binds and clients use; default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  idpPort?: number;
  signalingPort?: number;
  /** TURN over UDP/TCP; default 3478, or a free port when taken. */
  turnPort?: number;
  /** TURN over TLS; default 443 when it can be bound, else 5349. */
  turnsPort?: number;
  /** Where stack.json and the lock live; default ./.zerorange. */
  stateDir?: string;
  /** Where the development CA is kept across runs; default the user's data folder. */
  dataDir?: string;
  /** Start coturn (default: when installed). */
  turn?: boolean;
  /** Peer addresses coturn may relay to despite the production deny list (e.g. a test network's own range). */
  allowedPeerIps?: string[];
  /** Extra browser origins allowed on the signaling socket. */
  allowedOrigins?: string[];
  /**
   * Lifetime of TURN credentials (default 900 s). Below 600 s only for tests that watch credentials
   * expire mid-call; the signaling server accepts that only as a development server.
   */
  turnTtlSeconds?: number;
  log?: (line: string) => void;
}

/** What a running stack publishes for apps, tests and scripts (written to stack.json; no secrets). */
export interface StackInfo {
  pid: number;
  startedAt: string;
  host: string;
  idp: { issuer: string; clientId: string; audience: string; scopes: string[]; users: { username: string; password: string; name: string }[] };
  signaling: { url: string; clientConfigUrl: string; signalingUrl: string; metricsUrl: string; pid: number };
  turn:
    | { enabled: true; pid: number; host: string; port: number; tlsPort: number; tlsHost: string; urls: string[]; caCertFile: string; spkiSha256: string; logFile: string }
    | { enabled: false; reason: string };
}

export interface Stack {
  info: StackInfo;
  infoFile: string;
  signaling: SignalingProcess;
  idp: DevIdp;
  coturn: CoturnProcess | null;
  config: ServerConfig;
  /** Stops coturn (SIGTERM, or SIGKILL as a crash would) and starts it again with the same configuration and ports. */
  restartTurn(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  close(): Promise<void>;
}

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'zerorange', 'dev');
}

async function chooseTurnPorts(host: string, opts: StackOptions, say: (l: string) => void) {
  let port = opts.turnPort ?? 3478;
  if (port === 0 || !(await canBindTcp(port, host))) {
    const free = await freePort(host);
    if (port !== 0) say(`port ${port} is in use; TURN uses ${free} instead`);
    port = free;
  }
  let tlsPort = opts.turnsPort ?? 443;
  if (tlsPort === 443 && !(await canBindTcp(443, host))) {
    say('TURN over TLS cannot bind port 443 here (needs root or CAP_NET_BIND_SERVICE, or it is taken); using 5349');
    tlsPort = 5349;
  }
  if (tlsPort === 0 || !(await canBindTcp(tlsPort, host))) {
    const free = await freePort(host);
    if (tlsPort !== 0) say(`port ${tlsPort} is in use; TURN over TLS uses ${free} instead`);
    tlsPort = free;
  }
  return { port, tlsPort };
}

/** Starts the development IdP, the signaling server and coturn on one address, and writes stack.json. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const say = opts.log ?? ((line: string) => console.log(line));
  const host = opts.host ?? '127.0.0.1';
  const stateDir = resolve(opts.stateDir ?? '.zerorange');
  const infoFile = join(stateDir, 'stack.json');
  const release = acquireLock(join(stateDir, 'stack.lock'));
  const cleanups: (() => Promise<void> | void)[] = [release];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`stack: cleanup failed: ${(err as Error).message}`);
      }
    }
  };
  try {
    const idp = await startDevIdp({ host, port: opts.idpPort ?? 0 });
    cleanups.push(() => idp.close());

    const work = mkdtempSync(join(tmpdir(), 'zerorange-stack-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const signalingPort = opts.signalingPort ? opts.signalingPort : await freePort(host);
    const metricsPort = await freePort(host);

    const wantTurn = opts.turn ?? true;
    const bin = turnserverPath();
    const turnPorts = wantTurn && bin ? await chooseTurnPorts(host, opts, say) : { port: 3478, tlsPort: 0 };
    const configInput = {
      listen: { host, port: signalingPort },
      // Clients are sent to the listening address (a deployment names its public URL instead), and
      // outage drills may shorten TURN credentials.
      development: true,
      metrics: { host, port: metricsPort },
      idp: { issuer: idp.issuer, audience: idp.audience, clientId: idp.clientId, scopes: [...DEV_IDP_SCOPES], algorithms: ['ES256'] },
      // Fresh secrets every run: nothing to leak, nothing to commit. Used room tokens are kept in the
      // state directory, so a restarted signaling server still refuses them.
      roomToken: { secret: randomBytes(32).toString('base64url'), replayStoreFile: join(stateDir, 'room-tokens.log') },
      turn: {
        secrets: [randomBytes(32).toString('base64url')],
        host,
        realm: 'zerorange.dev',
        stunPort: turnPorts.port,
        turnPort: turnPorts.port,
        turnsPort: turnPorts.tlsPort,
        ...(turnPorts.tlsPort ? { tlsHost: host } : {}),
        ...(opts.turnTtlSeconds ? { ttlSeconds: opts.turnTtlSeconds, refreshBeforeSeconds: refreshBefore(opts.turnTtlSeconds) } : {}),
      },
      allowedOrigins: ['app://zerorange', ...(opts.allowedOrigins ?? [])],
      logLevel: process.env.ZR_LOG_LEVEL ?? 'warn',
    };
    const config = parseConfig(configInput);

    let coturn: CoturnProcess | null = null;
    let coturnStart: Parameters<typeof startCoturn>[0] | null = null;
    let turnInfo: StackInfo['turn'];
    if (!wantTurn) {
      turnInfo = { enabled: false, reason: 'disabled (--no-turn)' };
    } else if (!bin) {
      turnInfo = { enabled: false, reason: 'turnserver is not installed' };
      say('coturn is not installed (Debian/Ubuntu: apt-get install coturn). Continuing with STUN only:');
      say('  calls work between machines that reach each other directly, but not through firewalls or NAT that need a relay.');
    } else {
      const dataDir = opts.dataDir ?? defaultDataDir();
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const ca = await ensureDevCa(join(dataDir, 'ca'));
      const certDir = join(work, 'turn-cert');
      const cert = await issueDevCertificate({ caDir: join(dataDir, 'ca'), outDir: certDir, hosts: [host, 'localhost'], days: 30 });
      // The production template and options; only the peers the stack's clients use are added.
      const text = renderStackCoturnConfig(config, { host, certFile: cert.certPath, keyFile: cert.keyPath, allowedPeerIps: opts.allowedPeerIps ?? [] });
      coturnStart = { config: text, host, udpPort: turnPorts.port, tcpPorts: [turnPorts.port, turnPorts.tlsPort], tls: true };
      coturn = await startCoturn(coturnStart);
      cleanups.push(() => coturn?.stop());
      turnInfo = {
        enabled: true,
        pid: coturn.pid,
        host,
        port: turnPorts.port,
        tlsPort: turnPorts.tlsPort,
        tlsHost: host,
        urls: [
          `stun:${host}:${turnPorts.port}`,
          `turn:${host}:${turnPorts.port}?transport=udp`,
          `turn:${host}:${turnPorts.port}?transport=tcp`,
          `turns:${host}:${turnPorts.tlsPort}?transport=tcp`,
        ],
        caCertFile: ca.caCertPath,
        spkiSha256: cert.spkiSha256Base64,
        logFile: coturn.logFile,
      };
    }

    // Its own process, as in production: it can be killed and restarted under a running call.
    const signaling = await startSignalingProcess({ config: configInput, dir: work, host, port: signalingPort });
    cleanups.push(() => signaling.stop());
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${signalingPort}`;
    const info: StackInfo = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      host,
      idp: {
        issuer: idp.issuer,
        clientId: idp.clientId,
        audience: idp.audience,
        scopes: idp.scopes,
        users: idp.users.map((u) => ({ username: u.username, password: u.password, name: u.name })),
      },
      signaling: {
        url,
        clientConfigUrl: `${url}/v1/client-config`,
        signalingUrl: `${url.replace(/^http/, 'ws')}/v1/signal`,
        metricsUrl: `http://${host.includes(':') ? `[${host}]` : host}:${metricsPort}/metrics`,
        pid: signaling.pid,
      },
      turn: turnInfo,
    };
    writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    cleanups.splice(1, 0, () => rmSync(infoFile, { force: true }));
    let closing: Promise<void> | undefined;
    const stack: Stack = {
      info,
      infoFile,
      signaling,
      idp,
      coturn,
      config,
      async restartTurn(signal = 'SIGTERM') {
        if (!coturn || !coturnStart || closing) throw new Error('coturn is not running in this stack');
        const old = coturn;
        coturn = stack.coturn = null;
        if (signal === 'SIGKILL') process.kill(old.pid, 'SIGKILL');
        await old.stop();
        coturn = stack.coturn = await startCoturn(coturnStart);
        if (info.turn.enabled) Object.assign(info.turn, { pid: coturn.pid, logFile: coturn.logFile });
        writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`);
      },
      close: () => (closing ??= cleanup()),
    };
    return stack;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Fresh credentials are pushed this long before expiry: the default 120 s, or a third of a short lifetime left. */
function refreshBefore(ttlSeconds: number): number {
  return Math.min(120, Math.max(30, Math.floor((ttlSeconds * 2) / 3)));
}

export function describeStack(stack: Stack): string {
  const { info } = stack;
  const users = info.idp.users.map((u) => `${u.username} / ${u.password}`).join(', ');
  const turn = info.turn.enabled
    ? `TURN         ${info.turn.urls.join('  ')}\n             TLS certificate from the development CA ${info.turn.caCertFile} (SPKI ${info.turn.spkiSha256})`
    : `TURN         off: ${info.turn.reason}`;
  return [
    'ZeroRange development stack',
    `Identity     ${info.idp.issuer}  (users: ${users})`,
    `Signaling    ${info.signaling.url}  (socket ${info.signaling.signalingUrl}; metrics ${info.signaling.metricsUrl})`,
    turn,
    `Stack file   ${stack.infoFile}`,
  ].join('\n');
}

/** Stops the stack on the first SIGINT/SIGTERM; a second one exits at once. */
export function stopOnSignals(stack: Stack, before?: () => Promise<void> | void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: stopping the stack…`);
    void (async () => {
      await before?.();
      await stack.close();
      console.log('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      'idp-port': { type: 'string' },
      'signaling-port': { type: 'string' },
      'turn-port': { type: 'string' },
      'turns-port': { type: 'string' },
      'state-dir': { type: 'string' },
      'data-dir': { type: 'string' },
      'no-turn': { type: 'boolean' },
      'allowed-peer-ip': { type: 'string', multiple: true },
      'allowed-origin': { type: 'string', multiple: true },
      'turn-ttl-seconds': { type: 'string' },
      'control-socket': { type: 'string' },
    },
  });
  const port = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} takes a port number, not ${JSON.stringify(v)}`);
    return n;
  };
  const seconds = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a number of seconds, not ${JSON.stringify(v)}`);
    return n;
  };
  const stack = await startStack({
    ...(values.host ? { host: values.host } : {}),
    idpPort: port('idp-port', values['idp-port']) ?? 9400,
    signalingPort: port('signaling-port', values['signaling-port']) ?? 8787,
    ...(values['turn-port'] ? { turnPort: port('turn-port', values['turn-port'])! } : {}),
    ...(values['turns-port'] ? { turnsPort: port('turns-port', values['turns-port'])! } : {}),
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    turn: !values['no-turn'],
    allowedPeerIps: values['allowed-peer-ip'] ?? [],
    allowedOrigins: values['allowed-origin'] ?? [],
    ...(values['turn-ttl-seconds'] ? { turnTtlSeconds: seconds('turn-ttl-seconds', values['turn-ttl-seconds']) } : {}),
  });
  // Outage drills for tests (coturn restarts, the IdP going away); only when asked for.
  const control = values['control-socket'] ? await serveStackControl(stack, values['control-socket']) : null;
  stopOnSignals(stack, () => control?.close());
  // For resilience tests: SIGUSR1 kills the signaling server (SIGKILL, like a crash) and starts it again;
  // SIGUSR2 restarts it gracefully (SIGTERM, as systemd or a rolling deploy would).
  const restartSignaling = (signal: 'SIGKILL' | 'SIGTERM') => {
    console.log(`${signal === 'SIGKILL' ? 'SIGUSR1' : 'SIGUSR2'}: stopping the signaling server (${signal}) and starting it again…`);
    stack.signaling.restart(signal).then(
      () => {
        stack.info.signaling.pid = stack.signaling.pid;
        writeFileSync(stack.infoFile, `${JSON.stringify(stack.info, null, 2)}\n`);
        console.log('signaling server restarted');
      },
      (err: unknown) => console.error(`signaling server did not restart: ${(err as Error).message}`),
    );
  };
  process.on('SIGUSR1', () => restartSignaling('SIGKILL'));
  process.on('SIGUSR2', () => restartSignaling('SIGTERM'));
  console.log(describeStack(stack));
  console.log('Ready. Ctrl-C stops everything.');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(`stack: ${(err as Error).message}`);
    process.exit(1);
  });
}
