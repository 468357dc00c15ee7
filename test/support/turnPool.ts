/**
 * A TURN pool on loopback for tests: coturn instances rendered from the production template by the
 * code `npm run turn:config -- --server ID` runs, each on its own ports and relay range, writing
 * its allocations to its own database of a real Redis (redis-statsdb). The caller stops it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig, type ServerConfig, type ServerConfigInput } from '../../server/src/config.js';
import { renderCoturnConfig } from '../../server/src/coturnConfig.js';
import { createTurnCredential } from '../../server/src/turn.js';
import { freePort, startCoturn, type CoturnProcess } from '../../dev/coturn.js';
import { ensureDevCa, issueDevCertificate } from '../../dev/devCerts.js';
import { clusterRedisConfig, startRedis, type RedisProcess } from './redis.js';
import { TurnClient, type AllocateResult, type TurnConnectOptions } from './stunClient.js';

export const REALM = 'pool.example.test';
export const newSecret = () => randomBytes(24).toString('base64url');

export interface PoolInstance {
  id: string;
  turnPort: number;
  tlsPort: number;
  statsDb: number;
  /** Relay port range of its own, so two instances on one address never take each other's. */
  minPort: number;
  coturn?: CoturnProcess;
}

export interface TurnPoolHarness {
  work: string;
  caFile: string;
  ca: Buffer;
  tls: { certPath: string; keyPath: string };
  redis: RedisProcess;
  instances: PoolInstance[];
  /** The signaling configuration of this pool with these secrets (first signs), pool settings and instances set to drain. */
  config(secrets: string[], turn?: Partial<ServerConfigInput['turn']>, draining?: string[]): ServerConfig;
  /** (Re)starts an instance rendered for these secrets (and these instances draining), on its ports. */
  start(id: string, secrets: string[], draining?: string[]): Promise<void>;
  stopInstance(id: string): Promise<void>;
  /** A TURN client to an instance (TLS trusts the test CA and checks the name localhost); allocate with connectAndAllocate's retry where a 437 may come. */
  connect(id: string, transport: TurnConnectOptions['transport']): Promise<TurnClient>;
  /** Allocates once on an instance and frees it again; the result says whether it worked. */
  allocateOnce(id: string, transport: TurnConnectOptions['transport'], cred: { username: string; password: string }): Promise<AllocateResult>;
  instanceAt(port: number): PoolInstance | undefined;
  stop(): Promise<void>;
}

export function credentialFor(secret: string, ttlSeconds = 900): { username: string; password: string } {
  const c = createTurnCredential({ secret, id: randomBytes(6).toString('base64url'), ttlSeconds });
  return { username: c.username, password: c.credential };
}

export async function startTurnPool(opts: { ids: string[]; secrets: string[]; start?: boolean }): Promise<TurnPoolHarness> {
  const work = await mkdtemp(path.join(tmpdir(), 'zr-turnpool-'));
  await ensureDevCa(path.join(work, 'ca'));
  const tls = await issueDevCertificate({ caDir: path.join(work, 'ca'), outDir: path.join(work, 'tls'), hosts: ['localhost', '127.0.0.1'], days: 1 });
  const caFile = path.join(work, 'ca', 'dev-ca.pem');
  const ca = await readFile(caFile);
  const redis = await startRedis();
  const instances: PoolInstance[] = [];
  for (const [i, id] of opts.ids.entries()) {
    const taken = instances.flatMap((x) => [x.turnPort, x.tlsPort]);
    const turnPort = await freePort('127.0.0.1', taken);
    const tlsPort = await freePort('127.0.0.1', [...taken, turnPort]);
    instances.push({ id, turnPort, tlsPort, statsDb: i + 1, minPort: 41000 + i * 1000 });
  }
  const byId = (id: string) => {
    const found = instances.find((x) => x.id === id);
    if (!found) throw new Error(`no pool instance ${id}`);
    return found;
  };

  const connectOptions = (id: string, transport: TurnConnectOptions['transport']): TurnConnectOptions => {
    const x = byId(id);
    return {
      transport,
      host: '127.0.0.1',
      port: transport === 'tls' ? x.tlsPort : x.turnPort,
      timeoutMs: 3_000,
      ...(transport === 'tls' ? { ca, servername: 'localhost' } : {}),
    };
  };

  const config = (secrets: string[], turn: Partial<ServerConfigInput['turn']> = {}, draining: string[] = []): ServerConfig =>
    parseConfig({
      development: true,
      idp: { issuer: 'https://id.example.test', audience: 'zr', clientId: 'desktop' },
      roomToken: { secret: 'r'.repeat(32) },
      cluster: { redis: clusterRedisConfig(redis) },
      turn: {
        secrets,
        realm: REALM,
        servers: instances.map((x) => ({ id: x.id, host: '127.0.0.1', tlsHost: 'localhost', turnPort: x.turnPort, turnsPort: x.tlsPort, statsDb: x.statsDb, drain: draining.includes(x.id) })),
        pool: { probeIntervalMs: 1_000, probeTimeoutMs: 800, caFile },
        ...turn,
      },
    });

  const harness: TurnPoolHarness = {
    work,
    caFile,
    ca,
    tls,
    redis,
    instances,
    config,
    async start(id, secrets, draining = []) {
      const x = byId(id);
      await x.coturn?.stop();
      const text = renderCoturnConfig(config(secrets, {}, draining), {
        server: id,
        certFile: tls.certPath,
        keyFile: tls.keyPath,
        listeningIps: ['127.0.0.1'],
        relayIps: ['127.0.0.1'],
        minPort: x.minPort,
        maxPort: x.minPort + 999,
      });
      x.coturn = await startCoturn({ config: text, host: '127.0.0.1', udpPort: x.turnPort, tcpPorts: [x.turnPort, x.tlsPort], tls: true });
    },
    async stopInstance(id) {
      const x = byId(id);
      await x.coturn?.stop();
      delete x.coturn;
    },
    connect: (id, transport) => TurnClient.connect(connectOptions(id, transport)),
    async allocateOnce(id, transport, cred) {
      const { client, result } = await TurnClient.connectAndAllocate(connectOptions(id, transport), cred);
      await client.close();
      return result;
    },
    instanceAt: (port) => instances.find((x) => x.turnPort === port || x.tlsPort === port),
    async stop() {
      await Promise.all(instances.map((x) => x.coturn?.stop()));
      await redis.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
  try {
    if (opts.start !== false) for (const x of instances) await harness.start(x.id, opts.secrets);
  } catch (err) {
    await harness.stop();
    throw err;
  }
  return harness;
}
