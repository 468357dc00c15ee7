import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { NetworkPolicy } from '../../shared/ipc/desktopApi.js';
import type {
  AppInfo,
  DesktopApi,
  DesktopCall,
  DesktopError,
  DesktopErrorCode,
  DesktopState,
  JoinLinkEvent,
  JoinLinkResolution,
  NetworkCheckConfig,
  Result,
  ScreenSource,
  ServerInfo,
} from '../../shared/ipc/desktopApi.js';
import { parseJoinLink, parseServerOrigin, type LinkRules } from '../../shared/links.js';
import { ClientConfig, ErrorBody, IceServersResponse, JoinResponse, RoomId } from '../../shared/protocol/index.js';
import { AuthSession } from './auth/authSession.js';
import { AuthError } from './auth/oidcFlow.js';
import { createTokenStore, type SafeStorageLike } from './auth/tokenStore.js';
import { DiagnosticsSaveError, saveDiagnosticsFile, type SaveDialog } from './diagnosticsFile.js';
import { NetworkRecords } from './networkRecords.js';

export interface DesktopServiceDeps {
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
  fetch?: typeof fetch;
  loginTimeoutMs?: number;
  /** os.networkInterfaces, for the per-network record. */
  networkInterfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The OS save dialog (main's dialog.showSaveDialog). Without it saveDiagnostics refuses. */
  saveDialog?: SaveDialog;
  /** Where the save dialog starts (the Downloads folder). */
  downloadsDir?: string;
}

type Calls = { [K in DesktopCall]: DesktopApi[K] };
type Events = { state: DesktopState; 'join-link': JoinLinkEvent; 'screen-share': ScreenSource[] };

export interface DesktopService extends Calls {
  subscribe<E extends keyof Events>(event: E, callback: (payload: Events[E]) => void): () => void;
  /** A link from the OS (argv, second instance, open-url): parsed here, queued until someone listens. */
  handleIncomingLink(raw: string): void;
  /**
   * The page asked to share its screen: offers the sources to the renderer and resolves with the one
   * the user picked, or null (cancelled, another request under way, or no answer in a minute).
   */
  requestScreenSource(sources: ScreenSource[]): Promise<ScreenSource | null>;
  dispose(): Promise<void>;
}

class ServiceError extends Error {
  constructor(
    readonly code: DesktopErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const HTTP_ERRORS: Record<number, DesktopErrorCode> = { 400: 'invalid-room', 401: 'not-signed-in', 403: 'forbidden', 409: 'room-full', 429: 'rate-limited' };

interface Persisted {
  current: string | null;
  known: string[];
  networkPolicy: NetworkPolicy;
}

/** Everything the renderer may ask of main, as plain async calls returning results. Tokens stay in here. */
export function createDesktopService(deps: DesktopServiceDeps): DesktopService {
  const fetchImpl = deps.fetch ?? fetch;
  const rules = { allowInsecureLoopback: deps.allowInsecureLoopback, ...(deps.insecureHosts ? { insecureHosts: deps.insecureHosts } : {}) };
  mkdirSync(deps.userDataDir, { recursive: true });
  const store = createTokenStore({ safeStorage: deps.safeStorage, dir: join(deps.userDataDir, 'sessions'), platform: deps.platform });
  const settingsFile = join(deps.userDataDir, 'servers.json');
  const persisted = loadPersisted(settingsFile, rules);
  const networks = new NetworkRecords(deps.userDataDir, deps.networkInterfaces);
  const listeners: { [E in keyof Events]: Set<(p: Events[E]) => void> } = { state: new Set(), 'join-link': new Set(), 'screen-share': new Set() };
  let screenRequest: { sources: ScreenSource[]; resolve: (s: ScreenSource | null) => void; timer: ReturnType<typeof setTimeout> } | null = null;
  const pendingLinks: JoinLinkEvent[] = [];
  // Until the renderer has taken the queue once, links wait in it rather than go out unheard.
  let linksTaken = false;
  let server: ServerInfo | null = null;
  let session: AuthSession | null = null;
  let unsubscribeSession: (() => void) | null = null;
  let ready: Promise<void> = Promise.resolve();

  function state(): DesktopState {
    return {
      server,
      user: session?.user ?? null,
      signingIn: session?.signingIn ?? false,
      tokenStorage: store.mode,
      tokenStorageNote: store.note,
      knownServers: [...persisted.known],
      networkPolicy: persisted.networkPolicy,
      restrictiveNetwork: networks.current().record?.restrictive ?? false,
    };
  }

  function emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const cb of listeners[event]) cb(payload);
  }
  const emitState = () => emit('state', state());

