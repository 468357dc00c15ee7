/**
 * A real coturn on loopback for integration tests, on top of dev/coturn.ts (the launcher the
 * development stack uses). Keep the handle in the suite and stop it in afterAll; a failed start
 * stops coturn itself, and every turnserver still running is killed when the test process exits.
 */
import { CoturnStartError, freePort, startCoturn as launch, turnserverPath } from '../../dev/coturn.js';

export interface CoturnOptions {
  /** turnserver.conf body: auth, realm, peer rules… Listening addresses, ports and TLS files are added here. */
  config: string;
  /** Fixed ports (e.g. to restart on the same ports); free loopback ports are picked otherwise. */
  ports?: { listening?: number; tls?: number };
  /** Enables TURN over TLS with these PEM files. */
  tls?: { cert: string; key: string };
  /** Relay addresses; loopback only. Default ['127.0.0.1']; add '::1' for IPv6 allocations. */
  relayIps?: string[];
  startTimeoutMs?: number;
}

export interface CoturnHandle {
  pid: number;
  udpPort: number;
  /** Same port as UDP: coturn serves TCP there too. */
  tcpPort: number;
  tlsPort: number | undefined;
  logFile: string;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** Options this module owns; a caller config setting them would silently fight ours. */
const RESERVED = ['listening-ip', 'listening-port', 'tls-listening-port', 'alt-listening-port', 'alt-tls-listening-port', 'relay-ip', 'cert', 'pkey'];

export function hasCoturn(): boolean {
  return turnserverPath() !== null;
}

export async function startCoturn(opts: CoturnOptions): Promise<CoturnHandle> {
  const relayIps = opts.relayIps ?? ['127.0.0.1'];
  const notLoopback = relayIps.find((ip) => !/^127\.\d+\.\d+\.\d+$/.test(ip) && ip !== '::1');
  if (notLoopback) throw new Error(`startCoturn: relay address ${notLoopback} is not loopback; tests relay on loopback only`);
  const clash = opts.config
    .split('\n')
    .map((l) => l.trim().split(/[=\s]/)[0]!)
    .find((key) => RESERVED.includes(key));
  if (clash) throw new Error(`startCoturn: config must not set "${clash}"; startCoturn manages it`);

  // A port picked free can be taken before coturn binds it: retry with new ones unless fixed.
  const attempts = opts.ports ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const listening = opts.ports?.listening ?? (await freePort());
    const tlsPort = opts.tls ? (opts.ports?.tls ?? (await freePort('127.0.0.1', [listening]))) : undefined;
    const config = [
      'listening-ip=127.0.0.1',
      ...relayIps.map((ip) => `relay-ip=${ip}`),
      `listening-port=${listening}`,
      ...(opts.tls ? [`tls-listening-port=${tlsPort}`, `cert=${opts.tls.cert}`, `pkey=${opts.tls.key}`] : ['no-tls']),
      'no-dtls',
      'no-cli',
      opts.config.trimEnd(),
    ].join('\n');
    try {
      const proc = await launch({
        config,
        host: '127.0.0.1',
        udpPort: listening,
        tcpPorts: tlsPort ? [listening, tlsPort] : [listening],
        tls: Boolean(opts.tls),
        ...(opts.startTimeoutMs ? { startTimeoutMs: opts.startTimeoutMs } : {}),
      });
      return { pid: proc.pid, udpPort: listening, tcpPort: listening, tlsPort, logFile: proc.logFile, logTail: proc.logTail, stop: () => proc.stop() };
    } catch (err) {
      if (!(err instanceof CoturnStartError && err.portInUse) || attempt >= attempts) throw err;
    }
  }
}
