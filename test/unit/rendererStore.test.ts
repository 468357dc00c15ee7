import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  DesktopApi,
  DesktopCall,
  DesktopErrorCode,
  DesktopState,
  PreferencesPatch,
  JoinLinkEvent,
  ScreenSource,
  JoinResponse,
  Result,
  ServerInfo,
} from '../../shared/ipc/desktopApi.js';
import { formatWebJoinLink } from '../../shared/links.js';
import { GENERATED_ROOM_ID_LENGTH, isRoomId, roomIdRules } from '../../shared/protocol/rooms.js';
import {
  createAppStore,
  resetAppStore,
  selectAlertMessage,
  selectIsSignedIn,
  selectPendingServer,
  selectScreen,
  selectSigningIn,
  useAppStore,
  type AppStore,
} from '../../renderer/src/store/index.js';

// The renderer's store against a fake bridge: every call is recorded, results are scripted per test.

const HOME = 'https://calls.example.org';
const OTHER = 'https://elsewhere.example.net';

const serverInfo = (origin: string): ServerInfo => ({
  origin,
  config: {
    issuer: `${origin}/idp`,
    clientId: 'zerorange-desktop',
    scopes: ['openid'],
    audience: 'zerorange',
    signalingUrl: `${origin.replace('https', 'wss')}/v1/signal`,
    roomId: roomIdRules,
    protocolVersion: 1,
  },
});

const ALICE = { sub: 'u-alice', name: 'Alice Example', email: 'alice@example.org', username: 'alice' };

function desktopState(changes: Partial<DesktopState> = {}): DesktopState {
  return {
    server: null,
    user: null,
    signingIn: false,
    tokenStorage: 'keystore',
    tokenStorageNote: null,
    knownServers: [],
    networkPolicy: 'auto',
    restrictiveNetwork: false,
    ...changes,
  };
}

const signedIn = () => desktopState({ server: serverInfo(HOME), user: ALICE, knownServers: [HOME] });

const joinResponse = (roomId: string): JoinResponse => ({
  roomToken: `token-for-${roomId}`,
  expiresAt: '2030-01-01T00:00:00Z',
  iceServers: [{ urls: 'stun:stun.example.org:3478' }],
  iceServersExpireAt: '2030-01-01T00:00:00Z',
  signalingUrl: 'wss://calls.example.org/v1/signal',
  roomSizeLimit: 8,
});

const ok = <T,>(value: T): Result<T> => ({ ok: true, value });
const err = (code: DesktopErrorCode, message: string): Result<never> => ({ ok: false, error: { code, message } });

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

type Impl = { [K in DesktopCall]: (...args: Parameters<DesktopApi[K]>) => ReturnType<DesktopApi[K]> };

