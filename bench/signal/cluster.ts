/**
 * ZeroRange as a deployment of N signaling nodes for `bench:signal --nodes N --state redis`: a fresh
 * redis-server, N server processes sharing it (and the room-token and TURN secrets), clients spread
 * over the nodes directly (no balancer: it would add its own hop and CPU to every figure).
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '../../dev/coturn.js';
import { startRedis, type RedisProcess } from '../../dev/redis.js';
import { startZeroRange, type ServerProcess } from './servers.js';
import type { Endpoint } from './rawWs.js';

export type StateKind = 'memory' | 'redis';

export interface Deployment {
  name: string;
  state: StateKind;
  nodes: ServerProcess[];
  /** Redis, for its CPU (null for the in-memory state). */
  redis: RedisProcess | null;
  endpoints: Endpoint[];
  /** Round trips to Redis the nodes have made so far, summed over nodes (their own count, /metrics). */
  redisRoundTrips(): Promise<number>;
  stop(): Promise<void>;
}

export interface DeploymentOptions {
  state: StateKind;
  nodes: number;
  /** First port; node i listens on port + i. */
  port: number;
  idp: { issuer: string; audience: string; clientId: string };
  dir: string;
  logLevel: string;
  nodeOptions?: string;
}

export const deploymentName = (state: StateKind, nodes: number) => (state === 'memory' ? 'ZeroRange' : `ZeroRange redis ×${nodes}`);

async function roundTripsOf(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^zerorange_redis_commands_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm)) sum += Number(m[1]);
  return sum;
}

/** Waits until a node reaches Redis (its /readyz), so the first joins are not refused. */
async function ready(ep: Endpoint): Promise<void> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const res = await fetch(`http://${ep.host}:${ep.port}/readyz`).catch(() => null);
    if (res?.status === 200) return;
  }
  throw new Error(`node on port ${ep.port} did not become ready`);
}

export async function startDeployment(opts: DeploymentOptions): Promise<Deployment> {
  const name = deploymentName(opts.state, opts.nodes);
  const base = { idp: opts.idp, dir: opts.dir, logLevel: opts.logLevel, ...(opts.nodeOptions ? { nodeOptions: opts.nodeOptions } : {}) };
  if (opts.state === 'memory') {
    if (opts.nodes !== 1) throw new Error('rooms in memory serve one node only: use --state redis for --nodes above 1');
    const node = await startZeroRange({ ...base, port: opts.port });
    return { name, state: 'memory', nodes: [node], redis: null, endpoints: [node.endpoint], redisRoundTrips: () => Promise.resolve(0), stop: () => node.stop() };
  }
  const redis = await startRedis();
  const secrets = { room: randomBytes(32).toString('base64'), turn: randomBytes(32).toString('base64') };
  const nodes: ServerProcess[] = [];
  const metricsPorts: number[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  };
  try {
    for (let i = 0; i < opts.nodes; i++) {
      const metricsPort = await freePort();
      metricsPorts.push(metricsPort);
      nodes.push(await startZeroRange({ ...base, port: opts.port + i, cluster: { nodeId: `node-${i}`, redis: { url: redis.url, password: redis.password }, secrets, metricsPort } }));
    }
    await Promise.all(nodes.map((n) => ready(n.endpoint)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name,
    state: 'redis',
    nodes,
    redis,
    endpoints: nodes.map((n) => n.endpoint),
    redisRoundTrips: async () => (await Promise.all(metricsPorts.map(roundTripsOf))).reduce((a, b) => a + b, 0),
    stop,
  };
}
