import { CallMemory } from '../call/CallMemory.js';
import type { FrameEncryptionOptions } from '../call/e2ee/E2eeCall.js';
import { desktopClient } from '../desktop.js';
import { bindCall, roomTokenSource, useAppStore } from '../store/index.js';
import { CallController } from './CallController.js';
import { NetworkCheckController } from './NetworkCheckController.js';

/**
 * The app's composition root for what runs outside React: the controllers on `window.desktop` and the
 * browser's media, WebRTC and WebSocket, each bound to the one store.
 */

let call: CallController | null = null;
let check: NetworkCheckController | null = null;

/** The app's call controller; its events reach the store through the binder. */
export function callController(): CallController {
  if (call) return call;
  call = new CallController({
    app: useAppStore,
    desktop: desktopClient(),
    tokens: roomTokenSource,
    media: navigator.mediaDevices,
    RTCPeerConnection: window.RTCPeerConnection,
    WebSocket: window.WebSocket,
    fillRandom: (bytes) => crypto.getRandomValues(bytes as Uint8Array<ArrayBuffer>),
    memory: new CallMemory(storageOrNull()),
    frameEncryption,
  });
  bindCall(useAppStore, call);
  return call;
}

/** The app's network check (on window.desktop and the browser's WebRTC, WebSocket and fetch). */
export function networkCheckController(): NetworkCheckController {
  check ??= new NetworkCheckController({
    store: useAppStore,
    desktop: desktopClient(),
    RTCPeerConnection: window.RTCPeerConnection,
    WebSocket: window.WebSocket,
    fetch: (input, init) => window.fetch(input, init),
    onNetworkRemembered: (state) => callController().networkRemembered(state),
  });
  return check;
}

/**
 * At start-up: the controller exists from the first moment (a reloaded window resumes its call), and
 * a window going away says goodbye. `pagehide` fires on close, reload and navigation alike, in
 * Electron too; the `leave` it sends is queued on the open socket synchronously.
 */
export function installCallLifecycle(): void {
  const controller = callController();
  window.addEventListener('pagehide', () => controller.pageHidden());
}

/**
 * Frame encryption is for calls through a forwarding server; between two peers DTLS-SRTP already runs
 * end to end, so mesh calls use it only when `localStorage['zr.frameEncryption']` is `on` (to try it),
 * or `encoded-streams` (the same with Chromium's older API, as browsers without the standard one use).
 */
function frameEncryption(): FrameEncryptionOptions | null {
  let setting: string | null;
  try {
    setting = window.localStorage.getItem('zr.frameEncryption');
  } catch {
    return null;
  }
  return setting === 'on' ? {} : setting === 'encoded-streams' ? { api: 'encoded-streams' } : null;
}

function storageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