  function save(): void {
    const tmp = `${settingsFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(persisted, null, 2), { mode: 0o600 });
    renameSync(tmp, settingsFile);
  }

  async function fetchClientConfig(origin: string): Promise<ClientConfig> {
    let res: Response;
    try {
      res = await fetchImpl(`${origin}/v1/client-config`, { signal: AbortSignal.timeout(10_000) });
    } catch {
      throw new ServiceError('server-unreachable', `cannot reach ${origin}`);
    }
    if (!res.ok) throw new ServiceError('server-error', `${origin} answered ${res.status}: is it a ZeroRange server?`);
    const parsed = ClientConfig.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw new ServiceError('server-error', `${origin} did not send a ZeroRange client configuration`);
    return parsed.data;
  }

  async function connect(origin: string): Promise<void> {
    const config = await fetchClientConfig(origin);
    unsubscribeSession?.();
    session?.dispose();
    server = { origin, config };
    session = new AuthSession({
      server: origin,
      config,
      store,
      openExternal: deps.openExternal,
      allowInsecureLoopback: deps.allowInsecureLoopback,
      ...(deps.insecureHosts ? { insecureHosts: deps.insecureHosts } : {}),
      ...(deps.loginTimeoutMs ? { loginTimeoutMs: deps.loginTimeoutMs } : {}),
    });
    unsubscribeSession = session.onChange(emitState);
    if (!persisted.known.includes(origin)) persisted.known.push(origin);
    persisted.current = origin;
    save();
    emitState();
    await session.restore().catch(() => null);
    emitState();
  }

  function requireSession(): AuthSession {
    if (!session || !server) throw new ServiceError('unknown-server', 'connect to a server first');
    return session;
  }

  /**
   * POSTs to the current server with the access token. The server may see a token as expired before
   * we do (clock skew, revocation): on a 401 the token is refreshed and the call made once more.
   */
  async function postToServer(path: string): Promise<unknown> {
    const auth = requireSession();
    if (!auth.user) throw new ServiceError('not-signed-in', 'sign in first');
    const origin = server!.origin;
    const post = async (token: string) => {
      try {
        return await fetchImpl(`${origin}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(15_000),
        });
      } catch {
        throw new ServiceError('server-unreachable', `cannot reach ${origin}`);
      }
    };
    let res = await post(await auth.getAccessToken());
    if (res.status === 401) res = await post(await auth.handleUnauthorized());
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const err = ErrorBody.safeParse(body);
      const code = HTTP_ERRORS[res.status] ?? 'server-error';
      throw new ServiceError(code, err.success ? err.data.error.message : `the server answered ${res.status}`);
    }
    return body;
  }

  async function joinRoom(roomId: string): Promise<JoinResponse> {
    const room = RoomId.safeParse(roomId);
    if (!room.success) throw new ServiceError('invalid-room', room.error.issues[0]?.message ?? 'invalid room ID');
    const joined = JoinResponse.safeParse(await postToServer(`/v1/rooms/${room.data}/join`));
    if (!joined.success) throw new ServiceError('server-error', 'the server sent an unexpected join response');
    return joined.data;
  }

  /** Fresh ICE servers for "Check my network" (no room needed). */
  async function networkCheckConfig(): Promise<NetworkCheckConfig> {
    const parsed = IceServersResponse.safeParse(await postToServer('/v1/ice-servers'));
    if (!parsed.success) throw new ServiceError('server-error', 'the server sent unexpected ICE servers');
    const origin = server!.origin;
    return { server: origin, healthUrl: `${origin}/healthz`, signalingUrl: server!.config.signalingUrl, iceServers: parsed.data.iceServers };
  }

  let savingDiagnostics = false;

  async function saveDiagnostics(document: unknown, options: unknown): Promise<{ path: string } | null> {
    if (savingDiagnostics) throw new ServiceError('busy', 'diagnostics are already being saved');
    savingDiagnostics = true;
    try {
      return await saveDiagnosticsFile(document, options, { saveDialog: deps.saveDialog, downloadsDir: deps.downloadsDir });
    } finally {
      savingDiagnostics = false;
    }
  }

  function resolve(text: string): JoinLinkResolution {
    const trimmed = text.trim();
    // A bare room ID means the current server.
    if (RoomId.safeParse(trimmed).success) {
      const origin = requireSession() && server!.origin;
      return { roomId: trimmed, server: origin, knownServer: true };
    }
    const parsed = parseJoinLink(trimmed, rules);
    if (!parsed.ok) throw new ServiceError('invalid-argument', parsed.reason);
    return { ...parsed.link, knownServer: persisted.known.includes(parsed.link.server) };
  }

  async function run<T>(fn: () => Promise<T> | T): Promise<Result<T>> {
    try {
      await ready;
      return { ok: true, value: await fn() };
    } catch (err) {
      return { ok: false, error: toError(err) };
    }
  }

  if (persisted.current) {
    const origin = persisted.current;
    // Reconnect to the last server in the background; calls wait for it.
    ready = connect(origin).catch(() => {
      server = null;
      emitState();
    });
  }

  return {
    appInfo: () => run(() => deps.appInfo()),
    getState: () => run(state),
    setServer: (url) =>
      run(async () => {
        const origin = parseServerOrigin(url.trim(), rules);
        if (!origin.ok) throw new ServiceError('invalid-argument', origin.reason);
        await connect(origin.origin);
        return state();
      }),
    forgetServer: (origin) =>
      run(async () => {
        if (server?.origin === origin) {
          await session?.signOut().catch(() => undefined);
          unsubscribeSession?.();
          session?.dispose();
          session = null;
          server = null;
          persisted.current = null;
        }
        await store.clear(origin);
        persisted.known = persisted.known.filter((o) => o !== origin);
        save();
        emitState();
        return state();
      }),
    signIn: () =>
      run(async () => {
        await requireSession().signIn();
        return state();
      }),
    cancelSignIn: () =>
      run(() => {
        session?.cancelSignIn();
        return null;
      }),
    signOut: () =>
      run(async () => {
        await requireSession().signOut();
        emitState();
        return state();
      }),
    resolveLink: (text) => run(() => resolve(text)),
    joinRoom: (roomId) => run(() => joinRoom(roomId)),
    networkCheckConfig: () => run(networkCheckConfig),
    setNetworkPolicy: (policy) =>
      run(() => {
        persisted.networkPolicy = policy;
        save();
        emitState();
        return state();
      }),
    rememberNetwork: (restrictive) =>
      run(() => {
        networks.remember(restrictive);
        emitState();
        return state();
      }),
    forgetNetworks: () =>
      run(() => {
        networks.forgetAll();
        emitState();
        return state();
      }),
    chooseScreenSource: (id) =>
      run(() => {
        const request = screenRequest;
        if (!request) throw new ServiceError('invalid-argument', 'no screen share is being asked for');
        // Only a source that was offered: the renderer cannot name an arbitrary window.
        const source = id === null ? null : request.sources.find((s) => s.id === id);
        if (source === undefined) throw new ServiceError('invalid-argument', 'that source was not offered');
        clearTimeout(request.timer);
        screenRequest = null;
        request.resolve(source);
        return null;
      }),
    requestScreenSource(sources) {
      if (screenRequest || sources.length === 0 || listeners['screen-share'].size === 0) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          screenRequest = null;
          resolve(null);
        }, 60_000);
        screenRequest = { sources, resolve, timer };
        emit('screen-share', sources);
      });
    },
    saveDiagnostics: (document, options) => run(() => saveDiagnostics(document, options)),
    takeJoinLinks: () =>
      run(() => {
        linksTaken = true;
        return pendingLinks.splice(0);
      }),
    subscribe(event, callback) {
      listeners[event].add(callback);
      return () => {
        listeners[event].delete(callback);
      };
    },
    handleIncomingLink(raw) {
      const parsed = parseJoinLink(raw, rules);
      const event: JoinLinkEvent = parsed.ok
        ? { ok: true, link: { ...parsed.link, knownServer: persisted.known.includes(parsed.link.server) } }
        : { ok: false, reason: parsed.reason };
      if (!linksTaken) pendingLinks.push(event);
      else emit('join-link', event);
    },
    async dispose() {
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

function loadPersisted(file: string, rules: LinkRules): Persisted {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<Persisted>;
    // The file is ours, but it is still input: keep only origins that pass today's rules.
    const known = Array.isArray(raw.known)
      ? raw.known.filter((o): o is string => typeof o === 'string' && parseServerOrigin(o, rules).ok)
      : [];
    const current = typeof raw.current === 'string' && known.includes(raw.current) ? raw.current : null;
    const policy = NetworkPolicy.safeParse(raw.networkPolicy);
    return { current, known, networkPolicy: policy.success ? policy.data : 'auto' };
  } catch {
    return { current: null, known: [], networkPolicy: 'auto' };
  }
}