/** A DesktopApi whose main process is a plain object: `state` is what main would hold. */
function fakeDesktop(initial: DesktopState = desktopState()) {
  const calls: [DesktopCall, unknown[]][] = [];
  const listeners = { state: new Set<(s: DesktopState) => void>(), link: new Set<(e: JoinLinkEvent) => void>(), screen: new Set<(s: ScreenSource[]) => void>() };
  const fake = {
    state: initial,
    earlyLinks: [] as JoinLinkEvent[],
    impl: {
      appInfo: async () =>
        ok({ name: 'ZeroRange', version: '9.9.9', electron: '45.0.0', chrome: '140', node: '22', platform: 'linux', arch: 'x64', packaged: false }),
      getState: async () => ok(fake.state),
      setServer: async (url: string) => {
        const origin = new URL(url).origin;
        fake.state = desktopState({ server: serverInfo(origin), knownServers: [...new Set([...fake.state.knownServers, origin])] });
        return ok(fake.state);
      },
      forgetServer: async (origin: string) => {
        fake.state = { ...fake.state, knownServers: fake.state.knownServers.filter((o) => o !== origin) };
        return ok(fake.state);
      },
      signIn: async () => {
        fake.state = { ...fake.state, user: ALICE };
        return ok(fake.state);
      },
      cancelSignIn: async () => ok(null),
      signOut: async () => {
        fake.state = { ...fake.state, user: null };
        return ok(fake.state);
      },
      resolveLink: async (text: string) => {
        const m = /^(https:\/\/[^/]+)\/join\/([a-z0-9-]+)$/.exec(text);
        if (!m) return err('invalid-argument', 'this is not a link');
        return ok({ roomId: m[2]!, server: m[1]!, knownServer: fake.state.knownServers.includes(m[1]!) });
      },
      joinRoom: async (roomId: string) => ok(joinResponse(roomId)),
      networkCheckConfig: async () =>
        ok({ server: 'https://calls.example.com', healthUrl: 'https://calls.example.com/healthz', signalingUrl: 'wss://calls.example.com/v1/signal', iceServers: [] }),
      takeJoinLinks: async () => ok(fake.earlyLinks.splice(0)),
      setNetworkPolicy: async (policy: DesktopState['networkPolicy']) => ok((fake.state = { ...fake.state, networkPolicy: policy })),
      rememberNetwork: async (restrictive: boolean) => ok((fake.state = { ...fake.state, restrictiveNetwork: restrictive })),
      forgetNetworks: async () => ok((fake.state = { ...fake.state, restrictiveNetwork: false })),
      setPreferences: async (patch: PreferencesPatch) => {
        const current = fake.state.preferences ?? { devices: { audioinput: null, videoinput: null, audiooutput: null }, startMuted: false, startCameraOff: false };
        const { devices, ...flags } = patch;
        return ok((fake.state = { ...fake.state, preferences: { ...current, ...flags, devices: { ...current.devices, ...devices } } }));
      },
      chooseScreenSource: async () => ok(null),
      saveDiagnostics: async () => ok({ path: '/home/alice/Downloads/zerorange-diagnostics.json' }),
      networkPrivacy: async () => ok({ ipHandlingPolicy: 'default', managed: false, proxy: { checkedFor: null, inUse: null, kinds: [] } }),
      setIpHandlingPolicy: async (policy) => ok({ ipHandlingPolicy: policy, managed: false, proxy: { checkedFor: null, inUse: null, kinds: [] } }),
      updateStatus: async () => ok({ state: 'disabled', version: null, percent: null, message: null, inCall: false }),
      restartToUpdate: async () => ok(null),
      checkForUpdates: async () => ok({ state: 'disabled', version: null, percent: null, message: null, inCall: false }),
      setInCall: async () => ok(null),
      reportError: async () => ok(null),
    } as Impl,
    calls,
    names: () => calls.map(([name]) => name),
    emitState(state: DesktopState) {
      fake.state = state;
      for (const cb of listeners.state) cb(state);
    },
    emitScreenShare(sources: ScreenSource[]) {
      for (const cb of listeners.screen) cb(sources);
    },
    emitLink(event: JoinLinkEvent) {
      for (const cb of listeners.link) cb(event);
    },
    listenerCount: () => listeners.state.size + listeners.link.size + listeners.screen.size,
    api: {} as DesktopApi,
  };
  const record =
    <K extends DesktopCall>(name: K) =>
    (...args: unknown[]) => {
      calls.push([name, args]);
      return (fake.impl[name] as (...a: unknown[]) => unknown)(...args);
    };
  fake.api = {
    appInfo: record('appInfo'),
    getState: record('getState'),
    setServer: record('setServer'),
    forgetServer: record('forgetServer'),
    signIn: record('signIn'),
    cancelSignIn: record('cancelSignIn'),
    signOut: record('signOut'),
    resolveLink: record('resolveLink'),
    joinRoom: record('joinRoom'),
    networkCheckConfig: record('networkCheckConfig'),
    takeJoinLinks: record('takeJoinLinks'),
    setNetworkPolicy: record('setNetworkPolicy'),
    rememberNetwork: record('rememberNetwork'),
    forgetNetworks: record('forgetNetworks'),
    setPreferences: record('setPreferences'),
    onStateChanged: (cb) => {
      listeners.state.add(cb);
      return () => listeners.state.delete(cb);
    },
    onJoinLink: (cb) => {
      listeners.link.add(cb);
      return () => listeners.link.delete(cb);
    },
    chooseScreenSource: record('chooseScreenSource'),
    saveDiagnostics: record('saveDiagnostics'),
    networkPrivacy: record('networkPrivacy'),
    setIpHandlingPolicy: record('setIpHandlingPolicy'),
    updateStatus: record('updateStatus'),
    restartToUpdate: record('restartToUpdate'),
    checkForUpdates: record('checkForUpdates'),
    setInCall: record('setInCall'),
    reportError: record('reportError'),
    onUpdateStatus: () => () => undefined,
    onScreenShareRequest: (cb) => {
      listeners.screen.add(cb);
      return () => listeners.screen.delete(cb);
    },
  } as DesktopApi;
  return fake;
}

