import { create } from 'zustand';
import { createStore } from 'zustand/vanilla';
import type { DesktopApi } from '../../../shared/ipc/desktopApi.js';
import { RoomTokenSource } from '../call/RoomTokenSource.js';
import { createDesktopClient, desktopClient, type DesktopClient } from '../desktop.js';
import { createCallSlice, initialCallState } from './callSlice.js';
import { createNetworkCheckSlice, initialNetworkCheckState } from './networkCheckSlice.js';
import { createRoomSlice, initialRoomState } from './roomSlice.js';
import { createSessionSlice, initialSessionState } from './sessionSlice.js';
import { createSettingsSlice, initialSettingsState } from './settingsSlice.js';
import type { AppState, SliceCreator, StoreDeps } from './types.js';
import { createUiSlice, initialUiState } from './uiSlice.js';

export interface AppStoreOptions {
  /** Defaults to crypto.getRandomValues. */
  fillRandom?: StoreDeps['fillRandom'];
  /** Where the room slice's joins go; by default a token source of its own on the bridge. */
  roomTokens?: StoreDeps['roomTokens'];
}

// Slices are combined here, and only here would middleware go (none is needed yet).
function appState(desktop: DesktopClient, options: AppStoreOptions = {}): SliceCreator<AppState> {
  const deps: StoreDeps = {
    desktop,
    roomTokens: options.roomTokens ?? new RoomTokenSource({ fetch: (roomId) => desktop.joinRoom(roomId) }),
    // generateRoomId always passes a fresh ArrayBuffer-backed array; the DOM typing wants to be told.
    fillRandom: options.fillRandom ?? ((bytes) => crypto.getRandomValues(bytes as Uint8Array<ArrayBuffer>)),
  };
  const session = createSessionSlice(deps);
  const ui = createUiSlice();
  const room = createRoomSlice(deps);
  const call = createCallSlice();
  const networkCheck = createNetworkCheckSlice();
  const settings = createSettingsSlice(deps);
  return (...a) => ({ ...session(...a), ...ui(...a), ...room(...a), ...call(...a), ...networkCheck(...a), ...settings(...a) });
}

/** A store talking to the given bridge: what tests use, with a fake one. */
export function createAppStore(desktop: DesktopApi, options?: AppStoreOptions) {
  return createStore<AppState>()(appState(createDesktopClient(desktop), options));
}
export type AppStore = ReturnType<typeof createAppStore>;

/** The window's room tokens: the room slice fetches the pre-join's, the call controller takes them. */
export const roomTokenSource = new RoomTokenSource({ fetch: (roomId) => desktopClient().joinRoom(roomId) });

/** The app's store, on `window.desktop`. React reads it through selectors; other code uses getState(). */
export const useAppStore = create<AppState>()(
  appState(desktopClient(), { roomTokens: roomTokenSource }),
);

/** Back to a fresh store: subscriptions dropped, calls in flight ignored, every slice at its initial state. */
export function resetAppStore(): void {
  useAppStore.getState().shutdown();
  useAppStore.setState({
    session: initialSessionState,
    ui: initialUiState,
    room: initialRoomState,
    call: initialCallState,
    networkCheck: initialNetworkCheckState,
    settings: initialSettingsState,
  });
}

export type { AppError, AppState } from './types.js';
export { bindCall } from './callBinder.js';
export * from './callSlice.js';
export * from './networkCheckSlice.js';
export * from './roomSlice.js';
export * from './sessionSlice.js';
export * from './settingsSlice.js';
export * from './uiSlice.js';
