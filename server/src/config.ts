import { readFileSync } from 'node:fs';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const secret = z.string().min(32, 'must be at least 32 characters (use 32 random bytes, e.g. `openssl rand -base64 32`)');

// IdP tokens are verified with asymmetric algorithms only: HS* would let anyone holding the
// client secret mint tokens, and `none` is never acceptable.
const AsymmetricAlg = z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

const PolicyRule = z.object({
  /** Room id or glob with `*` (e.g. `ops-*`). */
  rooms: z.string().regex(/^[a-z0-9*-]{1,64}$/, 'a room pattern uses a-z, 0-9, - and *'),
  allow: z
    .object({
      users: z.array(z.string().min(1)).default([]),
      groups: z.array(z.string().min(1)).default([]),
      emailDomains: z.array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'not a domain')).default([]),
    })
    .refine((a) => a.users.length + a.groups.length + a.emailDomains.length > 0, 'a rule must allow someone'),
});
export type PolicyRule = z.infer<typeof PolicyRule>;

const PER_IP_OVER_PER_USER = [
  ['ipJoinsPerMinute', 'joinsPerMinute'],
  ['ipJoinBurst', 'joinBurst'],
  ['ipNetworkChecksPerMinute', 'networkChecksPerMinute'],
  ['ipNetworkCheckBurst', 'networkCheckBurst'],
] as const;

const Cluster = z
  .object({
    /** This node's name in logs, metrics and shared state. Default: the host name and listening port. */
    nodeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a node id uses letters, digits, ., _ and - (at most 64)').optional(),
    /**
     * Shared state for several signaling nodes (rooms, used room tokens, limits, message routing).
     * Unset: one node with its state in memory, the default for a single server.
     */
    redis: z
      .object({
        url: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// (TLS) URL such as rediss://redis.internal:6380' }),
        /** Redis ACL user and password (or ZR_REDIS_PASSWORD / ZR_REDIS_PASSWORD_FILE); kept out of the URL so logs never carry it. */
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        /** CA certificate (PEM) that signed the Redis server's certificate, for rediss:// with a private CA. */
        caFile: z.string().min(1).optional(),
        /** Prefix of every key and channel, so several deployments can share one Redis. */
        keyPrefix: z.string().regex(/^[A-Za-z0-9:_-]{1,32}$/, 'a key prefix uses letters, digits, :, _ and -').default('zr:'),
        /** A command not answered in this long fails (a join then gets a clear 503) instead of hanging. */
        commandTimeoutMs: z.number().int().min(50).max(10_000).default(1_000),
      })
      .strict()
      .refine((r) => !r.caFile || r.url.startsWith('rediss:'), { message: 'is only used with a rediss:// URL', path: ['caFile'] })
      .refine((r) => !/^rediss?:\/\/[^/@]*:[^/@]*@/.test(r.url), {
        message: 'must not carry a password: set cluster.redis.password or ZR_REDIS_PASSWORD(_FILE) so it never appears in logs',
        path: ['url'],
      })
      .optional(),
    /** How often a node renews its presence in shared state; a node silent for 3 beats is considered gone. */
    heartbeatMs: z.number().int().min(200).max(60_000).default(5_000),
    /** On SIGTERM, /readyz fails this long before sockets close, so the load balancer sends new clients elsewhere first. */
    drainDelayMs: z.number().int().min(0).max(60_000).default(0),
  })
  .strict()
  .prefault({});

const TurnPool = z
  .object({
    /** How often every instance is probed (an authenticated Allocate over UDP, TCP and TLS). */
    probeIntervalMs: z.number().int().min(1_000).max(60_000).default(5_000),
    /** A probe not answered in this long fails; below probeIntervalMs, so a round ends before the next. */
    probeTimeoutMs: z.number().int().min(200).max(30_000).default(2_000),
    /** Instances handed to each join: the first for relaying, the others for failover by ICE restart. */
    perJoin: z.number().int().min(1).max(3).default(2),
    /** CA certificate (PEM) the TLS probe trusts instead of the system's, for a private CA. */
    caFile: z.string().min(1).optional(),
  })
  .strict()
  .prefault({})
  .refine((p) => p.probeTimeoutMs < p.probeIntervalMs, { message: 'must be less than probeIntervalMs', path: ['probeTimeoutMs'] });

