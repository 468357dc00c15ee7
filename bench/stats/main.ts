/**
 * bench:stats — what the call statistics sampler costs, per peer per second: the real StatsSampler in
 * Chromium over live peer connections with fake media flowing (inside a network namespace of its own),
 * plus the pure reduction in Node on recorded reports.
 */
import path from 'node:path';
import { chromium, type CDPSession } from '@playwright/test';
import { chromiumArgs } from '../../playwright.config.js';
import { benchArgs, floorsMissed, printChecks, printTable, summarize, writeResults, type Check } from '../lib/report.js';
import { bundleForPage } from '../renderer/pageScript.js';
import { microBenchmark } from './micro.js';
import { createBenchNamespace, namespacesUnavailable, SYSTEM_CHROMIUM } from './netns.js';
import type { SampleRecord, VideoConstraints, WindowResult } from './page.js';

const args = benchArgs(
  'npm run bench:stats -- [options]\n\nCPU cost of the call statistics sampler per peer per second (Chromium, fake media, own network namespace).',
  {
    peers: { default: '1,4,8', help: 'peer-connection counts to measure, comma-separated' },
    seconds: { default: 20, help: 'sampling time per peer count (the same again runs without the sampler, as the baseline)' },
    rounds: { default: 2, help: 'the seconds are split into this many baseline/sampling window pairs, alternating' },
    'interval-ms': { default: 1000, help: "sampling interval; the app samples every CallSession statsIntervalMs, 1000 unless set" },
    'settle-seconds': { default: 3, help: 'wait after the media flows, before measuring (bitrate ramp-up)' },
    video: { default: '640x360@15', help: 'fake camera WxH@fps (each peer encodes and decodes it both ways)' },
    'micro-rounds': { default: 2000, help: 'rounds over the recorded reports for the Node figure (0 skips it)' },
    chromium: { default: SYSTEM_CHROMIUM, help: 'Chromium binary' },
    'timeout-ms': { default: 30_000, help: 'limit for connecting and for the first decoded frames' },
  },
);

const peerCounts = args.peers.split(',').map((p) => Number(p.trim()));
if (peerCounts.length === 0 || peerCounts.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error(`--peers wants positive integers, e.g. 1,4,8 (got ${args.peers})`);
  process.exit(2);
}
const videoMatch = /^(\d+)x(\d+)@(\d+)$/.exec(args.video);
if (!videoMatch) {
  console.error(`--video is WxH@fps, e.g. 640x360@15 (got ${args.video})`);
  process.exit(2);
}
const video: VideoConstraints = { width: Number(videoMatch[1]), height: Number(videoMatch[2]), frameRate: Number(videoMatch[3]) };
if (!(args.seconds > 0) || args.rounds < 1 || !(args['interval-ms'] > 0)) {
  console.error('--seconds and --interval-ms must be positive, --rounds at least 1');
  process.exit(2);
}

// --- Node: the reduction alone, on recorded reports ---------------------------------------------
const micro = args['micro-rounds'] > 0 ? await microBenchmark(args['micro-rounds']) : [];
if (micro.length) {
  printTable(
    `Node ${process.version}: one sample of a recorded Chromium report (µs, ${args['micro-rounds']} rounds)`,
    ['fixture', 'reports', 'entries', 'reduceStats p50', 'p90', 'process CPU mean', 'whole sample p50', 'p90'],
    micro.map((m) => [m.fixture, m.reports, m.entriesPerReport, m.reduceUs.p50, m.reduceUs.p90, m.reduceCpuUs, m.sampleUs.p50, m.sampleUs.p90]),
  );
}

// --- Chromium: the real sampler over live peer connections ---------------------------------------
const unavailable = namespacesUnavailable();
if (unavailable) {
  console.log(`\nskipped the Chromium part: ${unavailable}`);
  writeResults('stats', { params: args, micro, browser: { skipped: unavailable } });
  process.exit(0);
}

const ORIGIN = 'http://zr-bench.test';
const ns = createBenchNamespace(args.chromium);
process.on('exit', ns.cleanup);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    ns.cleanup();
    process.exit(code);
  });
}

/** Cumulative renderer counters from the DevTools Performance domain (seconds). */
type Metrics = Record<'Timestamp' | 'ThreadTime' | 'ProcessTime' | 'TaskDuration' | 'ScriptDuration', number>;
async function metrics(cdp: CDPSession): Promise<Metrics> {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  const get = (name: keyof Metrics) => list.find((m) => m.name === name)?.value ?? NaN;
  return { Timestamp: get('Timestamp'), ThreadTime: get('ThreadTime'), ProcessTime: get('ProcessTime'), TaskDuration: get('TaskDuration'), ScriptDuration: get('ScriptDuration') };
}
const COUNTERS = ['ThreadTime', 'ProcessTime', 'TaskDuration', 'ScriptDuration'] as const;
/** Wall seconds of a set of windows, and ms of each renderer counter over them. */
type Totals = Record<(typeof COUNTERS)[number], number> & { seconds: number };
const zero = (): Totals => ({ seconds: 0, ThreadTime: 0, ProcessTime: 0, TaskDuration: 0, ScriptDuration: 0 });

