import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerConfig, TurnServerConfig } from './config.js';

const TEMPLATE = 'deploy/coturn/turnserver.conf.template';

export interface CoturnOptions {
  /** TLS certificate and key coturn serves on the TLS ports (required unless turn.turnsPort is 0). */
  certFile?: string;
  keyFile?: string;
  /** Port coturn's TLS listener binds when it differs from the advertised turns: port (behind an SNI router on 443). */
  tlsListeningPort?: number;
  listeningIps?: string[];
  relayIps?: string[];
  /** `PUBLIC` or `PUBLIC/PRIVATE` when coturn sits behind 1:1 NAT. */
  externalIps?: string[];
  /** Peer addresses or ranges (`a-b`) to allow despite the special-purpose deny list: the deployment's own media addresses. */
  allowedPeerIps?: string[];
  minPort?: number;
  maxPort?: number;
  userQuota?: number;
  totalQuota?: number;
  maxBps?: number;
  /** `syslog` (default), `stdout`, or a file path. */
  log?: string;
  pidFile?: string;
  /** Development and tests only: relays between loopback addresses. */
  allowLoopbackPeers?: boolean;
  /** The instance of turn.servers to render (its ports, addresses and statsdb); required with a pool. */
  server?: string;
  /** `IP:PORT` of instances a draining one redirects Allocates to (TURN UDP/TCP, and TLS), besides those turn.servers gives by address. */
  alternateServers?: string[];
  tlsAlternateServers?: string[];
}

export class CoturnConfigError extends Error {}

/** Finds the template from src/ or build/ alike by walking up to the repository root. */
export function findTemplate(start = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start, i = 0; i < 6; i++, dir = dirname(dir)) {
    const candidate = join(dir, TEMPLATE);
    if (existsSync(candidate)) return candidate;
  }
  throw new CoturnConfigError(`cannot find ${TEMPLATE}`);
}

/** An address or an `a-b` range of one family, low end first. */
function isIpRange(value: string): boolean {
  const [low = '', high = low, extra] = value.split('-');
  if (extra !== undefined || !isIP(low) || isIP(low) !== isIP(high)) return false;
  try {
    new BlockList().addRange(low, high, isIP(low) === 6 ? 'ipv6' : 'ipv4');
    return true;
  } catch {
    return false; // the high end is below the low end
  }
}

/** 0.0.0.0 or :: however written (`::0.0.0.0`, `0:0::0`); the URL parser canonicalises both. */
function isUnspecified(ip: string): boolean {
  const v = isIP(ip);
  return v !== 0 && new URL(`http://${v === 6 ? `[${ip}]` : ip}/`).hostname === (v === 6 ? '[::]' : '0.0.0.0');
}

/**
 * coturn 4.6.1 reads a range that starts at the unspecified address (0.0.0.0 or ::) as open below,
 * and orders every IPv4 address before every IPv6 one: `::-::` or `::0.0.0.0-::255.255.255.255`
 * matches every IPv4 peer, and a lone `0.0.0.0` or `::` matches every peer. Listed as denied, such a
 * range refuses all public peers; listed as allowed, it opens every private network.
 */
export function startsAtUnspecified(range: string): boolean {
  const [low = '', high = low] = range.split('-');
  // An IPv4 range from 0.0.0.0 up to a real address stays within IPv4 (0.0.0.0/8 in the template).
  return isUnspecified(low) && (isIP(low) === 6 || isUnspecified(high));
}

function lines(key: string, values: readonly string[] | undefined, check: (v: string) => boolean, what = 'an address'): string {
  for (const v of values ?? []) {
    if (!check(v)) throw new CoturnConfigError(`${key}: ${JSON.stringify(v)} is not ${what}`);
  }
  return (values ?? []).map((v) => `${key}=${v}`).join('\n');
}

const isAddress = (v: string) => isIP(v) !== 0;
const EXTERNAL_IP = (v: string) => {
  const [pub = '', priv, extra] = v.split('/');
  return extra === undefined && isAddress(pub) && (priv === undefined || isAddress(priv));
};

/** Refuses peer rules coturn would read as "every address" (see startsAtUnspecified). */
function checkPeerRules(text: string): void {
  for (const m of text.matchAll(/^(allowed|denied)-peer-ip=(\S+)/gm)) {
    if (startsAtUnspecified(m[2]!)) {
      throw new CoturnConfigError(`${m[1]}-peer-ip=${m[2]} starts at the unspecified address: coturn would apply it to every IPv4 peer, whatever its address`);
    }
  }
}