const ips = z.array(z.string().min(1)).optional();
/** One coturn instance of a pool; ports default to the turn section's. */
const TurnServer = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'a TURN server id uses letters, digits, ., _ and - (at most 32)'),
    host: z.string().min(1),
    tlsHost: z.string().min(1).optional(),
    /** Address the signaling server probes when clients reach the instance elsewhere (an internal address). */
    probeHost: z.string().min(1).optional(),
    /** TURN (and STUN) over UDP and TCP; coturn answers STUN on the same port. */
    turnPort: port.optional(),
    turnsPort: port.optional(),
    /** Redis database (1-15) of this instance's redis-statsdb: its allocation count, the pool's load figure. */
    statsDb: z.number().int().min(1).max(15).optional(),
    /** Out of new joins; calls on it go on. */
    drain: z.boolean().default(false),
    /** coturn's addresses on its host, used by `turn:config --server ID` (command-line flags add to them). */
    listeningIps: ips,
    relayIps: ips,
    externalIps: ips,
  })
  .strict();
export type TurnServerConfig = z.infer<typeof TurnServer>;

const Turn = z
  .object({
    /** Shared secrets of coturn's use-auth-secret. The first one signs; all are accepted by coturn. */
    secrets: z.array(secret).min(1).max(8),
    /** At least 600 outside development; shorter lifetimes only let tests watch credentials expire mid-call. */
    ttlSeconds: z.number().int().min(40).max(1800).default(900),
    /** Push fresh credentials this long before the current ones expire. */
    refreshBeforeSeconds: z.number().int().min(30).default(120),
    /** One coturn: the host clients reach it on. Leave out when `servers` lists a pool. */
    host: z.string().min(1).optional(),
    /** Host name for turns: URLs, when the certificate names another host than `host`. */
    tlsHost: z.string().min(1).optional(),
    /** Several coturn instances sharing the secrets: each join gets a healthy, least-loaded one (and a spare). */
    servers: z.array(TurnServer).min(1).max(32).optional(),
    pool: TurnPool,
    realm: z.string().min(1).default('zerorange'),
    stunPort: port.default(3478),
    turnPort: port.default(3478),
    /** TURN over TLS; 0 leaves turns: out of the ICE servers. */
    turnsPort: port.default(443),
  })
  .refine((t) => t.refreshBeforeSeconds < t.ttlSeconds, {
    message: 'refreshBeforeSeconds must be less than ttlSeconds',
    path: ['refreshBeforeSeconds'],
  })
  .superRefine((t, ctx) => {
    if ((t.host === undefined) === (t.servers === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['host'], message: 'set either turn.host (one coturn) or turn.servers (a pool), not both and not neither' });
    }
    if (t.servers && (t.tlsHost !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tlsHost'], message: 'with turn.servers, set tlsHost on each server' });
    }
    const seen = { id: new Set<string>(), statsDb: new Set<number>() };
    (t.servers ?? []).forEach((s, i) => {
      if (seen.id.has(s.id)) ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], message: `${s.id} is listed twice` });
      seen.id.add(s.id);
      if (s.statsDb === undefined) return;
      if (seen.statsDb.has(s.statsDb)) {
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'statsDb'], message: `database ${s.statsDb} is another server's: coturn deletes every allocation key in its database at start, so each instance needs its own` });
      }
      seen.statsDb.add(s.statsDb);
    });
  });

