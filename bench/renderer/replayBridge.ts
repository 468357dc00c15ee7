/**
 * An in-page window.desktop that answers from replies the real main-process service gave beforehand
 * (set in `__zrBenchReplies` by the script's prelude), one task later, as an IPC reply would arrive.
 * Electron's IPC answers in well under a millisecond; Playwright's binding round trip takes tens of
 * ms on a loaded machine, which would be timed as renderer startup. Calls it has no reply for fail.
 */

export interface Replies {
  calls: string[];
  events: string[];
  /** By call name: the Result the service returned. */
  results: Record<string, unknown>;
}

interface ReplayWindow {
  __zrBenchReplies?: Replies;
  __zrDesktopCall?: (method: string, args: unknown[]) => Promise<unknown>;
}

const w = window as unknown as ReplayWindow;
const replies = w.__zrBenchReplies;
if (replies) {
  w.__zrDesktopCall = (method) =>
    new Promise((resolve) =>
      setTimeout(() =>
        resolve(replies.results[method] ?? { ok: false, error: { code: 'internal', message: `${method}: no recorded reply in the startup benchmark` } }),
      ),
    );
  const api: Record<string, unknown> = {};
  // Looked up on every call, as desktopBridge.ts does, so the probe can time the binding.
  for (const call of replies.calls) api[call] = (...args: unknown[]) => w.__zrDesktopCall!(call, args);
  for (const event of replies.events) api[event] = () => () => undefined;
  Object.defineProperty(window, 'desktop', { value: Object.freeze(api), enumerable: true });
}