/**
 * The settings of the instance being rendered: the single-host form as it is, or one entry of
 * turn.servers with its ports and addresses (command-line addresses are added to the entry's).
 */
function instanceOf(config: ServerConfig, opts: CoturnOptions): { turn: Pick<ServerConfig['turn'], 'stunPort' | 'turnPort' | 'turnsPort' | 'secrets' | 'realm'>; opts: CoturnOptions; alternates: string[]; statsDb?: number } {
  const servers = config.turn.servers;
  if (!servers) {
    if (opts.server !== undefined) throw new CoturnConfigError(`--server ${opts.server}: the configuration has no turn.servers (it uses turn.host)`);
    return { turn: config.turn, opts, alternates: [] };
  }
  const entry = servers.find((s) => s.id === opts.server);
  if (!entry) {
    const ids = servers.map((s) => s.id).join(', ');
    throw new CoturnConfigError(opts.server === undefined ? `turn.servers lists a pool: choose the instance with --server (${ids})` : `--server ${opts.server}: not in turn.servers (${ids})`);
  }
  const turn = {
    ...config.turn,
    stunPort: entry.turnPort ?? config.turn.stunPort,
    turnPort: entry.turnPort ?? config.turn.turnPort,
    turnsPort: entry.turnsPort ?? config.turn.turnsPort,
  };
  const merged: CoturnOptions = {
    ...opts,
    listeningIps: [...(entry.listeningIps ?? []), ...(opts.listeningIps ?? [])],
    relayIps: [...(entry.relayIps ?? []), ...(opts.relayIps ?? [])],
    externalIps: [...(entry.externalIps ?? []), ...(opts.externalIps ?? [])],
  };
  return { turn, opts: merged, alternates: entry.drain ? alternatesFor(entry.id, servers, config.turn, opts) : [], ...(entry.statsDb !== undefined ? { statsDb: entry.statsDb } : {}) };
}

const ADDRESS_PORT = (v: string) => {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(v);
  return m !== null && isIP(m[1]!) !== 0 && Number(m[2]) > 0 && Number(m[2]) <= 65535;
};
const addressPort = (ip: string, port: number) => `${isIP(ip) === 6 ? `[${ip}]` : ip}:${port}`;

/**
 * A draining instance sends every new Allocate to the others (STUN 300 Try Alternate, which
 * Chromium follows over UDP, TCP and TLS: test/e2e/alternateServer.spec.ts). coturn takes
 * addresses only: the others' hosts where they are IP literals, plus any given on the command line.
 */
function alternatesFor(id: string, servers: TurnServerConfig[], turn: ServerConfig['turn'], opts: CoturnOptions): string[] {
  const others = servers.filter((s) => s.id !== id && !s.drain);
  const byAddress = others.filter((s) => isIP(s.host) !== 0);
  const plain = [...byAddress.map((s) => addressPort(s.host, s.turnPort ?? turn.turnPort)), ...(opts.alternateServers ?? [])];
  const tls = [
    ...byAddress.filter((s) => (s.turnsPort ?? turn.turnsPort) !== 0).map((s) => addressPort(s.host, s.turnsPort ?? turn.turnsPort)),
    ...(opts.tlsAlternateServers ?? []),
  ];
  if (plain.length === 0) {
    throw new CoturnConfigError(`${id} is draining, and no other instance has an address coturn can redirect to: give --alternate-server IP:PORT (and --tls-alternate-server IP:PORT) for ${others.map((s) => s.id).join(', ') || 'an instance that is not draining'}`);
  }
  return [lines('alternate-server', plain, ADDRESS_PORT, 'an IP:PORT'), lines('tls-alternate-server', tls, ADDRESS_PORT, 'an IP:PORT')].filter(Boolean);
}

/**
 * coturn's redis-statsdb line: the signaling nodes' Redis, in the instance's own database (coturn
 * deletes every allocation key in its database at start, and its allocation ids repeat across instances). coturn 4.6.1
 * talks to Redis without TLS, so a rediss:// Redis cannot take its statistics.
 */
