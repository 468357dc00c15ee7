import type { CallPhase } from '../call/events.js';
import type { DesktopClient } from '../desktop.js';

/** The part of the app store this needs (the store itself, or a test's). */
interface CallPhaseSource {
  getState(): { call: { phase: CallPhase } };
  subscribe(listener: () => void): () => void;
}

const MAX_MESSAGE = 2000;
const MAX_STACK = 8000;

function describe(reason: unknown): { message: string; stack?: string } {
  if (reason instanceof Error) return { message: `${reason.name}: ${reason.message}`.slice(0, MAX_MESSAGE), ...(reason.stack ? { stack: reason.stack.slice(0, MAX_STACK) } : {}) };
  return { message: String(reason).slice(0, MAX_MESSAGE) };
}

/**
 * What main needs to hear from the page: when a call starts and ends (main never restarts for an
 * update during one), and errors nothing else handled (for the main log). Returns a function that stops both.
 */
export function installMainReports(store: CallPhaseSource, desktop: Pick<DesktopClient, 'setInCall' | 'reportError'>, target: Pick<Window, 'addEventListener' | 'removeEventListener'>): () => void {
  let inCall: boolean | null = null;
  const sync = () => {
    const phase = store.getState().call.phase;
    const now = phase === 'connecting' || phase === 'in-call';
    if (now === inCall) return;
    inCall = now;
    desktop.setInCall(now).catch(() => undefined); // main is there for the life of the page; nothing to do if not
  };
  const unsubscribe = store.subscribe(sync);
  sync();

  const report = (source: string, reason: unknown) => {
    desktop.reportError({ source, ...describe(reason) }).catch(() => undefined);
  };
  const onError = (event: ErrorEvent) => report('error', event.error ?? event.message);
  const onRejection = (event: PromiseRejectionEvent) => report('unhandledrejection', event.reason);
  target.addEventListener('error', onError);
  target.addEventListener('unhandledrejection', onRejection);
  return () => {
    unsubscribe();
    target.removeEventListener('error', onError);
    target.removeEventListener('unhandledrejection', onRejection);
  };
}
