/**
 * The sampler's pure work in Node, on the reports recorded from Chromium 156 (test/fixtures/stats):
 * reduceStats alone, and a whole sample (reduce, score, history) as StatsSampler times it. Here the
 * report is a Map of ready objects, so the difference from the in-browser figure is what reading a
 * live RTCStatsReport costs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { StatsReportLike } from '../../renderer/src/call/stats/path.js';
import { StatsSampler } from '../../renderer/src/call/stats/StatsSampler.js';
import { reduceStats, type StatsSample } from '../../renderer/src/call/stats/statsReducer.js';
import { summarize, type Summary } from '../lib/report.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures/stats');

interface Fixture {
  scenario: string;
  samples: { at: number; stats: { id: string }[] }[];
}

export interface MicroResult {
  fixture: string;
  reports: number;
  entriesPerReport: number;
  /** µs per reduceStats call, per round over all the fixture's reports. */
  reduceUs: Summary;
  /** µs per StatsSampler sample (lastSampleCostMs), which the browser figure also reports. */
  sampleUs: Summary;
  /** CPU µs (user + system) per reduceStats call over the reduce rounds. */
  reduceCpuUs: number;
}

function reports(fx: Fixture): { at: number; report: StatsReportLike }[] {
  return fx.samples.map((s) => ({ at: s.at, report: new Map(s.stats.map((e) => [e.id, e])) }));
}

/** Each round reduces the fixture's reports in order, each against the one before, as a call would. */
function reduceRounds(list: { at: number; report: StatsReportLike }[], rounds: number): { perCallUs: number[]; cpuUs: number } {
  const perCallUs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    let previous: StatsSample | null = null;
    const t0 = performance.now();
    for (const { at, report } of list) previous = reduceStats(report, previous, at);
    perCallUs.push(((performance.now() - t0) * 1000) / list.length);
  }
  const cpu = process.cpuUsage(cpu0);
  return { perCallUs, cpuUs: (cpu.user + cpu.system) / (rounds * list.length) };
}

/** The sampler driven by hand (no timer): each tick serves the next recorded report. */
async function samplerRounds(list: { at: number; report: StatsReportLike }[], rounds: number): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  let at = 0;
  const sampler = new StatsSampler({
    intervalMs: 1000,
    now: () => at,
    setInterval: () => null,
    clearInterval: () => undefined,
    onSample: (peerId) => out.push(sampler.lastSampleCostMs(peerId)! * 1000),
  });
  for (let r = 0; r < rounds; r++) {
    // A new track per round: its first sample has no baseline, as in a real call.
    sampler.track('p', {
      getStats: async () => {
        const item = list[next++ % list.length]!;
        at = item.at;
        return item.report;
      },
    });
    next = 0;
    for (let i = 0; i < list.length; i++) await sampler.tick();
  }
  sampler.dispose();
  return out;
}

export async function microBenchmark(rounds: number): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()) {
    const fx = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as Fixture;
    if (!Array.isArray(fx.samples) || fx.samples.length === 0) continue;
    const list = reports(fx);
    // Warm the JIT so the figures are of optimised code, as in a call that has run a while.
    reduceRounds(list, Math.min(rounds, 200));
    const reduce = reduceRounds(list, rounds);
    results.push({
      fixture: fx.scenario ?? file,
      reports: list.length,
      entriesPerReport: fx.samples.reduce((a, s) => a + s.stats.length, 0) / fx.samples.length,
      reduceUs: summarize(reduce.perCallUs),
      sampleUs: summarize(await samplerRounds(list, rounds)),
      reduceCpuUs: reduce.cpuUs,
    });
  }
  return results;
}
