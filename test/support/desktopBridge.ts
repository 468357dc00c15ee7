import type { Page } from '@playwright/test';
import {
  DESKTOP_ARGS,
  DESKTOP_CALLS,
  DESKTOP_EVENTS,
  type DesktopApi,
  type DesktopCall,
  type Result,
} from '../../shared/ipc/desktopApi.js';
import type { DesktopService } from '../../electron/main/desktopService.js';

declare global {
  interface Window {
    __zrDesktopCall(method: DesktopCall, args: unknown[]): Promise<Result<unknown>>;
    __zrDesktopEmit(event: (typeof DESKTOP_EVENTS)[number], payload: unknown): void;
  }
}

/**
 * Gives a page the `window.desktop` the preload gives the Electron renderer: one function per call of
 * the contract, each reaching the real main-process service running in the test process, with the
 * same argument checks main applies. The method list comes from the contract, so the two cannot drift.
 */
export async function installDesktopBridge(page: Page, service: DesktopService): Promise<() => void> {
  await page.exposeBinding('__zrDesktopCall', async (_source, method: DesktopCall, args: unknown[]) => {
    if (!DESKTOP_CALLS.includes(method)) return { ok: false, error: { code: 'invalid-argument', message: 'no such call' } };
    const parsed = DESKTOP_ARGS[method].safeParse(args);
    if (!parsed.success) return { ok: false, error: { code: 'invalid-argument', message: parsed.error.issues[0]?.message ?? 'bad arguments' } };
    const call = service[method] as (...a: unknown[]) => Promise<Result<unknown>>;
    return call(...(parsed.data as unknown[]));
  });
  await page.addInitScript(
    ({ calls, events }) => {
      const listeners = new Map<string, Set<(payload: unknown) => void>>();
      const api: Record<string, unknown> = {};
      for (const call of calls) api[call] = (...args: unknown[]) => window.__zrDesktopCall(call, args);
      for (const event of events) {
        api[event] = (callback: (payload: unknown) => void) => {
          let set = listeners.get(event);
          if (!set) listeners.set(event, (set = new Set()));
          set.add(callback);
          return () => set.delete(callback);
        };
      }
      window.__zrDesktopEmit = (event, payload) => {
        for (const cb of listeners.get(event) ?? []) cb(payload);
      };
      Object.defineProperty(window, 'desktop', { value: Object.freeze(api as unknown as DesktopApi), enumerable: true });
    },
    { calls: DESKTOP_CALLS, events: DESKTOP_EVENTS },
  );
  // Events reach the page one after another, in the order main emitted them, as Electron's IPC
  // delivers them: a state pushed later must never be overtaken by an earlier one.
  let delivered: Promise<unknown> = Promise.resolve();
  const push = (event: (typeof DESKTOP_EVENTS)[number]) => (payload: unknown) => {
    delivered = delivered.then(() => page.evaluate(({ e, p }) => window.__zrDesktopEmit(e, p), { e: event, p: payload })).catch(() => undefined);
  };
  const offState = service.subscribe('state', push('onStateChanged'));
  const offLink = service.subscribe('join-link', push('onJoinLink'));
  const offScreen = service.subscribe('screen-share', push('onScreenShareRequest'));
  const offUpdate = service.subscribe('update', push('onUpdateStatus'));
  return () => {
    offState();
    offLink();
    offScreen();
    offUpdate();
  };
}
