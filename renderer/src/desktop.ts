import type { DesktopApi, DesktopErrorCode, Result } from '../../shared/ipc/desktopApi.js';

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

/**
 * `window.desktop`, looked up on every call: importing this module never fails, and a missing bridge
 * surfaces as a `bridge-missing` DesktopError where it is first used.
 */
export const windowDesktopApi: DesktopApi = {
  appInfo: () => windowBridge().appInfo(),
  getState: () => windowBridge().getState(),
  setServer: (url) => windowBridge().setServer(url),
  forgetServer: (origin) => windowBridge().forgetServer(origin),
  signIn: () => windowBridge().signIn(),
  cancelSignIn: () => windowBridge().cancelSignIn(),
  signOut: () => windowBridge().signOut(),
  resolveLink: (text) => windowBridge().resolveLink(text),
  joinRoom: (roomId) => windowBridge().joinRoom(roomId),
  networkCheckConfig: () => windowBridge().networkCheckConfig(),
  takeJoinLinks: () => windowBridge().takeJoinLinks(),
  setNetworkPolicy: (policy) => windowBridge().setNetworkPolicy(policy),
  rememberNetwork: (restrictive) => windowBridge().rememberNetwork(restrictive),
  forgetNetworks: () => windowBridge().forgetNetworks(),
  chooseScreenSource: (id) => windowBridge().chooseScreenSource(id),
  saveDiagnostics: (document, options) => windowBridge().saveDiagnostics(document, options),
  onScreenShareRequest: (callback) => windowBridge().onScreenShareRequest(callback),
  onStateChanged: (callback) => windowBridge().onStateChanged(callback),
  onJoinLink: (callback) => windowBridge().onJoinLink(callback),
};

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
  return {
    appInfo: () => unwrap(() => api.appInfo()),
    getState: () => unwrap(() => api.getState()),
    setServer: (url) => unwrap(() => api.setServer(url)),
    forgetServer: (origin) => unwrap(() => api.forgetServer(origin)),
    signIn: () => unwrap(() => api.signIn()),
    cancelSignIn: () => unwrap(() => api.cancelSignIn()),
    signOut: () => unwrap(() => api.signOut()),
    resolveLink: (text) => unwrap(() => api.resolveLink(text)),
    joinRoom: (roomId) => unwrap(() => api.joinRoom(roomId)),
    networkCheckConfig: () => unwrap(() => api.networkCheckConfig()),
    takeJoinLinks: () => unwrap(() => api.takeJoinLinks()),
    setNetworkPolicy: (policy) => unwrap(() => api.setNetworkPolicy(policy)),
    rememberNetwork: (restrictive) => unwrap(() => api.rememberNetwork(restrictive)),
    forgetNetworks: () => unwrap(() => api.forgetNetworks()),
    chooseScreenSource: (id) => unwrap(() => api.chooseScreenSource(id)),
    saveDiagnostics: (document, options) => unwrap(() => api.saveDiagnostics(document, options)),
    onScreenShareRequest: (callback) => api.onScreenShareRequest(callback),
    onStateChanged: (callback) => api.onStateChanged(callback),
    onJoinLink: (callback) => api.onJoinLink(callback),
  };
}
