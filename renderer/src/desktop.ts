import { DESKTOP_CALLS, DESKTOP_EVENTS, type DesktopApi, type DesktopErrorCode, type Result } from '../../shared/ipc/desktopApi.js';

/**
 * The one module that touches `window.desktop`. Everything else gets a `DesktopClient`, whose calls
 * resolve to values and throw `DesktopError`, so callers can use plain try/catch.
 */

declare global {
  interface Window {
    /** Exposed by the preload script. Absent when the renderer runs outside the desktop app. */
    desktop?: DesktopApi;
  }
}

/** `bridge-missing` is the renderer's own: there is no `window.desktop` to talk to. */
export type RendererErrorCode = DesktopErrorCode | 'bridge-missing';

export class DesktopError extends Error {
  override readonly name = 'DesktopError';
  readonly code: RendererErrorCode;

  constructor(code: RendererErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export const BRIDGE_MISSING_MESSAGE =
  'The desktop bridge (window.desktop) is missing. ZeroRange’s window has to be opened by the ZeroRange desktop app, ' +
  'whose preload script provides the bridge; it cannot run in a plain browser tab.';

export function hasDesktopBridge(): boolean {
  return typeof window !== 'undefined' && window.desktop != null;
}

function windowBridge(): DesktopApi {
  if (!hasDesktopBridge()) throw new DesktopError('bridge-missing', BRIDGE_MISSING_MESSAGE);
  return window.desktop!;
}

type AnyMethod = (...args: unknown[]) => unknown;

/**
 * One function per method of the contract (its lists of calls and events, so nothing here can miss
 * one), each calling the same method of `target()`; calls go through `wrap`, subscriptions as they are.
 */
function forwardEach<T>(target: () => DesktopApi, wrap: (call: () => Promise<Result<unknown>>) => unknown): T {
  const methods: Record<string, AnyMethod> = {};
  const invoke = (name: keyof DesktopApi, args: unknown[]) => {
    const api = target();
    return (api[name] as AnyMethod).apply(api, args);
  };
  for (const call of DESKTOP_CALLS) methods[call] = (...args) => wrap(() => invoke(call, args) as Promise<Result<unknown>>);
  for (const event of DESKTOP_EVENTS) methods[event] = (...args) => invoke(event, args);
  return methods as T;
}

/**
 * `window.desktop`, looked up on every call: importing this module never fails, and a missing bridge
 * surfaces as a `bridge-missing` DesktopError where it is first used.
 */
export const windowDesktopApi: DesktopApi = forwardEach(windowBridge, (call) => call());

/** Turns a call's `Result` into its value, or throws a DesktopError (IPC failures included). */
export async function unwrap<T>(call: () => Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call();
  } catch (err) {
    if (err instanceof DesktopError) throw err;
    throw new DesktopError('internal', `The desktop app did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (result == null || typeof result !== 'object' || typeof result.ok !== 'boolean') {
    throw new DesktopError('internal', 'The desktop app sent a reply ZeroRange does not understand.');
  }
  if (result.ok) return result.value;
  // Main is trusted to send well-formed errors, but a missing field should not become "undefined" on screen.
  const error: { code?: RendererErrorCode; message?: unknown } = result.error ?? {};
  const message = typeof error.message === 'string' && error.message ? error.message : 'The desktop app reported an error.';
  throw new DesktopError(error.code ?? 'internal', message);
}

/** The bridge with values instead of results. Event subscriptions return their unsubscribe function. */
type Unwrapped<F> = F extends (...args: infer A) => Promise<Result<infer T>> ? (...args: A) => Promise<T> : F;

/** DesktopApi with each call's Result unwrapped: values, or a thrown DesktopError. */
export type DesktopClient = { [K in keyof DesktopApi]: Unwrapped<DesktopApi[K]> };

export function createDesktopClient(api: DesktopApi): DesktopClient {
  return forwardEach(() => api, unwrap);
}

let client: DesktopClient | null = null;

/** The app's one client, on `window.desktop` (created on first use, so importing this never fails). */
export function desktopClient(): DesktopClient {
  client ??= createDesktopClient(windowDesktopApi);
  return client;
}
