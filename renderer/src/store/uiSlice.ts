import type { AppState, SliceCreator } from './types.js';

/** Where the user is, and short messages for them. Which screen shows is derived (selectScreen). */

/** `main` is whichever screen the session calls for; the others are places the user went to. */
export type Route = 'main' | 'connect' | 'settings' | 'network-check';

export interface Notice {
  id: number;
  tone: 'info' | 'error';
  message: string;
}

export interface UiState {
  route: Route;
  notices: Notice[];
}

export interface UiActions {
  navigate(route: Route): void;
  notify(tone: Notice['tone'], message: string): number;
  dismissNotice(id: number): void;
  /** Clears every error on show (last error, room error, error notices): one alert at a time. */
  dismissErrors(): void;
}

export interface UiSlice extends UiActions {
  ui: UiState;
}

export const initialUiState: UiState = { route: 'main', notices: [] };

const MAX_NOTICES = 5;

export function createUiSlice(): SliceCreator<UiSlice> {
  return (set, get) => {
    let nextId = 1;
    const patch = (changes: Partial<UiState>) => set((s) => ({ ui: { ...s.ui, ...changes } }));
    return {
      ui: initialUiState,

      navigate(route) {
        patch({ route });
      },

      notify(tone, message) {
        const id = nextId++;
        patch({ notices: [...get().ui.notices, { id, tone, message }].slice(-MAX_NOTICES) });
        return id;
      },

      dismissNotice(id) {
        patch({ notices: get().ui.notices.filter((n) => n.id !== id) });
      },

      dismissErrors() {
        get().clearError();
        get().clearRoomError();
        const { notices } = get().ui;
        if (notices.some((n) => n.tone === 'error')) patch({ notices: notices.filter((n) => n.tone !== 'error') });
      },
    };
  };
}

export type Screen = 'starting' | 'cannot-start' | 'connect' | 'signed-out' | 'home' | 'room' | 'settings' | 'network-check';


export function selectScreen(s: AppState): Screen {
  const { startup, desktop } = s.session;
  if (startup === 'failed') return 'cannot-start';
  if (startup !== 'ready' || desktop == null) return 'starting';
  if (s.ui.route === 'settings') return 'settings';
  if (desktop.server == null || s.ui.route === 'connect') return 'connect';
  if (desktop.user == null) return 'signed-out';
  // From Home or from a room's pre-join; Back returns to whichever it was.
  if (s.ui.route === 'network-check') return 'network-check';
  if (s.room.status === 'joined') return 'room';
  return 'home';
}

/** The one error to show in the alert: the newest notice, else the room's, else the session's. */
export function selectAlertMessage(s: AppState): string | null {
  const notice = s.ui.notices.findLast((n) => n.tone === 'error');
  return notice?.message ?? s.room.error?.message ?? s.session.lastError?.message ?? null;
}

export function selectInfoNotice(s: AppState): Notice | null {
  return s.ui.notices.findLast((n) => n.tone === 'info') ?? null;
}
