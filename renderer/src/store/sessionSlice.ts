import type { AppInfo, DesktopState, JoinLinkEvent } from '../../../shared/ipc/desktopApi.js';
import { invalid, toAppError, withLead } from './errors.js';
import type { AppError, AppState, SliceCreator, StoreDeps } from './types.js';

/** What main says about the app (server, user, sign-in), plus what the renderer is waiting for. */

export type StartupStatus = 'idle' | 'starting' | 'ready' | 'failed';

export interface SessionBusy {
  connecting: boolean;
  signingIn: boolean;
  signingOut: boolean;
  forgetting: boolean;
}

export interface SessionState {
  startup: StartupStatus;
  /** Why the app cannot start (no bridge, main did not answer). */
  startupError: AppError | null;
  /** Main's state; null until bootstrap has read it. */
  desktop: DesktopState | null;
  appInfo: AppInfo | null;
  busy: SessionBusy;
  lastError: AppError | null;
}

export interface SessionActions {
  /** Reads main's state and subscribes to its events; once per store (again after a failure). */
  bootstrap(): Promise<void>;
  /** Drops the event subscriptions; results of calls still in flight are ignored. */
  shutdown(): void;
  /** A state snapshot from main (call result or event). */
  applyState(state: DesktopState): void;
  /** Each of these records its failure in `lastError` and resolves to whether it succeeded. */
  /** Connects to a server; `forRoom`: to join this room there, as the user confirmed from a link. */
  setServer(address: string, forRoom?: string): Promise<boolean>;
  forgetServer(origin: string): Promise<boolean>;
  signIn(): Promise<boolean>;
  cancelSignIn(): Promise<void>;
  signOut(): Promise<boolean>;
  clearError(): void;
}

export interface SessionSlice extends SessionActions {
  session: SessionState;
}

export const initialSessionState: SessionState = {
  startup: 'idle',
  startupError: null,
  desktop: null,
  appInfo: null,
  busy: { connecting: false, signingIn: false, signingOut: false, forgetting: false },
  lastError: null,
};

/** People type `calls.example.org`; main wants a URL and checks everything else itself. */
export function serverAddressToUrl(address: string): string | null {
  const trimmed = address.trim();
  if (!trimmed) return null;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
}