async function started(state?: DesktopState) {
  const desktop = fakeDesktop(state);
  const store = createAppStore(desktop.api);
  await store.getState().bootstrap();
  await vi.waitFor(() => expect(store.getState().session.appInfo).not.toBeNull());
  desktop.calls.length = 0;
  return { desktop, store };
}

const alert = (store: AppStore) => selectAlertMessage(store.getState());
const screen = (store: AppStore) => selectScreen(store.getState());

describe('renderer store: screen share picker', () => {
  it('shows the sources main offers, and stops listening on shutdown', async () => {
    const { desktop, store } = await started(signedIn());
    const sources: ScreenSource[] = [{ id: 'screen:0:0', name: 'Built-in display', kind: 'screen', thumbnail: null }];
    desktop.emitScreenShare(sources);
    expect(store.getState().call.screenSources).toEqual(sources);
    store.getState().shutdown();
    expect(desktop.listenerCount()).toBe(0);
  });
});

describe('renderer store: bootstrap', () => {
  it('reads main state, subscribes to its three events and derives the screen', async () => {
    const desktop = fakeDesktop();
    const store = createAppStore(desktop.api);
    expect(screen(store)).toBe('starting');
    const boot = store.getState().bootstrap();
    expect(store.getState().session.startup).toBe('starting');
    await boot;
    expect(store.getState().session.startup).toBe('ready');
    expect(desktop.names()).toEqual(expect.arrayContaining(['getState', 'takeJoinLinks', 'appInfo']));
    expect(desktop.listenerCount()).toBe(3);
    expect(screen(store)).toBe('connect');
    await vi.waitFor(() => expect(store.getState().session.appInfo?.version).toBe('9.9.9'));

    desktop.emitState(desktopState({ server: serverInfo(HOME) }));
    expect(screen(store)).toBe('signed-out');
    desktop.emitState(signedIn());
    expect(screen(store)).toBe('home');
    expect(selectIsSignedIn(store.getState())).toBe(true);

    // Twice is once: no second set of subscriptions.
    await store.getState().bootstrap();
    expect(desktop.listenerCount()).toBe(3);
  });

  it('keeps a state event that overtakes the getState reply', async () => {
    const desktop = fakeDesktop(desktopState());
    const reply = deferred<Result<DesktopState>>();
    desktop.impl.getState = () => reply.promise;
    const store = createAppStore(desktop.api);
    const boot = store.getState().bootstrap();
    desktop.emitState(signedIn());
    reply.resolve(ok(desktopState()));
    await boot;
    expect(screen(store)).toBe('home');
  });

  it('fails plainly when main does not answer, and can try again', async () => {
    const desktop = fakeDesktop();
    desktop.impl.getState = async () => err('internal', 'main is broken');
    const store = createAppStore(desktop.api);
    await store.getState().bootstrap();
    expect(screen(store)).toBe('cannot-start');
    expect(store.getState().session.startupError).toEqual({ code: 'internal', message: 'main is broken' });
    expect(desktop.listenerCount()).toBe(0);

    desktop.impl.getState = async () => ok(signedIn());
    await store.getState().bootstrap();
    expect(screen(store)).toBe('home');
  });

  it('says the bridge is missing when there is no window.desktop', async () => {
    resetAppStore();
    await useAppStore.getState().bootstrap();
    const state = useAppStore.getState();
    expect(selectScreen(state)).toBe('cannot-start');
    expect(state.session.startupError?.code).toBe('bridge-missing');
    expect(state.session.startupError?.message).toMatch(/desktop bridge \(window\.desktop\) is missing/);
    resetAppStore();
  });

  it('handles the latest link main held for the page, once its state is known', async () => {
    const desktop = fakeDesktop(signedIn());
    desktop.earlyLinks = [
      { ok: true, link: { roomId: 'old-link', server: HOME, knownServer: true } },
      { ok: true, link: { roomId: 'weekly-sync', server: HOME, knownServer: true } },
    ];
    const store = createAppStore(desktop.api);
    await store.getState().bootstrap();
    await vi.waitFor(() => expect(screen(store)).toBe('room'));
    expect(desktop.names().filter((n) => n === 'getState' || n === 'takeJoinLinks')).toEqual(['getState', 'takeJoinLinks']);
    expect(desktop.calls.filter(([n]) => n === 'joinRoom')).toEqual([['joinRoom', ['weekly-sync']]]);
  });

  it('prefers a link event that arrives while the held links are being taken (it is newer)', async () => {
    const desktop = fakeDesktop(signedIn());
    const taken = deferred<Result<JoinLinkEvent[]>>();
    desktop.impl.takeJoinLinks = () => taken.promise;
    const store = createAppStore(desktop.api);
    const boot = store.getState().bootstrap();
    await vi.waitFor(() => expect(desktop.names()).toContain('takeJoinLinks'));
    desktop.emitLink({ ok: true, link: { roomId: 'newer', server: HOME, knownServer: true } });
    taken.resolve(ok([{ ok: true, link: { roomId: 'older', server: HOME, knownServer: true } }]));
    await boot;
    await vi.waitFor(() => expect(screen(store)).toBe('room'));
    expect(desktop.calls.filter(([n]) => n === 'joinRoom')).toEqual([['joinRoom', ['newer']]]);
  });
});

