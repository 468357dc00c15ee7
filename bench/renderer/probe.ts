/**
 * Runs in the renderer page before any of its scripts (bundled, then added as an init script after the
 * desktop bridge's). Every time is the page's own performance.now(), i.e. ms since navigation start,
 * taken in the callback that sees the change, so Playwright's polling cannot blur it.
 *
 * Interactive: the first moment #root holds a `button.primary` that is enabled and laid out (has a
 * box): the first screen's main action can be clicked. Painted: the first frame after that (a task
 * posted from requestAnimationFrame runs once the frame has been produced).
 */

export interface StartupProbe {
  interactiveMs: number | null;
  paintedMs: number | null;
  /** The button's text, which says which screen it was ('Connect' on a fresh install, 'Try again' if startup failed). */
  label: string | null;
  /** First contentful paint; its entry can arrive after the frame above (presentation feedback). */
  fcpMs: number | null;
  /** Every window.desktop call until the probe finished: main-process round trips the startup waited on. */
  bridge: { method: string; startMs: number; ms: number }[];
  longTasks: { startMs: number; ms: number }[];
}

export interface StartupMetrics extends StartupProbe {
  responseEndMs: number | null;
  domContentLoadedMs: number | null;
  loadMs: number | null;
  /** Paths of the resources fetched by the time of the collection, in fetch order. */
  resources: string[];
}

interface ProbeWindow {
  __zrStartup?: { probe: StartupProbe; collect(): StartupMetrics };
  __zrDesktopCall?: (method: string, args: unknown[]) => Promise<unknown>;
}

const w = window as unknown as ProbeWindow;
const probe: StartupProbe = { interactiveMs: null, paintedMs: null, label: null, fcpMs: null, bridge: [], longTasks: [] };

// Main's replies reach the page through this binding (test/support/desktopBridge.ts); time each one.
const call = w.__zrDesktopCall;
if (typeof call === 'function') {
  try {
    w.__zrDesktopCall = async (method, args) => {
      const startMs = performance.now();
      try {
        return await call(method, args);
      } finally {
        if (probe.paintedMs === null) probe.bridge.push({ method, startMs, ms: performance.now() - startMs });
      }
    };
  } catch {
    // a read-only binding: startup still works, the bridge just goes untimed
  }
}

try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longTasks.push({ startMs: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
} catch {
  // no Long Tasks API: blocking time stays empty
}
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') probe.fcpMs = e.startTime;
}).observe({ type: 'paint', buffered: true });

function mainButton(): HTMLButtonElement | null {
  for (const b of document.querySelectorAll<HTMLButtonElement>('#root button.primary')) {
    if (!b.disabled && b.getClientRects().length > 0) return b;
  }
  return null;
}

const observer = new MutationObserver(() => {
  if (probe.interactiveMs !== null) return;
  const button = mainButton();
  if (!button) return;
  probe.interactiveMs = performance.now();
  probe.label = button.textContent?.trim() ?? '';
  observer.disconnect();
  requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      probe.paintedMs = performance.now();
    };
    channel.port2.postMessage(null);
  });
});
// The document, not documentElement: at this point there may be no element yet.
observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['disabled', 'class', 'style', 'hidden'] });

w.__zrStartup = {
  probe,
  collect() {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const after = (v: number | undefined) => (v !== undefined && v > 0 ? v : null);
    return {
      ...probe,
      responseEndMs: after(nav?.responseEnd),
      domContentLoadedMs: after(nav?.domContentLoadedEventEnd),
      loadMs: after(nav?.loadEventEnd),
      resources: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
    };
  },
};