export function createSessionSlice({ desktop }: StoreDeps): SliceCreator<SessionSlice> {
  return (set, get) => {
    let unsubscribe: (() => void)[] = [];
    // Bumped by shutdown: a bootstrap that finishes after it belongs to a store that was reset.
    let epoch = 0;
    let stateEvents = 0;
    let linkEvents = 0;

    const patch = (changes: Partial<SessionState>) => set((s) => ({ session: { ...s.session, ...changes } }));
    const setBusy = (flag: keyof SessionBusy, value: boolean) =>
      set((s) => ({ session: { ...s.session, busy: { ...s.session.busy, [flag]: value } } }));

    /**
     * Runs one call to main with its busy flag. A failure lands in lastError, `lead` first, unless
     * `quiet` says it is not one to show.
     */
    async function run(
      flag: keyof SessionBusy,
      lead: string,
      call: () => Promise<DesktopState>,
      quiet?: (e: AppError) => boolean,
    ): Promise<boolean> {
      const started = epoch;
      setBusy(flag, true);
      get().dismissErrors();
      try {
        const state = await call();
        if (started === epoch) get().applyState(state);
        return started === epoch;
      } catch (err) {
        const error = withLead(lead, err);
        if (started === epoch && !quiet?.(error)) patch({ lastError: error });
        return false;
      } finally {
        if (started === epoch) setBusy(flag, false);
      }
    }

    return {
      session: initialSessionState,

      async bootstrap() {
        const { startup } = get().session;
        if (startup === 'starting' || startup === 'ready') return;
        const started = epoch;
        let latestHeld: JoinLinkEvent | undefined;
        patch({ startup: 'starting', startupError: null });
        try {
          // Subscribe before reading, so nothing main sends in between is lost.
          unsubscribe.push(
            desktop.onStateChanged((state) => {
              stateEvents += 1;
              get().applyState(state);
            }),
          );
          unsubscribe.push(
            desktop.onJoinLink((event) => {
              linkEvents += 1;
              get().handleJoinLink(event);
            }),
          );
          // Electron asks the app to pick what to share; the call screen shows the sources.
          unsubscribe.push(desktop.onScreenShareRequest((sources) => get().callPatch({ screenSources: sources })));
          const eventsBefore = stateEvents;
          const state = await desktop.getState();
          if (started !== epoch) return;
          // An event that arrived while we waited is newer than this reply.
          if (stateEvents === eventsBefore) get().applyState(state);
          // Links main held for this page (the app opened by a link, a reload); main sends later ones as events.
          const linksBefore = linkEvents;
          const held = await desktop.takeJoinLinks().catch((err: unknown) => {
            get().notify('error', withLead('Links opened before ZeroRange started were lost', err).message);
            return [];
          });
          if (started !== epoch) return;
          // Only the latest link matters, and one that came as an event is newer than any held before.
          latestHeld = linkEvents === linksBefore ? held.at(-1) : undefined;
          patch({ startup: 'ready' });
        } catch (err) {
          if (started !== epoch) return;
          get().shutdown();
          set((s) => ({ session: { ...s.session, startup: 'failed', startupError: toAppError(err) } }));
          return;
        }
        if (latestHeld) get().handleJoinLink(latestHeld);
        // The version is for the settings screen only: its failure is not worth an error.
        desktop.appInfo().then(
          (appInfo) => {
            if (started === epoch) patch({ appInfo });
          },
          () => undefined,
        );
      },

      shutdown() {
        epoch += 1;
        for (const off of unsubscribe) off();
        unsubscribe = [];
      },

      applyState(state) {
        patch({ desktop: state });
        get().roomStateChanged(state);
      },

      async setServer(address, forRoom) {
        const url = serverAddressToUrl(address);
        if (url == null) {
          get().dismissErrors();
          patch({ lastError: invalid('Enter the server address, for example https://calls.example.org.') });
          return false;
        }
        const ok = await run('connecting', 'Could not connect to the server', () => (forRoom === undefined ? desktop.setServer(url) : desktop.setServer(url, forRoom)));
        if (ok && get().ui.route === 'connect') get().navigate('main');
        return ok;
      },

      forgetServer(origin) {
        return run('forgetting', 'Could not forget the server', () => desktop.forgetServer(origin));
      },

      async signIn() {
        if (get().session.busy.signingIn) return false;
        // Cancelling is the user's choice, not an error to show.
        const ok = await run('signingIn', 'Sign-in did not complete', () => desktop.signIn(), (e) => e.code === 'sign-in-cancelled');
        await get().signInFinished(ok);
        return ok;
      },

      async cancelSignIn() {
        try {
          await desktop.cancelSignIn();
        } catch (err) {
          patch({ lastError: withLead('Could not cancel the sign-in', err) });
        }
      },

      signOut() {
        return run('signingOut', 'Could not sign out', () => desktop.signOut());
      },

      clearError() {
        if (get().session.lastError != null) patch({ lastError: null });
      },
    };
  };
}

// Selectors: plain functions of the state, returning stored references or primitives (stable for React).
const NO_SERVERS: readonly string[] = [];

export const selectStartupError = (s: AppState) => s.session.startupError;
export const selectServerOrigin = (s: AppState) => s.session.desktop?.server?.origin ?? null;
export const selectUser = (s: AppState) => s.session.desktop?.user ?? null;
export const selectIsSignedIn = (s: AppState) => s.session.desktop?.user != null;
/** A sign-in is under way, whether this window started it or main reports one. */
export const selectSigningIn = (s: AppState) => s.session.busy.signingIn || s.session.desktop?.signingIn === true;
export const selectTokenStorage = (s: AppState) => s.session.desktop?.tokenStorage ?? null;
export const selectTokenStorageNote = (s: AppState) => s.session.desktop?.tokenStorageNote ?? null;
export const selectKnownServers = (s: AppState) => s.session.desktop?.knownServers ?? NO_SERVERS;
export const selectBusy = (s: AppState) => s.session.busy;
export const selectAppInfo = (s: AppState) => s.session.appInfo;