describe('renderer store: server and sign-in', () => {
  it('connects to a server, adding https:// when the scheme is left out', async () => {
    const { desktop, store } = await started();
    expect(await store.getState().setServer('  calls.example.org ')).toBe(true);
    expect(desktop.calls).toEqual([['setServer', ['https://calls.example.org']]]);
    expect(screen(store)).toBe('signed-out');
  });

  it('refuses an empty server address without asking main', async () => {
    const { desktop, store } = await started();
    expect(await store.getState().setServer('   ')).toBe(false);
    expect(desktop.calls).toEqual([]);
    expect(alert(store)).toMatch(/Enter the server address/);
  });

  it('shows why main refused a server', async () => {
    const { store, desktop } = await started();
    desktop.impl.setServer = async () => err('server-error', 'https://x.example answered 404: is it a ZeroRange server?');
    expect(await store.getState().setServer('https://x.example')).toBe(false);
    expect(alert(store)).toBe('Could not connect to the server: https://x.example answered 404: is it a ZeroRange server?');
    expect(screen(store)).toBe('connect');
  });

  it('tracks a sign-in while it runs and lands on home', async () => {
    const { desktop, store } = await started(desktopState({ server: serverInfo(HOME), knownServers: [HOME] }));
    const reply = deferred<Result<DesktopState>>();
    desktop.impl.signIn = () => reply.promise;
    const signingIn = store.getState().signIn();
    expect(store.getState().session.busy.signingIn).toBe(true);
    expect(selectSigningIn(store.getState())).toBe(true);
    // A second click while the browser is open does nothing.
    expect(await store.getState().signIn()).toBe(false);
    expect(desktop.names()).toEqual(['signIn']);

    reply.resolve(ok(signedIn()));
    expect(await signingIn).toBe(true);
    expect(selectSigningIn(store.getState())).toBe(false);
    expect(screen(store)).toBe('home');
    expect(alert(store)).toBeNull();
  });

  it('treats a cancelled sign-in as the user’s choice, not an error', async () => {
    const { desktop, store } = await started(desktopState({ server: serverInfo(HOME), knownServers: [HOME] }));
    const reply = deferred<Result<DesktopState>>();
    desktop.impl.signIn = () => reply.promise;
    const signingIn = store.getState().signIn();
    await store.getState().cancelSignIn();
    expect(desktop.names()).toEqual(['signIn', 'cancelSignIn']);
    reply.resolve(err('sign-in-cancelled', 'sign-in was cancelled'));
    expect(await signingIn).toBe(false);
    expect(selectSigningIn(store.getState())).toBe(false);
    expect(alert(store)).toBeNull();
    expect(screen(store)).toBe('signed-out');
  });

  it('shows a failed sign-in', async () => {
    const { desktop, store } = await started(desktopState({ server: serverInfo(HOME), knownServers: [HOME] }));
    desktop.impl.signIn = async () => err('sign-in-failed', 'the identity provider said access_denied');
    expect(await store.getState().signIn()).toBe(false);
    expect(alert(store)).toBe('Sign-in did not complete: the identity provider said access_denied');
    expect(store.getState().session.lastError?.code).toBe('sign-in-failed');
  });

  it('signs out, leaving any joined room', async () => {
    const { store } = await started(signedIn());
    await store.getState().joinFromInput('team-standup');
    expect(screen(store)).toBe('room');
    expect(await store.getState().signOut()).toBe(true);
    expect(screen(store)).toBe('signed-out');
    expect(store.getState().room.status).toBe('idle');
    expect(store.getState().room.limits).toBeNull();
  });
});

