/**
 * bench:signal's scale-out figures: what a deployment's nodes and Redis spend per join and per
 * relayed message, the scale-out table and its floors.
 */
import { cpus } from 'node:os';
import { printTable, type Check, type Summary } from '../lib/report.js';
import type { Deployment, StateKind } from './cluster.js';
import { cpuMsOf } from './servers.js';

/** Costs per join or per relayed message on a deployment: CPU of its nodes and of Redis, round trips to Redis. */
export interface Usage { count: number; nodeCpuMs: number; redisCpuMs: number; redisRoundTrips: number }

/** What the scale-out report reads of a server's results. */
export interface ScaleResult {
  server: string;
  deployment?: { state: StateKind; nodes: number };
  join?: { best: { achieved: number; latency: Summary } | null; usage?: Usage };
  relay?: { latency: Summary; usage?: Usage };
  relayCross?: { latency: Summary; usage?: Usage };
}

/** Starts counting a deployment's costs; the returned function gives them per unit of work. */
export async function usageMeter(d: Deployment): Promise<(count: number) => Promise<Usage>> {
  const cpu = () => d.nodes.reduce((s, n) => s + cpuMsOf(n.pid), 0);
  const [cpu0, redis0, trips0] = [cpu(), d.redis ? cpuMsOf(d.redis.pid) : 0, await d.redisRoundTrips()];
  return async (count) => ({
    count,
    nodeCpuMs: (cpu() - cpu0) / count,
    redisCpuMs: ((d.redis ? cpuMsOf(d.redis.pid) : 0) - redis0) / count,
    redisRoundTrips: ((await d.redisRoundTrips()) - trips0) / count,
  });
}

const perMessageUs = (ms: number | undefined) => (ms === undefined ? undefined : ms * 1000);

/** The scale-out table (null when no run was a deployment). */
export function scaleOutTable(results: ScaleResult[], rate: number): string | null {
  const scaleRows = results.filter((r) => r.deployment).map((r) => [
    r.server,
    r.join?.best?.achieved,
    r.join?.best?.latency.p99,
    r.join?.usage?.redisRoundTrips,
    r.join?.usage?.nodeCpuMs,
    r.join?.usage?.redisCpuMs,
    r.relay?.latency.p50,
    r.relay?.latency.p99,
    r.relayCross?.latency.p50,
    r.relayCross?.latency.p99,
    r.relay?.usage?.redisRoundTrips,
    r.relayCross?.usage?.redisRoundTrips,
    perMessageUs(r.relay?.usage?.nodeCpuMs),
    perMessageUs(r.relayCross?.usage?.nodeCpuMs),
    perMessageUs(r.relayCross?.usage?.redisCpuMs ?? r.relay?.usage?.redisCpuMs),
  ]);
  if (!scaleRows.length) return null;
  return printTable(
    `Scale-out: ZeroRange by where rooms live and node count (clients spread over the nodes directly; relay at ${rate} msg/s; join costs include each join's leave)`,
    ['deployment', 'joins/s', 'join p99 ms', 'Redis trips/join', 'node CPU ms/join', 'Redis CPU ms/join', 'relay p50 same-node', 'p99 same-node', 'p50 cross-node', 'p99 cross-node', 'Redis trips/msg same', 'Redis trips/msg cross', 'node CPU µs/msg same', 'node CPU µs/msg cross', 'Redis CPU µs/msg'],
    scaleRows,
  );

}

/** The scale-out floors: Redis costs little, crossing nodes costs little, and per-message Redis work is one publish at most. */
export function scaleChecks(results: ScaleResult[]): Check[] {
  const checks: Check[] = [];
  const cores = `the generator, the nodes and Redis share ${cpus().length} cores`;
  const memory = results.find((r) => r.deployment?.state === 'memory' && r.deployment.nodes === 1)?.join?.best?.achieved;
  const redisOne = results.find((r) => r.deployment?.state === 'redis' && r.deployment.nodes === 1)?.join?.best?.achieved;
  if (memory && redisOne !== undefined) {
    checks.push({ name: 'joins/s with rooms in Redis (1 node) ≥ 70 % of in memory', ok: redisOne >= 0.7 * memory, detail: `${redisOne.toFixed(0)}/s vs ${memory.toFixed(0)}/s (${((redisOne / memory) * 100).toFixed(0)} %)`, informative: cores });
  }
  for (const r of results.filter((x) => x.relayCross && x.relay)) {
    const same = r.relay!.latency.p99;
    const cross = r.relayCross!.latency.p99;
    checks.push({ name: `${r.server}: cross-node relay p99 ≤ 2× same-node p99`, ok: cross <= 2 * same, detail: `${cross.toFixed(2)} ms vs ${same.toFixed(2)} ms`, informative: cores });
    const trips = r.relayCross!.usage?.redisRoundTrips ?? NaN;
    checks.push({ name: `${r.server}: one Redis round trip per cross-node message (O(1), not O(room size))`, ok: trips <= 1.05, detail: `${trips.toFixed(3)} per message` });
  }
  for (const r of results.filter((x) => x.deployment?.state === 'redis' && x.relay?.usage)) {
    const trips = r.relay!.usage!.redisRoundTrips;
    checks.push({ name: `${r.server}: no Redis work for a same-node message`, ok: trips <= 0.05, detail: `${trips.toFixed(3)} per message` });
  }
  return checks;
}