interface PeerCountResult {
  peers: number;
  connectMs: number;
  samples: SampleRecord[];
  lost: number;
  snapshots: WindowResult['snapshot'][];
  /** The windows with the sampler running, and those without. */
  on: Totals;
  off: Totals;
  iterationMs: number[];
}

const browserResults: PeerCountResult[] = [];
let chromiumVersion: string | undefined;
let isolated: boolean | undefined;
// Whole intervals, so every window holds the same number of ticks.
const windowMs = Math.max(1, Math.round((args.seconds * 1000) / args.rounds / args['interval-ms'])) * args['interval-ms'];
try {
  const pageScript = await bundleForPage(path.join(import.meta.dirname, 'page.ts'));
  const browser = await chromium.launch({
    executablePath: ns.executable,
    headless: true,
    args: [...chromiumArgs, `--unsafely-treat-insecure-origin-as-secure=${ORIGIN}`],
  });
  chromiumVersion = browser.version();
  try {
    const context = await browser.newContext();
    // Served by interception: the namespace has no server and no DNS. Cross-origin isolated, for 5 µs timers.
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    await context.route(`${ORIGIN}/**`, (route) =>
      new URL(route.request().url()).pathname === '/bench.js'
        ? route.fulfill({ contentType: 'text/javascript', headers, body: pageScript })
        : route.fulfill({ contentType: 'text/html', headers, body: '<!doctype html><title>bench:stats</title><script src="/bench.js"></script>' }),
    );
    const page = await context.newPage();
    await page.goto(`${ORIGIN}/`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    isolated = await page.evaluate(() => window.zrStatsBench.isolated());

    for (const n of peerCounts) {
      process.stdout.write(`${n} peer${n === 1 ? '' : 's'}: connecting`);
      const connectMs = await page.evaluate(([n, video, timeout]) => window.zrStatsBench.connect(n, video, timeout), [n, video, args['timeout-ms']] as const);
      await page.evaluate((timeout) => window.zrStatsBench.mediaFlowing(timeout), args['timeout-ms']);
      await new Promise((r) => setTimeout(r, args['settle-seconds'] * 1000));
      process.stdout.write(', measuring ');
      const totals = { on: zero(), off: zero() };
      const samples: SampleRecord[] = [];
      const snapshots: WindowResult['snapshot'][] = [];
      let lost = 0;
      for (let r = 0; r < args.rounds; r++) {
        for (const sampling of [false, true]) {
          const before = await metrics(cdp);
          const got = await page.evaluate(([ms, interval, sampling]) => window.zrStatsBench.window(ms, interval, sampling), [windowMs, args['interval-ms'], sampling] as const);
          const after = await metrics(cdp);
          const into = totals[sampling ? 'on' : 'off'];
          into.seconds += after.Timestamp - before.Timestamp;
          for (const k of COUNTERS) into[k] += (after[k] - before[k]) * 1000;
          if (sampling) {
            samples.push(...got.samples);
            snapshots.push(got.snapshot);
            lost += got.lost;
          }
          process.stdout.write(sampling ? '+' : '-');
        }
      }
      const iterationMs = await page.evaluate((repeats) => window.zrStatsBench.iterationMs(repeats), 5);
      browserResults.push({ peers: n, connectMs, samples, lost, snapshots, on: totals.on, off: totals.off, iterationMs });
      process.stdout.write('\n');
    }
    await page.evaluate(() => window.zrStatsBench.close());
  } finally {
    await browser.close();
  }
} finally {
  ns.cleanup();
}

// Samples per peer per second at the sampling interval: per-sample costs times this are per peer per second.
const samplesPerSecond = 1000 / args['interval-ms'];
const rows = browserResults.map((r) => {
  const s = (f: (x: SampleRecord) => number) => summarize(r.samples.map(f));
  /** ms of a counter the sampling windows spent beyond the baseline's rate, per sample. */
  const extraPerSample = (k: (typeof COUNTERS)[number]) => (r.on[k] - (r.off[k] / r.off.seconds) * r.on.seconds) / r.samples.length;
  return {
    peers: r.peers,
    samples: r.samples.length,
    entries: s((x) => x.entries).p50,
    latencyMs: s((x) => x.latencyMs),
    callMs: s((x) => x.callMs),
    reduceMs: s((x) => x.reduceMs),
    iterationMs: summarize(r.iterationMs),
    // Wall time of synchronous code: a sample the OS preempted counts its wait, which the median ignores.
    jsMsPerPeerSecond: { p50: s((x) => x.callMs + x.reduceMs).p50 * samplesPerSecond, mean: s((x) => x.callMs + x.reduceMs).mean * samplesPerSecond },
    threadMsPerPeerSecond: extraPerSample('ThreadTime') * samplesPerSecond,
    processMsPerPeerSecond: extraPerSample('ProcessTime') * samplesPerSecond,
    baselineThreadMsPerSecond: r.off.ThreadTime / r.off.seconds,
    baselineProcessMsPerSecond: r.off.ProcessTime / r.off.seconds,
  };
});

printTable(
  `Chromium ${chromiumVersion}: one sample, per peer (ms; interval ${args['interval-ms']} ms, video ${args.video}, timer resolution ${isolated ? '5 µs' : '100 µs'})`,
  ['peers', 'samples', 'entries', 'getStats latency p50', 'p90', 'getStats call p50', 'reduce p50', 'reduce p90', 'one forEach p50'],
  rows.map((r) => [r.peers, r.samples, r.entries, r.latencyMs.p50, r.latencyMs.p90, r.callMs.p50, r.reduceMs.p50, r.reduceMs.p90, r.iterationMs.p50]),
);
const pct = (msPerSecond: number) => msPerSecond / 10;
printTable(
  `CPU per peer per second at ${args['interval-ms']} ms (ms; % of one core in brackets)`,
  ['peers', 'sampler JS (median sample)', 'sampler JS (mean)', 'main thread CPU Δ', 'renderer process CPU Δ (noisy)', 'baseline main thread ms/s (all peers)', 'baseline renderer ms/s (all peers)'],
  rows.map((r) => [
    r.peers,
    `${r.jsMsPerPeerSecond.p50.toFixed(3)} (${pct(r.jsMsPerPeerSecond.p50).toFixed(3)} %)`,
    `${r.jsMsPerPeerSecond.mean.toFixed(3)} (${pct(r.jsMsPerPeerSecond.mean).toFixed(3)} %)`,
    `${r.threadMsPerPeerSecond.toFixed(2)} (${pct(r.threadMsPerPeerSecond).toFixed(2)} %)`,
    `${r.processMsPerPeerSecond.toFixed(1)} (${pct(r.processMsPerPeerSecond).toFixed(1)} %)`,
    r.baselineThreadMsPerSecond,
    r.baselineProcessMsPerSecond,
  ]),
);

// Each sampling window holds windowMs / interval ticks per peer.
const expectedSamples = (peers: number) => (windowMs / args['interval-ms']) * args.rounds * peers;
const checks: Check[] = browserResults.flatMap((r, i) => {
  const row = rows[i]!;
  const ends = r.snapshots.filter((s) => s !== null);
  const last = ends.at(-1);
  return [
    {
      name: `${r.peers} peer(s): direct path on the namespace's address`,
      ok: ends.length > 0 && ends.every((s) => s.path === 'Direct' && s.localAddress === ns.address),
      detail: last ? `${last.path} from ${last.localAddress}` : 'no snapshot',
    },
    {
      name: `${r.peers} peer(s): media flowing while sampled`,
      ok: ends.length > 0 && ends.every((s) => (s.videoInBitrate ?? 0) > 0 && (s.audioInBitrate ?? 0) > 0),
      detail: last ? `video in ${Math.round((last.videoInBitrate ?? 0) / 1000)} kbit/s at ${last.videoInFps ?? '–'} fps, audio in ${Math.round((last.audioInBitrate ?? 0) / 1000)} kbit/s` : 'no snapshot',
    },
    {
      name: `${r.peers} peer(s): the sampler kept its interval`,
      ok: row.samples >= expectedSamples(r.peers) * 0.9 && r.lost <= r.peers * args.rounds,
      detail: `${row.samples} samples of ${expectedSamples(r.peers)} ticks × peers, ${r.lost} lost`,
    },
  ];
});
printChecks(checks);

writeResults('stats', {
  params: { ...args, peers: peerCounts, video },
  chromium: chromiumVersion,
  crossOriginIsolated: isolated ?? false,
  windowMs,
  definitions: {
    reduceMs: 'StatsSampler.lastSampleCostMs: main-thread ms of reduce + score + history for one sample (reading the live report included)',
    callMs: 'synchronous part of pc.getStats(); latencyMs: until its promise resolved (collected off the main thread meanwhile)',
    jsMsPerPeerSecond: 'median and mean (callMs + reduceMs) per sample × samples per second at the interval (wall time: a preempted sample counts its wait)',
    threadMsPerPeerSecond: 'DevTools ThreadTime (renderer main-thread CPU) of the sampling windows beyond the baseline windows\' rate, per sample, × samples per second',
    processMsPerPeerSecond: 'the same with ProcessTime (whole renderer process, WebRTC threads included): noisy, the media dominates it',
    percentOfCore: 'ms per second / 10',
  },
  micro,
  browser: { rows, runs: browserResults.map(({ samples, ...rest }) => ({ ...rest, sampleCount: samples.length })) },
  checks,
});
if (floorsMissed(checks)) process.exitCode = 1;
