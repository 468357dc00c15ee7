import type { StateCreator } from 'zustand/vanilla';
import type { JoinResponse } from '../../../shared/protocol/index.js';
import type { DesktopClient, RendererErrorCode } from '../desktop.js';
import type { CallSlice } from './callSlice.js';
import type { NetworkCheckSlice } from './networkCheckSlice.js';
import type { RoomSlice } from './roomSlice.js';
import type { SessionSlice } from './sessionSlice.js';
import type { SettingsSlice } from './settingsSlice.js';
import type { UiSlice } from './uiSlice.js';

/** The whole store: each slice's data lives under its own key, actions sit at the top level. */
export type AppState = SessionSlice & UiSlice & RoomSlice & CallSlice & NetworkCheckSlice & SettingsSlice;

/** A slice sees (and may call into) the whole store. */
export type SliceCreator<T> = StateCreator<AppState, [], [], T>;

/** What the slices need from outside the store, injected so tests need no window and no DOM. */
export interface StoreDeps {
  desktop: DesktopClient;
  /** Where joins go (the call layer's RoomTokenSource): the room slice fetches, the call takes. */
  roomTokens: { fetch(roomId: string): Promise<JoinResponse> };
  /** The platform's CSPRNG (crypto.getRandomValues). */
  fillRandom: (bytes: Uint8Array) => Uint8Array;
}

/** An error as the UI shows it: a code to branch on and a sentence for people. */
export interface AppError {
  code: RendererErrorCode;
  message: string;
}