export const ServerConfig = z
  .object({
    listen: z.object({ host: z.string().default('127.0.0.1'), port: port.default(8443) }).prefault({}),
    /** TLS on the listening socket. Leave out behind a TLS-terminating proxy. */
    tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    /**
     * Public base URL clients use (https://signal.example.com): the join page's server link and the
     * signalingUrl given to clients. Required unless `development`; the Host header is never used.
     */
    publicUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://signal.example.com' }).optional(),
    /**
     * A local development or test server: without publicUrl, clients are sent to the listening
     * address, and TURN credentials may be shorter than production's 600 s (outage drills).
     */
    development: z.boolean().default(false),
    /** Prometheus metrics on a listener of their own, never on the public port. Loopback by default. */
    metrics: z.object({ host: z.string().min(1).default('127.0.0.1'), port: port.default(9464) }).prefault({}),
    /** How many reverse proxies append to X-Forwarded-For in front of this server (0: trust none). */
    trustProxyHops: z.number().int().min(0).max(5).default(0),
    idp: z.object({
      issuer: z.url(),
      audience: z.string().min(1),
      /** Published to desktop apps by /v1/client-config. */
      clientId: z.string().min(1),
      scopes: z.array(z.string()).default(['openid', 'profile', 'email', 'offline_access']),
      algorithms: z.array(AsymmetricAlg).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
      clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
      /** Overrides the JWKS URI from discovery. */
      jwksUri: z.url().optional(),
    }),
    roomToken: z
      .object({
        /** One signing key. For rotation without a restart, use keysFile instead. */
        secret: secret.optional(),
        /**
         * Signing keyring (`<key id> <secret> [verify-only]` per line, newest first; the first key not
         * marked verify-only signs, every listed key verifies). Reloaded on SIGHUP and when it changes.
         */
        keysFile: z.string().min(1).optional(),
        /**
         * Key of the stable peer ids (a call keeps its id across reconnects and nodes). Required with
         * keysFile, so rotating signing keys never changes anyone's peer id; defaults to `secret`.
         */
        peerIdSecret: secret.optional(),
        ttlSeconds: z.number().int().min(300).max(900).default(600),
        /**
         * Append-only file of used room-token ids, so a token stays single-use across restarts
         * (one server process per file). Unset: remembered in memory only (warned at start).
         */
        replayStoreFile: z.string().min(1).optional(),
      })
      .superRefine((r, ctx) => {
        if (r.secret === undefined && r.keysFile === undefined) {
          ctx.addIssue({ code: 'custom', path: ['secret'], message: 'is required (or roomToken.keysFile, a keyring that rotates without a restart)' });
        }
        if (r.secret !== undefined && r.keysFile !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['keysFile'], message: 'replaces roomToken.secret: set one of them (list the secret as a key in the file)' });
        }
        if (r.keysFile !== undefined && r.peerIdSecret === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['peerIdSecret'],
            message: 'is required with roomToken.keysFile (the same on every node; a former roomToken.secret keeps existing peer ids)',
          });
        }
      }),
    turn: Turn,
    rooms: z
      .object({
        maxPeers: z.number().int().min(2).max(16).default(4),
        /** First matching rule decides; a room no rule matches is open to any signed-in user with its link. */
        policy: z.array(PolicyRule).default([]),
      })
      .prefault({}),
    /** Origins allowed to open the signaling socket from a browser; requests without Origin are native clients. */
    allowedOrigins: z.array(z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/, 'an origin is scheme://host[:port]')).default([]),
    limits: z
      .object({
        maxMessageBytes: z.number().int().min(1024).max(64 * 1024).default(64 * 1024),
        messagesPerSecond: z.number().positive().default(50),
        messageBurst: z.number().int().positive().default(200),
        userMessagesPerSecond: z.number().positive().default(150),
        userMessageBurst: z.number().int().positive().default(400),
        joinsPerMinute: z.number().positive().default(30),
        joinBurst: z.number().int().positive().default(10),
        /** "Check my network" (POST /v1/ice-servers), per user. */
        networkChecksPerMinute: z.number().positive().default(6),
        networkCheckBurst: z.number().int().positive().default(5),
        /**
         * The same per client address, whoever signs in: loose enough for an office behind one NAT,
         * tight enough that many accounts on one machine do not multiply the per-user limits. Never
         * below the per-user value (one person on one address gets their whole allowance): unset,
         * each is the larger of its default (120/min burst 60; 30/min burst 20) and the per-user one.
         */
        ipJoinsPerMinute: z.number().positive().optional(),
        ipJoinBurst: z.number().int().positive().optional(),
        ipNetworkChecksPerMinute: z.number().positive().optional(),
        ipNetworkCheckBurst: z.number().int().positive().optional(),
        connectionsPerIp: z.number().int().positive().default(32),
        /**
         * TCP connections one address may hold on the public port, signaling sockets included
         * (0: no cap). Not applied behind trusted proxies (trustProxyHops > 0): they must cap their own.
         */
        httpConnectionsPerIp: z.number().int().min(0).default(64),
        /** A request's headers must arrive within this, the whole request within requestTimeoutMs. */
        headersTimeoutMs: z.number().int().min(100).default(10_000),
        requestTimeoutMs: z.number().int().min(100).default(15_000),
        /** How often those two are checked; a slow client lives at most this much longer. */
        connectionsCheckIntervalMs: z.number().int().min(50).max(5_000).default(1_000),
        sendQueueBytes: z.number().int().min(64 * 1024).default(1024 * 1024),
        joinTimeoutMs: z.number().int().min(100).default(10_000),
        heartbeatIntervalMs: z.number().int().min(100).default(15_000),
        /**
         * Bytes a user may relay to other members (token bucket). A join in a full room of 16 sends
         * 15 offers (SDP 3-8 KB) and their candidates, about 180 KB at once, as does an ICE restart
         * of every connection: the burst holds more than two of those. Once connected, signaling is
         * a few hundred bytes a second, and the rate refills the burst in 8 s. A flood therefore
         * puts at most the burst (half of the 1 MiB send queue) in a member's queue, plus 64 KiB/s
         * that any member reading at 512 kbit/s or more drains as it comes.
         */
        relayBytesPerSecond: z.number().int().min(1024).default(64 * 1024),
        relayByteBurst: z.number().int().min(1024).default(512 * 1024),
      })
      .refine((l) => l.relayByteBurst >= l.maxMessageBytes, { message: 'relayByteBurst must be at least maxMessageBytes', path: ['relayByteBurst'] })
      .refine((l) => l.relayByteBurst < l.sendQueueBytes, { message: 'relayByteBurst must be less than sendQueueBytes, or one sender can fill a queue', path: ['relayByteBurst'] })
      .superRefine((l, ctx) => {
        for (const [ip, user] of PER_IP_OVER_PER_USER) {
          const value = l[ip];
          if (value !== undefined && value < l[user]) ctx.addIssue({ code: 'custom', path: [ip], message: `must be at least limits.${user} (one person on one address)` });
        }
      })
      .transform((l) => ({
        ...l,
        ipJoinsPerMinute: l.ipJoinsPerMinute ?? Math.max(120, l.joinsPerMinute),
        ipJoinBurst: l.ipJoinBurst ?? Math.max(60, l.joinBurst),
        ipNetworkChecksPerMinute: l.ipNetworkChecksPerMinute ?? Math.max(30, l.networkChecksPerMinute),
        ipNetworkCheckBurst: l.ipNetworkCheckBurst ?? Math.max(20, l.networkCheckBurst),
      }))
      .prefault({}),
    cluster: Cluster,
    shutdownGraceMs: z.number().int().min(0).default(10_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.development && !c.publicUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['publicUrl'],
        message: 'is required (the https URL clients use, e.g. https://signal.example.com); only a development server (development: true) may go without',
      });
    }
    (c.turn.servers ?? []).forEach((s, i) => {
      if (s.statsDb === undefined) return;
      const path = ['turn', 'servers', i, 'statsDb'];
      const redis = c.cluster.redis;
      if (!redis) ctx.addIssue({ code: 'custom', path, message: 'needs cluster.redis: coturn writes its allocations to that Redis' });
      else if (Number(new URL(redis.url).pathname.slice(1) || 0) === s.statsDb) {
        ctx.addIssue({ code: 'custom', path, message: "is the signaling nodes' own database (cluster.redis.url): give coturn's accounting a database of its own" });
      }
    });
    if (c.limits.headersTimeoutMs > c.limits.requestTimeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'headersTimeoutMs'], message: 'must not exceed limits.requestTimeoutMs' });
    }
  })
  .refine((c) => c.development || c.turn.ttlSeconds >= 600, {
    path: ['turn', 'ttlSeconds'],
    message: 'must be at least 600 (only a development server may use shorter TURN credentials)',
    // Reported with the other problems, whenever both settings themselves are valid.
    when: ({ value }) => {
      const v = value as { development?: unknown; turn?: { ttlSeconds?: unknown } } | null;
      return typeof v?.turn?.ttlSeconds === 'number' && (v.development === undefined || typeof v.development === 'boolean');
    },
  });