describe('renderer store: joining', () => {
  it('joins a bare room ID on the current server and keeps the room limits (the join itself goes to the token source)', async () => {
    const { desktop, store } = await started(signedIn());
    expect(await store.getState().joinFromInput('  team-standup ')).toBe(true);
    expect(desktop.calls).toEqual([['joinRoom', ['team-standup']]]);
    const { room } = store.getState();
    expect(room.status).toBe('joined');
    expect(room.target).toEqual({ roomId: 'team-standup', server: HOME });
    expect(room.limits).toEqual({ roomSizeLimit: joinResponse('team-standup').roomSizeLimit });
    expect(screen(store)).toBe('room');

    store.getState().leaveRoom();
    expect(screen(store)).toBe('home');
    expect(store.getState().room.limits).toBeNull();
  });

  it('resolves a pasted link through main and joins on a known server', async () => {
    const { desktop, store } = await started(signedIn());
    expect(await store.getState().joinFromInput(`${HOME}/join/design-review`)).toBe(true);
    expect(desktop.calls).toEqual([
      ['resolveLink', [`${HOME}/join/design-review`]],
      ['joinRoom', ['design-review']],
    ]);
  });

  it.each([
    ['room-full', 'the room has 8 people already', 'This room is full: the room has 8 people already'],
    ['forbidden', 'only staff may join', 'You are not allowed to join this room: only staff may join'],
    ['rate-limited', 'slow down', 'Too many attempts to join: wait a moment and try again: slow down'],
    ['server-unreachable', 'cannot reach https://calls.example.org', 'The server cannot be reached: cannot reach https://calls.example.org'],
    ['internal', 'something went wrong', 'Could not join the room: something went wrong'],
  ] as const)('maps a %s join error to a failed status and a message', async (code, message, shown) => {
    const { store, desktop } = await started(signedIn());
    desktop.impl.joinRoom = async () => err(code, message);
    expect(await store.getState().joinFromInput('team-standup')).toBe(false);
    const { room } = store.getState();
    expect(room.status).toBe('failed');
    expect(room.error).toEqual({ code, message: shown });
    expect(room.limits).toBeNull();
    expect(alert(store)).toBe(shown);
    expect(screen(store)).toBe('home');

    // Dismissing the alert leaves a clean home.
    store.getState().dismissErrors();
    expect(alert(store)).toBeNull();
    expect(store.getState().room.status).toBe('idle');
  });

  it.each([
    ['', /Enter a room link or a room ID/],
    ['   ', /Enter a room link or a room ID/],
    ['Team Standup', /not a room link or ID: a room ID uses only a-z, 0-9 and inner hyphens/],
    ['ab', /not a room link or ID: a room ID has at least 3 characters/],
  ])('refuses %j without calling main and changes nothing else', async (input, message) => {
    const { desktop, store } = await started(signedIn());
    store.getState().createRoom();
    const before = store.getState();
    expect(await store.getState().joinFromInput(input)).toBe(false);
    expect(desktop.calls).toEqual([]);
    expect(alert(store)).toMatch(message);
    const after = store.getState();
    expect(after.room.status).toBe('idle');
    expect(after.room.created).toBe(before.room.created);
    expect(after.session).toBe(before.session);
  });

  it('shows main’s reason for a link it cannot resolve', async () => {
    const { desktop, store } = await started(signedIn());
    desktop.impl.resolveLink = async () => err('invalid-argument', 'links of type javascript: are not ZeroRange links');
    expect(await store.getState().joinFromInput('javascript:alert(1)')).toBe(false);
    expect(alert(store)).toBe('This link cannot be opened: links of type javascript: are not ZeroRange links');
    expect(desktop.names()).toEqual(['resolveLink']);
    expect(store.getState().room.status).toBe('idle');
  });

  it('shows the reason of a bad link from the OS, and changes nothing', async () => {
    const { desktop, store } = await started(signedIn());
    store.getState().handleJoinLink({ ok: false, reason: 'not a room: a room ID uses only a-z, 0-9 and inner hyphens' });
    expect(alert(store)).toBe('This link cannot be opened: not a room: a room ID uses only a-z, 0-9 and inner hyphens');
    expect(desktop.calls).toEqual([]);
    expect(screen(store)).toBe('home');
    // A new attempt clears it.
    await store.getState().joinFromInput('team-standup');
    expect(alert(store)).toBeNull();
  });

  it('makes an unguessable room and its web link on the current server', async () => {
    const { desktop, store } = await started(signedIn());
    const created = store.getState().createRoom()!;
    expect(isRoomId(created.roomId)).toBe(true);
    expect(created.roomId).toHaveLength(GENERATED_ROOM_ID_LENGTH);
    expect(created.link).toBe(formatWebJoinLink({ roomId: created.roomId, server: HOME }));
    expect(store.getState().room.created).toEqual({ roomId: created.roomId, server: HOME, link: created.link });
    expect(store.getState().createRoom()!.roomId).not.toBe(created.roomId);
    expect(desktop.calls).toEqual([]);

    // The random source is injectable: all-zero bytes give the alphabet's first symbol.
    const fixed = createAppStore(desktop.api, { fillRandom: (b) => b.fill(0) });
    fixed.setState({ session: { ...fixed.getState().session, desktop: signedIn() } });
    expect(fixed.getState().createRoom()!.link).toBe(`${HOME}/join/${'0'.repeat(GENERATED_ROOM_ID_LENGTH)}`);
  });

  it('ignores the reply of a join the user has left behind', async () => {
    const { desktop, store } = await started(signedIn());
    const reply = deferred<Result<JoinResponse>>();
    desktop.impl.joinRoom = () => reply.promise;
    const joining = store.getState().joinFromInput('slow-room');
    expect(store.getState().room.status).toBe('joining');
    store.getState().leaveRoom();
    reply.resolve(ok(joinResponse('slow-room')));
    expect(await joining).toBe(false);
    expect(store.getState().room.status).toBe('idle');
    expect(screen(store)).toBe('home');
  });
});