function statsDbLine(config: ServerConfig, db: number): string {
  const redis = config.cluster.redis;
  if (!redis) throw new CoturnConfigError('turn.servers[].statsDb needs cluster.redis: coturn writes its allocations there');
  const url = new URL(redis.url);
  if (url.protocol === 'rediss:') throw new CoturnConfigError("turn.servers[].statsDb: coturn 4.6 cannot reach Redis over TLS (rediss://); give coturn a redis:// address on the private network, or leave statsDb out (the pool then ranks by probe latency)");
  if (redis.username) throw new CoturnConfigError('turn.servers[].statsDb: coturn 4.6 authenticates to Redis with a password only, not an ACL user (cluster.redis.username)');
  if (redis.password && /[\s"'#]/.test(redis.password)) throw new CoturnConfigError('turn.servers[].statsDb: the Redis password may not contain whitespace, quotes or # (coturn cannot read it)');
  const fields = [`ip=${url.hostname.replace(/^\[|\]$/g, '')}`, `port=${url.port || '6379'}`, `dbname=${db}`, ...(redis.password ? [`password=${redis.password}`] : []), 'connect_timeout=5'];
  return `redis-statsdb="${fields.join(' ')}"`;
}

/**
 * Renders coturn's configuration from the signaling server's: realm, secrets and ports come from
 * the one place, so the credentials and URLs clients receive always match what coturn accepts.
 */
export function renderCoturnConfig(config: ServerConfig, options: CoturnOptions = {}, template = readFileSync(findTemplate(), 'utf8')): string {
  const { turn, opts, statsDb, alternates } = instanceOf(config, options);
  if (turn.stunPort !== turn.turnPort) {
    throw new CoturnConfigError('coturn serves STUN and TURN on one port: turn.stunPort must equal turn.turnPort');
  }
  const tls = turn.turnsPort !== 0;
  if (tls && (!opts.certFile || !opts.keyFile)) {
    throw new CoturnConfigError('TURN over TLS needs a certificate and key (--cert, --key), or turn.turnsPort 0');
  }
  const minPort = opts.minPort ?? 49152;
  const maxPort = opts.maxPort ?? 65535;
  if (!(minPort >= 1024 && minPort < maxPort && maxPort <= 65535)) {
    throw new CoturnConfigError(`relay port range ${minPort}-${maxPort} is not valid`);
  }
  for (const s of turn.secrets) {
    if (/[\s"#]/.test(s)) throw new CoturnConfigError('TURN secrets may not contain whitespace, quotes or #');
  }
  const allowed = [...(opts.allowedPeerIps ?? [])];
  if (opts.allowLoopbackPeers) allowed.push('127.0.0.0-127.255.255.255', '::1');
  const log = opts.log ?? 'syslog';
  const values: Record<string, string> = {
    LISTENING_PORT: String(turn.turnPort),
    TLS_LISTENING_PORT: String(opts.tlsListeningPort ?? (tls ? turn.turnsPort : 5349)),
    LISTENING_IP_LINES: lines('listening-ip', opts.listeningIps, isAddress),
    RELAY_IP_LINES: lines('relay-ip', opts.relayIps, isAddress),
    EXTERNAL_IP_LINES: lines('external-ip', opts.externalIps, EXTERNAL_IP, 'PUBLIC or PUBLIC/PRIVATE addresses'),
    MIN_PORT: String(minPort),
    MAX_PORT: String(maxPort),
    STATIC_AUTH_SECRET_LINES: turn.secrets.map((s) => `static-auth-secret=${s}`).join('\n'),
    REALM: turn.realm,
    CERT_FILE: opts.certFile ?? '',
    PKEY_FILE: opts.keyFile ?? '',
    USER_QUOTA: String(opts.userQuota ?? 12),
    TOTAL_QUOTA: String(opts.totalQuota ?? 1200),
    MAX_BPS: String(opts.maxBps ?? 375_000),
    ALLOWED_PEER_IP_LINES: [lines('allowed-peer-ip', allowed, isIpRange, 'an address or a low-high address range'), opts.allowLoopbackPeers ? 'allow-loopback-peers' : ''].filter(Boolean).join('\n'),
    LOG_LINES: log === 'syslog' ? 'syslog' : log === 'stdout' ? 'log-file=stdout' : `log-file=${log}\nno-stdout-log`,
    PID_FILE: opts.pidFile ?? '/var/run/turnserver/turnserver.pid',
    STATSDB_LINES: statsDb === undefined ? '' : statsDbLine(config, statsDb),
    ALTERNATE_SERVER_LINES: alternates.join('\n'),
  };
  let out = template.replace(/@([A-Z_]+)@/g, (_m, key: string) => {
    const value = values[key];
    if (value === undefined) throw new CoturnConfigError(`template placeholder @${key}@ has no value`);
    return value;
  });
  if (!tls) {
    out = out.replace(/^(tls-listening-port|cert|pkey|cipher-list)=.*$/gm, '').concat('\nno-tls\n');
  }
  checkPeerRules(out);
  // Drop the lines left empty by unused placeholders, keep the rest as written.
  return out.replace(/\n{3,}/g, '\n\n');
}