export type ServerConfig = z.infer<typeof ServerConfig>;
export type ServerConfigInput = z.input<typeof ServerConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates a configuration object once; every problem is reported with the setting's path. */
export function parseConfig(input: unknown): ServerConfig {
  const result = ServerConfig.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

type Env = Record<string, string | undefined>;

function readSecretFile(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError([`${setting}: cannot read ${path}: ${(err as Error).message}`]);
  }
}

/**
 * Loads the configuration: a JSON file (ZR_CONFIG or the argument), then secrets from the
 * environment or from files, so secrets never need to sit in the config file:
 * ZR_ROOM_TOKEN_SECRET / ZR_ROOM_TOKEN_SECRET_FILE, ZR_ROOM_TOKEN_KEYS_FILE, ZR_PEER_ID_SECRET /
 * ZR_PEER_ID_SECRET_FILE, ZR_REPLAY_STORE_FILE, ZR_TURN_SECRETS (comma-separated,
 * newest first) / ZR_TURN_SECRETS_FILE (one per line, newest first), ZR_PORT, ZR_LOG_LEVEL, ZR_NODE_ID,
 * ZR_REDIS_URL, ZR_REDIS_PASSWORD / ZR_REDIS_PASSWORD_FILE.
 */
export function loadConfig(env: Env = process.env, file = env.ZR_CONFIG): ServerConfig {
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`ZR_CONFIG: cannot read ${file}: ${(err as Error).message}`]);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError([`ZR_CONFIG: ${file} is not valid JSON: ${(err as Error).message}`]);
    }
  }
  const roomToken = { ...(raw.roomToken as object | undefined) } as Record<string, unknown>;
  // The environment's choice of signing key replaces the file's; a keys file wins over a lone secret,
  // so a deployment moves to one by adding ZR_ROOM_TOKEN_KEYS_FILE (a systemd drop-in, say).
  const useSecret = (value: string) => {
    roomToken.secret = value;
    delete roomToken.keysFile;
  };
  if (env.ZR_ROOM_TOKEN_SECRET) useSecret(env.ZR_ROOM_TOKEN_SECRET);
  if (env.ZR_ROOM_TOKEN_SECRET_FILE) useSecret(readSecretFile(env.ZR_ROOM_TOKEN_SECRET_FILE, 'ZR_ROOM_TOKEN_SECRET_FILE'));
  if (env.ZR_ROOM_TOKEN_KEYS_FILE) {
    roomToken.keysFile = env.ZR_ROOM_TOKEN_KEYS_FILE;
    delete roomToken.secret;
  }
  if (env.ZR_PEER_ID_SECRET) roomToken.peerIdSecret = env.ZR_PEER_ID_SECRET;
  if (env.ZR_PEER_ID_SECRET_FILE) roomToken.peerIdSecret = readSecretFile(env.ZR_PEER_ID_SECRET_FILE, 'ZR_PEER_ID_SECRET_FILE');
  if (env.ZR_REPLAY_STORE_FILE) roomToken.replayStoreFile = env.ZR_REPLAY_STORE_FILE;
  const turn = { ...(raw.turn as object | undefined) } as Record<string, unknown>;
  if (env.ZR_TURN_SECRETS) turn.secrets = env.ZR_TURN_SECRETS.split(',').map((s) => s.trim()).filter(Boolean);
  if (env.ZR_TURN_SECRETS_FILE) {
    turn.secrets = readSecretFile(env.ZR_TURN_SECRETS_FILE, 'ZR_TURN_SECRETS_FILE')
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('#'));
  }
  const listen = { ...(raw.listen as object | undefined) } as Record<string, unknown>;
  if (env.ZR_PORT) {
    const n = Number(env.ZR_PORT);
    listen.port = Number.isInteger(n) ? n : env.ZR_PORT;
  }
  const cluster = { ...(raw.cluster as object | undefined) } as Record<string, unknown>;
  if (env.ZR_NODE_ID) cluster.nodeId = env.ZR_NODE_ID;
  if (env.ZR_REDIS_URL || env.ZR_REDIS_PASSWORD || env.ZR_REDIS_PASSWORD_FILE) {
    const redis = { ...(cluster.redis as object | undefined) } as Record<string, unknown>;
    if (env.ZR_REDIS_URL) redis.url = env.ZR_REDIS_URL;
    if (env.ZR_REDIS_PASSWORD) redis.password = env.ZR_REDIS_PASSWORD;
    if (env.ZR_REDIS_PASSWORD_FILE) redis.password = readSecretFile(env.ZR_REDIS_PASSWORD_FILE, 'ZR_REDIS_PASSWORD_FILE');
    cluster.redis = redis;
  }
  return parseConfig({
    ...raw,
    listen,
    cluster,
    roomToken,
    turn,
    ...(env.ZR_LOG_LEVEL ? { logLevel: env.ZR_LOG_LEVEL } : {}),
  });
}