describe('renderer store: links to a server the user has not trusted', () => {
  const unknownLink: JoinLinkEvent = { ok: true, link: { roomId: 'abc', server: OTHER, knownServer: false } };

  it('asks first, and sends nothing anywhere until confirmed', async () => {
    const { desktop, store } = await started(signedIn());
    desktop.emitLink(unknownLink);
    expect(selectPendingServer(store.getState())).toEqual({ roomId: 'abc', server: OTHER });
    expect(desktop.calls).toEqual([]);
    expect(screen(store)).toBe('home');

    store.getState().cancelServer();
    expect(selectPendingServer(store.getState())).toBeNull();
    expect(desktop.calls).toEqual([]);
    expect(store.getState().session.desktop?.server?.origin).toBe(HOME);
  });

  it('a pasted link to an unknown server is only resolved (locally, by main) before the user confirms', async () => {
    const { desktop, store } = await started(signedIn());
    expect(await store.getState().joinFromInput(`${OTHER}/join/abc`)).toBe(false);
    expect(desktop.names()).toEqual(['resolveLink']);
    expect(selectPendingServer(store.getState())).toEqual({ roomId: 'abc', server: OTHER });
    expect(store.getState().room.status).toBe('idle');
  });

  it('on confirm: connects to it for that room (main keeps the join across its reload), signs in there, then joins, in that order', async () => {
    const { desktop, store } = await started(signedIn());
    desktop.emitLink(unknownLink);
    expect(desktop.calls).toEqual([]);
    expect(await store.getState().confirmServer()).toBe(true);
    expect(desktop.calls).toEqual([
      ['setServer', [OTHER, 'abc']],
      ['signIn', []],
      ['joinRoom', ['abc']],
    ]);
    expect(selectPendingServer(store.getState())).toBeNull();
    expect(store.getState().room.target).toEqual({ roomId: 'abc', server: OTHER });
    expect(screen(store)).toBe('room');
  });

  it('resumes a confirmed join that main hands back after reloading the window for the new server', async () => {
    const desktop = fakeDesktop(signedIn());
    const first = createAppStore(desktop.api);
    await first.getState().bootstrap();
    // setServer succeeds in main, which then reloads the page: this document never sees the reply.
    desktop.impl.setServer = (url) => {
      desktop.state = { ...desktop.state, server: serverInfo(url), user: null, knownServers: [HOME, url] };
      return new Promise(() => undefined);
    };
    desktop.emitLink(unknownLink);
    void first.getState().confirmServer();
    await vi.waitFor(() => expect(desktop.names()).toContain('setServer'));
    first.getState().shutdown();

    // Main put the confirmed join back into its inbox before the reload; the new page takes it.
    desktop.earlyLinks = [{ ok: true, link: { roomId: 'abc', server: OTHER, knownServer: true }, confirmed: true }];
    desktop.calls.length = 0;
    const reloaded = createAppStore(desktop.api);
    await reloaded.getState().bootstrap();
    await vi.waitFor(() => expect(screen(reloaded)).toBe('room'));
    expect(reloaded.getState().room.target).toEqual({ roomId: 'abc', server: OTHER });
    // The user already said "Connect and join": signed out there, it signs in without asking again.
    expect(desktop.names().filter((n) => n === 'signIn' || n === 'joinRoom')).toEqual(['signIn', 'joinRoom']);
  });

  it('does not sign in again when the confirmed server already has a session', async () => {
    const { desktop, store } = await started(signedIn());
    desktop.impl.setServer = async (url) => {
      desktop.state = { ...desktop.state, server: serverInfo(url), knownServers: [HOME, url] };
      return ok(desktop.state);
    };
    desktop.emitLink(unknownLink);
    expect(await store.getState().confirmServer()).toBe(true);
    expect(desktop.names()).toEqual(['setServer', 'joinRoom']);
  });

  it('stops, showing why, when the server cannot be used', async () => {
    const { desktop, store } = await started(signedIn());
    desktop.impl.setServer = async () => err('server-error', `${OTHER} answered 404: is it a ZeroRange server?`);
    desktop.emitLink(unknownLink);
    expect(await store.getState().confirmServer()).toBe(false);
    expect(desktop.names()).toEqual(['setServer']);
    expect(alert(store)).toMatch(/answered 404: is it a ZeroRange server\?/);
    expect(store.getState().room.status).toBe('idle');
    expect(screen(store)).toBe('home');
  });

  it('stops quietly when the user cancels the sign-in it needed', async () => {
    const { desktop, store } = await started(signedIn());
    desktop.impl.signIn = async () => err('sign-in-cancelled', 'cancelled');
    desktop.emitLink(unknownLink);
    expect(await store.getState().confirmServer()).toBe(false);
    expect(desktop.names()).toEqual(['setServer', 'signIn']);
    expect(alert(store)).toBeNull();
    expect(store.getState().room.status).toBe('idle');
  });

  it('leaves a joined room alone while asking, and if cancelled', async () => {
    const { desktop, store } = await started(signedIn());
    await store.getState().joinFromInput('team-standup');
    desktop.calls.length = 0;
    desktop.emitLink(unknownLink);
    expect(screen(store)).toBe('room');
    store.getState().cancelServer();
    expect(screen(store)).toBe('room');
    expect(store.getState().room.limits).toEqual({ roomSizeLimit: joinResponse('team-standup').roomSizeLimit });
    expect(desktop.calls).toEqual([]);
  });

  it('a link from the OS to the known server while signed out waits for the user to sign in', async () => {
    const { desktop, store } = await started(desktopState({ server: serverInfo(HOME), knownServers: [HOME] }));
    desktop.emitLink({ ok: true, link: { roomId: 'weekly-sync', server: HOME, knownServer: true } });
    await vi.waitFor(() => expect(store.getState().room.status).toBe('awaiting-sign-in'));
    expect(desktop.calls).toEqual([]);
    expect(await store.getState().signIn()).toBe(true);
    await vi.waitFor(() => expect(screen(store)).toBe('room'));
    expect(desktop.names()).toEqual(['signIn', 'joinRoom']);
  });
});

