import { mkdirSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import type {
  AppInfo,
  DesktopApi,
  DesktopCall,
  DesktopError,
  DesktopState,
  JoinLinkEvent,
  JoinLinkResolution,
  NetworkCheckConfig,
  PreferencesPatch,
  Result,
  ScreenSource,
} from '../../shared/ipc/desktopApi.js';
import type { UpdateStatus } from '../../shared/ipc/shellServices.js';
import { parseJoinLink, parseServerOrigin } from '../../shared/links.js';
import { IceServersResponse, JoinResponse, RoomId } from '../../shared/protocol/index.js';
import { AuthSession } from './auth/AuthSession.js';
import { AuthError, type HttpFetch } from './auth/oidcFlow.js';
import { createTokenStore, type SafeStorageLike } from './auth/tokenStore.js';
import { DiagnosticsSaveError, saveDiagnosticsFile, type SaveDialog } from './diagnosticsFile.js';
import { JoinLinkHandover, type IncomingLink } from './JoinLinkHandover.js';
import type { JoinLinkInbox } from './JoinLinkInbox.js';
import { NetworkRecords } from './NetworkRecords.js';
import { ScreenShareBroker } from './ScreenShareBroker.js';
import { ServerConnection } from './ServerConnection.js';
import { ServiceError } from './ServiceError.js';
import { NO_MANAGED_CONFIG, type ManagedConfig } from './managedConfig.js';
import { loadSettings, saveSettings, type WindowState } from './settingsFile.js';
import { ShellCalls, type ShellDeps } from './ShellCalls.js';

export interface DesktopServiceDeps extends ShellDeps {
  appInfo: () => AppInfo;
  /** Opens a URL in the system browser (main's guarded shell.openExternal). */
  openExternal: (url: string) => Promise<void>;
  safeStorage: SafeStorageLike;
  userDataDir: string;
  platform: NodeJS.Platform;
  /** Development only: http servers and issuers on loopback. */
  allowInsecureLoopback: boolean;
  /** Development and tests only: further hosts allowed over http (never set in a packaged app). */
  insecureHosts?: readonly string[];
  /**
   * Every HTTP request of the service (client configuration, join, ICE servers, the IdP) goes through
   * it: Electron's net.fetch in the app, so system proxies and PAC files apply. Node's fetch by default.
   */
  fetch?: HttpFetch;
  loginTimeoutMs?: number;
  /** os.networkInterfaces, for the per-network record. */
  networkInterfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The OS save dialog (main's dialog.showSaveDialog). Without it saveDiagnostics refuses. */
  saveDialog?: SaveDialog;
  /** Where the save dialog starts (the Downloads folder). */
  downloadsDir?: string;
  /** The inbox links from the OS wait in; main creates it before `ready` (macOS open-url comes early). */
  links?: JoinLinkInbox<IncomingLink>;
  /** Where problems that are not any call's failure are reported (a settings file moved aside). */
  warn?: (message: string) => void;
  /** The organisation's managed configuration (managedConfig.ts); none by default. */
  managed?: ManagedConfig;
}

type Calls = { [K in DesktopCall]: DesktopApi[K] };
type Events = { state: DesktopState; 'join-link': JoinLinkEvent; 'screen-share': ScreenSource[]; update: UpdateStatus };
/** A join-link listener returns false when it could not pass the link on; the link is then held. */
type Listener<E extends keyof Events> = (payload: Events[E]) => unknown;

export interface DesktopService extends Calls {
  subscribe<E extends keyof Events>(event: E, callback: Listener<E>): () => void;
  /** A link from the OS (argv, second instance, open-url): held in the inbox until the page takes it. */
  handleIncomingLink(raw: string): void;
  /**
   * The page asked to share its screen: offers the sources to the renderer and resolves with the one
   * the user picked, or null (cancelled, another request under way, or no answer in a minute).
   */
  requestScreenSource(sources: ScreenSource[]): Promise<ScreenSource | null>;
  /**
   * The main window's page is going away (closed, crashed, reloading). A join the user confirmed
   * on it and that is not done yet goes back into the inbox, for the next page to carry on.
   */
  pageLeaving(): void;
  /** A new document committed in the main window: it may take the links held. */
  pageCommitted(): void;
  /** The shell's services: the IP-handling policy for new windows, updates to start once the window is up. */
  readonly shell: ShellCalls;
  /** Where the main window was when it last closed (window.ts decides whether it is still on a screen). */
  windowState(): WindowState | null;
  saveWindowState(state: WindowState): void;
  dispose(): Promise<void>;
}

/** Everything the renderer may ask of main, as plain async calls returning results. Tokens stay in here. */
export function createDesktopService(deps: DesktopServiceDeps): DesktopService {
  // Looked up per call, not captured: the default is whatever fetch Node has at the time.
  const fetchImpl: HttpFetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const warn = deps.warn ?? ((message: string) => console.warn(message));
  const rules = { allowInsecureLoopback: deps.allowInsecureLoopback, ...(deps.insecureHosts ? { insecureHosts: deps.insecureHosts } : {}) };
  mkdirSync(deps.userDataDir, { recursive: true });
  const store = createTokenStore({ safeStorage: deps.safeStorage, dir: join(deps.userDataDir, 'sessions'), platform: deps.platform });
  const settingsFile = join(deps.userDataDir, 'servers.json');
  const loaded = loadSettings(settingsFile, rules);
  if (loaded.keptCorruptAt) warn(`the settings file could not be read; starting with defaults, the old file is kept at ${loaded.keptCorruptAt}`);
  const settings = loaded.settings;
  const managed = deps.managed ?? NO_MANAGED_CONFIG;
  const managedServer = managed.server;
  // The organisation's server is trusted as if the user had confirmed it.
  if (managedServer && !settings.known.includes(managedServer.origin)) settings.known.push(managedServer.origin);
  // Locked: only that server. Otherwise it is where a fresh install starts.
  if (managedServer && (managedServer.locked || settings.current === null)) settings.current = managedServer.origin;
  const networks = new NetworkRecords(deps.userDataDir, deps.networkInterfaces);
  const listeners: { [E in keyof Events]: Set<Listener<E>> } = { state: new Set(), 'join-link': new Set(), 'screen-share': new Set(), update: new Set() };
  const shell = new ShellCalls(deps);
  shell.onUpdateStatus((status) => emit('update', status));
  const screenShare = new ScreenShareBroker({ offer: (sources) => emit('screen-share', sources) });
  const links = new JoinLinkHandover({
    rules,
    isKnown: (origin) => settings.known.includes(origin),
    send: (event) => emit('join-link', event),
    ...(deps.links ? { inbox: deps.links } : {}),
  });
  let connection: ServerConnection | null = null;
  let session: AuthSession | null = null;
  let unsubscribeSession: (() => void) | null = null;
  let ready: Promise<void> = Promise.resolve();

  function state(): DesktopState {
    return {
      server: connection && { origin: connection.origin, config: connection.config },
      user: session?.user ?? null,
      signingIn: session?.signingIn ?? false,
      tokenStorage: store.mode,
      tokenStorageNote: store.note,
      knownServers: [...settings.known],
      networkPolicy: managed.networkPolicy ?? settings.networkPolicy,
      restrictiveNetwork: networks.current().record?.restrictive ?? false,
      preferences: structuredClone(settings.preferences),
      managed: { server: managedServer?.locked === true, networkPolicy: managed.networkPolicy !== null, webrtcIpHandling: managed.webrtcIpHandling !== null },
    };
  }

  /** Refuses a change to something the organisation fixed, saying so. */
  function requireUnmanaged(locked: boolean, what: string): void {
    if (locked) throw new ServiceError('forbidden', `${what} is set by your organisation`);
  }

  function setPreferences(patch: PreferencesPatch): void {
    const { devices, ...flags } = patch;
    settings.preferences = { ...settings.preferences, ...flags, devices: { ...settings.preferences.devices, ...devices } };
    save();
  }

  /** True when at least one listener took the payload (one that could not pass it on returns false). */
  function emit<E extends keyof Events>(event: E, payload: Events[E]): boolean {
    let delivered = false;
    for (const cb of listeners[event]) if (cb(payload) !== false) delivered = true;
    return delivered;
  }
  const emitState = () => emit('state', state());
  const save = () => saveSettings(settingsFile, settings);

  async function connect(origin: string, forRoom?: string): Promise<void> {
    const next = await ServerConnection.connect(origin, { fetch: fetchImpl });
    unsubscribeSession?.();
    session?.dispose();
    connection = next;
    links.serverConnected(origin, forRoom);
    session = new AuthSession({
      server: origin,
      config: next.config,
      store,
      openExternal: deps.openExternal,
      allowInsecureLoopback: deps.allowInsecureLoopback,
      fetch: fetchImpl,
      ...(deps.insecureHosts ? { insecureHosts: deps.insecureHosts } : {}),
      ...(deps.loginTimeoutMs ? { loginTimeoutMs: deps.loginTimeoutMs } : {}),
    });
    unsubscribeSession = session.onChange(emitState);
    if (!settings.known.includes(origin)) settings.known.push(origin);
    settings.current = origin;
    save();
    emitState();
    await session.restore().catch(() => null);
    emitState();
  }

  function requireConnection(): { connection: ServerConnection; session: AuthSession } {
    if (!session || !connection) throw new ServiceError('unknown-server', 'connect to a server first');
    return { connection, session };
  }

  /** POSTs to the current server as the signed-in user. */
  function postToServer(path: string): Promise<unknown> {
    const current = requireConnection();
    if (!current.session.user) throw new ServiceError('not-signed-in', 'sign in first');
    return current.connection.post(path, current.session);
  }

  async function joinRoom(roomId: string): Promise<JoinResponse> {
    const room = RoomId.safeParse(roomId);
    if (!room.success) throw new ServiceError('invalid-room', room.error.issues[0]?.message ?? 'invalid room ID');
    links.joining();
    const joined = JoinResponse.safeParse(await postToServer(`/v1/rooms/${room.data}/join`));
    if (!joined.success) throw new ServiceError('server-error', 'the server sent an unexpected join response');
    return joined.data;
  }

  /** Fresh ICE servers for "Check my network" (no room needed). */
  async function networkCheckConfig(): Promise<NetworkCheckConfig> {
    const parsed = IceServersResponse.safeParse(await postToServer('/v1/ice-servers'));
    if (!parsed.success) throw new ServiceError('server-error', 'the server sent unexpected ICE servers');
    const { origin, config } = requireConnection().connection;
    return { server: origin, healthUrl: `${origin}/healthz`, signalingUrl: config.signalingUrl, iceServers: parsed.data.iceServers };
  }

  let savingDiagnostics = false;

  async function saveDiagnostics(document: unknown, options: unknown): Promise<{ path: string } | null> {
    if (savingDiagnostics) throw new ServiceError('busy', 'diagnostics are already being saved');
    savingDiagnostics = true;
    try {
      return await saveDiagnosticsFile(document, options, {
        saveDialog: deps.saveDialog,
        downloadsDir: deps.downloadsDir,
        desktop: () => shell.diagnostics(connection?.origin ?? null),
      });
    } finally {
      savingDiagnostics = false;
    }
  }

  function resolve(text: string): JoinLinkResolution {
    const trimmed = text.trim();
    // A bare room ID means the current server.
    if (RoomId.safeParse(trimmed).success) return { roomId: trimmed, server: requireConnection().connection.origin, knownServer: true };
    const parsed = parseJoinLink(trimmed, rules);
    if (!parsed.ok) throw new ServiceError('invalid-argument', parsed.reason);
    return { ...parsed.link, knownServer: settings.known.includes(parsed.link.server) };
  }

  async function forgetServer(origin: string): Promise<DesktopState> {
    requireUnmanaged(managedServer?.locked === true && origin === managedServer.origin, 'this server');
    if (connection?.origin === origin) {
      await session?.signOut().catch(() => undefined);
      unsubscribeSession?.();
      session?.dispose();
      session = null;
      connection = null;
      settings.current = null;
    }
    await store.clear(origin);
    settings.known = settings.known.filter((o) => o !== origin);
    save();
    emitState();
    return state();
  }

  async function run<T>(fn: () => Promise<T> | T): Promise<Result<T>> {
    try {
      await ready;
      return { ok: true, value: await fn() };
    } catch (err) {
      return { ok: false, error: toError(err) };
    }
  }

  /** Runs a change and answers with the state after it, which listeners hear about too. */
  const change = (fn: () => void) =>
    run(() => {
      fn();
      emitState();
      return state();
    });

  if (settings.current) {
    const origin = settings.current;
    // Reconnect to the last server in the background; calls wait for it.
    ready = connect(origin).catch(() => {
      connection = null;
      emitState();
    });
  }

  return {
    appInfo: () => run(() => deps.appInfo()),
    getState: () => run(state),
    setServer: (url, forRoom) =>
      run(async () => {
        const origin = parseServerOrigin(url.trim(), rules);
        if (!origin.ok) throw new ServiceError('invalid-argument', origin.reason);
        requireUnmanaged(managedServer?.locked === true && origin.origin !== managedServer.origin, 'the server');
        await connect(origin.origin, forRoom);
        return state();
      }),
    forgetServer: (origin) => run(() => forgetServer(origin)),
    signIn: () =>
      run(async () => {
        // The old page may still run while main reloads it; the new page carries on any confirmed join.
        if (links.pageIsLeaving) throw new ServiceError('busy', 'the window is reloading: the sign-in starts from the new page');
        await requireConnection().session.signIn();
        return state();
      }),
    cancelSignIn: () =>
      run(() => {
        session?.cancelSignIn();
        return null;
      }),
    signOut: () =>
      run(async () => {
        await requireConnection().session.signOut();
        emitState();
        return state();
      }),
    resolveLink: (text) => run(() => resolve(text)),
    joinRoom: (roomId) => run(() => joinRoom(roomId)),
    networkCheckConfig: () => run(networkCheckConfig),
    setNetworkPolicy: (policy) =>
      change(() => {
        requireUnmanaged(managed.networkPolicy !== null, 'the network policy');
        settings.networkPolicy = policy;
        save();
      }),
    setPreferences: (patch) => change(() => setPreferences(patch)),
    rememberNetwork: (restrictive) => change(() => networks.remember(restrictive)),
    forgetNetworks: () => change(() => networks.forgetAll()),
    chooseScreenSource: (id) =>
      run(() => {
        screenShare.choose(id);
        return null;
      }),
    requestScreenSource: (sources) => screenShare.request(sources),
    saveDiagnostics: (document, options) => run(() => saveDiagnostics(document, options)),
    takeJoinLinks: () => run(() => links.take()),
    networkPrivacy: () => run(() => shell.networkPrivacy(connection?.origin ?? null)),
    setIpHandlingPolicy: (policy) => run(() => shell.setIpHandlingPolicy(policy, connection?.origin ?? null)),
    updateStatus: () => run(() => shell.updateStatus()),
    checkForUpdates: () => run(() => shell.checkForUpdates()),
    restartToUpdate: () =>
      run(() => {
        shell.restartToUpdate();
        return null;
      }),
    setInCall: (inCall) =>
      run(() => {
        shell.setInCall(inCall);
        return null;
      }),
    reportError: (report) =>
      run(() => {
        shell.reportError(report);
        return null;
      }),
    shell,
    subscribe(event, callback) {
      listeners[event].add(callback);
      return () => {
        listeners[event].delete(callback);
      };
    },
    handleIncomingLink: (raw) => links.incoming(raw),
    pageLeaving: () => links.pageLeaving(),
    pageCommitted: () => links.pageCommitted(),
    windowState: () => settings.window,
    saveWindowState(windowState) {
      settings.window = windowState;
      save();
    },
    async dispose() {
      shell.dispose();
      screenShare.cancel();
      unsubscribeSession?.();
      session?.dispose();
      for (const set of Object.values(listeners)) set.clear();
    },
  };
}

function toError(err: unknown): DesktopError {
  if (err instanceof ServiceError || err instanceof AuthError || err instanceof DiagnosticsSaveError) return { code: err.code, message: err.message };
  return { code: 'internal', message: 'something went wrong in the app; see the diagnostics' };
}
