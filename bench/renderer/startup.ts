/**
 * Loads the built renderer in Chromium the way the desktop app does, and times its startup: the files
 * come from the app protocol's own request handler (same bytes, same headers: CSP, no-cache), here
 * behind a loopback HTTP server. window.desktop either replays what a real main-process service
 * answered (replayBridge.ts) or reaches that service in this process through a Playwright binding.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from '@playwright/test';
import { buildCsp, createAppRequestHandler } from '../../electron/main/appProtocol.js';
import { APP_ORIGIN } from '../../electron/main/security.js';
import { installDesktopBridge } from '../../test/support/desktopBridge.js';
import { createTestDesktopService } from '../../test/support/testDesktopService.js';
import { DESKTOP_CALLS, DESKTOP_EVENTS } from '../../shared/ipc/desktopApi.js';
import type { StartupMetrics } from './probe.js';
import type { Replies } from './replayBridge.js';

/** The renderer on http://127.0.0.1:<free port>/, each request answered by the app:// handler. */
export async function serveBuild(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  const handle = createAppRequestHandler({ root, csp: () => buildCsp({ connectSrc: [] }) });
  const server: Server = createServer((req, res) => {
    handle(new Request(`${APP_ORIGIN}${req.url ?? '/'}`, { method: req.method ?? 'GET' }))
      .then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch((err: unknown) => {
        res.writeHead(500).end(String(err));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export type CacheState = 'cold' | 'warm';
export type BridgeMode = 'replay' | 'service';

type Service = ReturnType<typeof createTestDesktopService>;

async function withFreshService<T>(use: (service: Service) => Promise<T>): Promise<T> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'zr-bench-renderer-'));
  const service = createTestDesktopService({ userDataDir, openExternal: async () => undefined, networkInterfaces });
  try {
    return await use(service);
  } finally {
    await service.dispose();
    await rm(userDataDir, { recursive: true, force: true });
  }
}

/** What a fresh install's main answers to the calls the renderer makes while starting. */
export function recordReplies(): Promise<Replies> {
  return withFreshService(async (service) => ({
    calls: [...DESKTOP_CALLS],
    events: [...DESKTOP_EVENTS],
    results: { appInfo: await service.appInfo(), getState: await service.getState(), takeJoinLinks: await service.takeJoinLinks() },
  }));
}

export interface PageScripts {
  probe: string;
  /** replayBridge.ts with its replies, for --bridge replay. */
  replay: string | null;
}

export interface StartupRun extends StartupMetrics {
  cache: CacheState;
  /** Time the startup spent waiting on main before interactive (sum of bridge calls that ended by then). */
  bridgeMs: number;
  /** Long-task time beyond 50 ms each, before interactive (Total Blocking Time's rule). */
  blockingMs: number;
}

/** The renderer's window size (electron/main/window.ts). */
const VIEWPORT = { width: 1100, height: 760 };

async function loadOnce(context: BrowserContext, service: Service | null, url: string, scripts: PageScripts, cache: CacheState, timeoutMs: number): Promise<StartupRun> {
  const page = await context.newPage();
  let unbridge: () => void = () => undefined;
  try {
    if (service) unbridge = await installDesktopBridge(page, service);
    else await page.addInitScript({ content: scripts.replay! });
    // After the bridge's script, so the probe can wrap its binding.
    await page.addInitScript({ content: scripts.probe });
    await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
    // Only waits: every time is already stamped in the page.
    await page.waitForFunction(
      () => {
        const p = window.__zrStartup?.probe;
        return p?.paintedMs != null && (p.fcpMs != null || performance.now() > p.paintedMs + 2000);
      },
      undefined,
      { timeout: timeoutMs, polling: 20 },
    );
    const m = await page.evaluate(() => window.__zrStartup!.collect());
    const interactive = m.interactiveMs!;
    return {
      ...m,
      cache,
      bridgeMs: m.bridge.filter((b) => b.startMs + b.ms <= interactive).reduce((a, b) => a + b.ms, 0),
      blockingMs: m.longTasks.filter((t) => t.startMs < interactive).reduce((a, t) => a + Math.max(0, t.ms - 50), 0),
    };
  } finally {
    unbridge();
    await page.close();
  }
}

/**
 * One cold start: a fresh context (empty HTTP cache, new renderer process) and a fresh main service
 * with an empty profile, so the first screen is a fresh install's. Warm: the window opened again in
 * that context, with whatever the app's headers let Chromium keep.
 */
export async function startupRuns(
  browser: Browser,
  url: string,
  scripts: PageScripts,
  opts: { warm: boolean; timeoutMs: number; bridge: BridgeMode },
): Promise<StartupRun[]> {
  const inContext = async (service: Service | null) => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const runs = [await loadOnce(context, service, url, scripts, 'cold', opts.timeoutMs)];
      if (opts.warm) runs.push(await loadOnce(context, service, url, scripts, 'warm', opts.timeoutMs));
      return runs;
    } finally {
      await context.close();
    }
  };
  return opts.bridge === 'service' ? withFreshService(inContext) : inContext(null);
}

declare global {
  interface Window {
    __zrStartup?: { probe: { paintedMs: number | null; fcpMs: number | null }; collect(): StartupMetrics };
  }
}