describe('resetAppStore', () => {
  afterEach(() => {
    resetAppStore();
    vi.unstubAllGlobals();
  });

  it('returns the app store to its initial state and drops its subscriptions', async () => {
    const desktop = fakeDesktop(signedIn());
    vi.stubGlobal('window', { desktop: desktop.api });
    const initial = useAppStore.getState();
    await useAppStore.getState().bootstrap();
    expect(desktop.listenerCount()).toBe(3);
    await useAppStore.getState().joinFromInput('team-standup');
    useAppStore.getState().navigate('settings');
    useAppStore.getState().notify('error', 'something');
    expect(selectScreen(useAppStore.getState())).toBe('settings');

    resetAppStore();
    const state = useAppStore.getState();
    expect(desktop.listenerCount()).toBe(0);
    expect(state.session).toEqual(initial.session);
    expect(state.ui).toEqual(initial.ui);
    expect(state.room).toEqual(initial.room);
    expect(selectScreen(state)).toBe('starting');

    // Events for the old store go nowhere; a new bootstrap starts over.
    await useAppStore.getState().bootstrap();
    expect(desktop.listenerCount()).toBe(3);
    expect(selectScreen(useAppStore.getState())).toBe('home');
  });

  it('ignores a bootstrap that finishes after the reset', async () => {
    const desktop = fakeDesktop(signedIn());
    const reply = deferred<Result<DesktopState>>();
    desktop.impl.getState = () => reply.promise;
    vi.stubGlobal('window', { desktop: desktop.api });
    const boot = useAppStore.getState().bootstrap();
    resetAppStore();
    reply.resolve(ok(signedIn()));
    await boot;
    expect(useAppStore.getState().session.startup).toBe('idle');
    expect(useAppStore.getState().session.desktop).toBeNull();
  });
});
