/**
 * bench:renderer — the renderer's bundle size (raw, gzip, brotli) and its startup-to-interactive time
 * in Chromium. See probe.ts for what "interactive" means.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { chromiumArgs } from '../../playwright.config.js';
import { benchArgs, floorsMissed, printChecks, printTable, RESULTS_DIR, summarize, writeResults, type Check, type Summary } from '../lib/report.js';
import { buildRenderer, measureAssets, REPO_ROOT, totals } from './bundle.js';
import { bundleForPage } from './pageScript.js';
import { recordReplies, serveBuild, startupRuns, type BridgeMode, type CacheState, type PageScripts, type StartupRun } from './startup.js';

const args = benchArgs('npm run bench:renderer -- [options]\n\nBuilds the renderer, sizes its assets and times its startup in Chromium.', {
  runs: { default: 10, help: 'measured startups (each in a fresh browser context)' },
  warmup: { default: 1, help: 'startups run first and discarded' },
  cache: { default: 'cold,warm', help: 'cold: fresh context each run; warm: the window opened again in the same context' },
  'out-dir': { default: path.join(RESULTS_DIR, 'renderer-build'), help: 'where to build (never build/renderer: the e2e web server builds there)' },
  bridge: { default: 'replay', help: "window.desktop: 'replay' (main's recorded answers, one task later, like IPC) or 'service' (the real service over a Playwright binding, tens of ms per call)" },
  'skip-build': { default: false, help: 'size and load the build already in --out-dir' },
  chromium: { default: '/usr/bin/chromium', help: "Chromium binary ('' for Playwright's own)" },
  'timeout-ms': { default: 20_000, help: 'limit for one startup' },
});

const caches = args.cache.split(',').map((c) => c.trim());
if (caches.length === 0 || caches.some((c) => c !== 'cold' && c !== 'warm') || !caches.includes('cold')) {
  console.error('--cache is cold or cold,warm (a warm start needs a cold one first)');
  process.exit(2);
}
if (args.runs < 1) {
  console.error('--runs must be at least 1');
  process.exit(2);
}
if (args.bridge !== 'replay' && args.bridge !== 'service') {
  console.error('--bridge is replay or service');
  process.exit(2);
}
const bridge: BridgeMode = args.bridge;
const outDir = path.resolve(args['out-dir']);
if (outDir === path.join(REPO_ROOT, 'build', 'renderer')) {
  console.error('--out-dir must not be build/renderer: the e2e web server builds and serves it');
  process.exit(2);
}

let buildMs: number | null = null;
if (!args['skip-build']) {
  console.log(`building the renderer into ${path.relative(REPO_ROOT, outDir) || outDir} …`);
  buildMs = await buildRenderer(outDir);
}
const { assets, startupFiles } = measureAssets(outDir);
const kb = (bytes: number) => bytes / 1024;
printTable(
  'Renderer assets (KiB)',
  ['file', 'raw', 'gzip -9', 'brotli 11', 'at startup'],
  assets.map((a) => [a.file, kb(a.raw), kb(a.gzip), kb(a.brotli), a.startup]),
);
const sizeTotals = { startup: totals(assets.filter((a) => a.startup)), all: totals(assets) };
printTable(
  'Renderer bundle totals (KiB)',
  ['set', 'files', 'raw', 'gzip -9', 'brotli 11'],
  (['startup', 'all'] as const).map((k) => [k === 'startup' ? 'loaded by index.html' : 'everything emitted', sizeTotals[k].files, kb(sizeTotals[k].raw), kb(sizeTotals[k].gzip), kb(sizeTotals[k].brotli)]),
);

const scripts: PageScripts = {
  probe: await bundleForPage(path.join(import.meta.dirname, 'probe.ts'), { minify: false }),
  replay:
    bridge === 'replay'
      ? `window.__zrBenchReplies = ${JSON.stringify(await recordReplies())};\n${await bundleForPage(path.join(import.meta.dirname, 'replayBridge.ts'), { minify: false })}`
      : null,
};
const server = await serveBuild(outDir);
const executablePath = args.chromium && existsSync(args.chromium) ? args.chromium : undefined;
const browser = await chromium.launch({ headless: true, args: chromiumArgs, ...(executablePath ? { executablePath } : {}) });
const chromiumVersion = browser.version();
const runs: StartupRun[] = [];
const failures: string[] = [];
try {
  const url = `${server.origin}/index.html`;
  for (let i = 0; i < args.warmup + args.runs; i++) {
    try {
      const got = await startupRuns(browser, url, scripts, { warm: caches.includes('warm'), timeoutMs: args['timeout-ms'], bridge });
      if (i >= args.warmup) runs.push(...got);
      process.stdout.write(i < args.warmup ? 'w' : '.');
    } catch (err) {
      failures.push((err as Error).message.split('\n')[0]!);
      process.stdout.write('x');
    }
  }
  process.stdout.write('\n');
} finally {
  await browser.close();
  await server.close();
}

const metrics = [
  ['interactive (main button enabled)', 'interactiveMs'],
  ['first frame after interactive', 'paintedMs'],
  ['first contentful paint', 'fcpMs'],
  ['DOMContentLoaded end', 'domContentLoadedMs'],
  ['load end', 'loadMs'],
  ['waiting on window.desktop', 'bridgeMs'],
  ['blocking time (long tasks > 50 ms)', 'blockingMs'],
] as const;
const summaries: Record<string, Record<string, Summary>> = {};
for (const cache of caches as CacheState[]) {
  const of = runs.filter((r) => r.cache === cache);
  summaries[cache] = Object.fromEntries(metrics.map(([, key]) => [key, summarize(of.flatMap((r) => (r[key] === null ? [] : [r[key]])))]));
}
printTable(
  `Startup in Chromium (ms from navigation start; ${runs.filter((r) => r.cache === 'cold').length} cold runs, bridge ${bridge})`,
  ['metric', ...caches.flatMap((c) => [`${c} p50`, `${c} p90`])],
  metrics.map(([label, key]) => [label, ...caches.flatMap((c) => [summaries[c]![key]!.p50, summaries[c]![key]!.p90])]),
);

const labels = [...new Set(runs.map((r) => r.label))];
const observed = [...new Set(runs.filter((r) => r.cache === 'cold').flatMap((r) => r.resources.map((p) => p.replace(/^\//, ''))))];
const declared = startupFiles.filter((f) => f !== 'index.html');
const checks: Check[] = [
  { name: 'every startup reached a first screen', ok: failures.length === 0 && runs.length > 0, detail: failures.length ? `${failures.length} failed: ${[...new Set(failures)].join('; ')}` : `${runs.length} loads` },
  { name: "the first screen is a fresh install's (Connect)", ok: labels.length === 1 && labels[0] === 'Connect', detail: `main buttons seen: ${labels.map((l) => JSON.stringify(l)).join(', ') || 'none'}` },
  {
    name: 'what loads at startup is what index.html declares',
    ok: observed.length === declared.length && declared.every((f) => observed.includes(f)),
    detail: `declared ${declared.join(', ')}; fetched ${observed.join(', ') || 'nothing'}`,
  },
];
printChecks(checks);

writeResults('renderer', {
  params: { ...args, cache: caches },
  chromium: chromiumVersion,
  build: { outDir, ms: buildMs },
  definitions: {
    interactiveMs: 'performance.now() when #root first holds an enabled, laid-out button.primary (MutationObserver installed before the page scripts)',
    paintedMs: 'the first frame after interactive: a task posted from requestAnimationFrame',
    bridgeMs: 'time the startup awaited window.desktop calls that ended before interactive (with replay, mostly the main thread being busy)',
    bridge: 'replay: main\'s recorded replies answered one task later in the page; service: the real service over a Playwright binding',
    cold: 'fresh browser context and empty profile each run',
    warm: 'the page opened again in the same context after the cold run',
    gzip: 'zlib level 9',
    brotli: 'quality 11',
  },
  assets,
  sizeTotals,
  startup: summaries,
  checks,
  runs,
});
if (floorsMissed(checks)) process.exitCode = 1;
