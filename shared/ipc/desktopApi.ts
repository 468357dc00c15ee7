import { z } from 'zod';
import { DiagnosticsDocumentArg, SaveDiagnosticsOptions } from '../diagnostics/document.js';
import { ClientConfig, JoinResponse } from '../protocol/http.js';
import { IceServers } from '../protocol/ice.js';
import { RoomId } from '../protocol/rooms.js';
import { IPC_CHANNELS, type IpcMethod } from './channels.js';
import { IpHandlingPolicy, RendererErrorReport, type NetworkPrivacy, type UpdateStatus } from './shellServices.js';

/** Versions the desktop shell reports (diagnostics, about box). */
export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  electron: z.string().nullable(),
  chrome: z.string().nullable(),
  node: z.string().nullable(),
  platform: z.string(),
  arch: z.string(),
  packaged: z.boolean(),
  /** Operating system and release (e.g. "Linux 6.1.0"), for diagnostics. */
  os: z.string().nullable().optional(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const UserInfo = z.object({
  sub: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  username: z.string().nullable(),
});
export type UserInfo = z.infer<typeof UserInfo>;

export const ServerInfo = z.object({
  /** The server's origin, as the user entered it (normalised). */
  origin: z.string(),
  config: ClientConfig,
});
export type ServerInfo = z.infer<typeof ServerInfo>;

/** How calls reach peers: everything (Auto), only through TURN, or only through TURN over TLS 443. */
export const NetworkPolicy = z.enum(['auto', 'relay', 'relay-tls']);
export type NetworkPolicy = z.infer<typeof NetworkPolicy>;

/** A camera, microphone or speaker the user chose; the label finds it again if its id changes. */
export const DeviceChoice = z.object({ deviceId: z.string().min(1).max(512), label: z.string().max(256) });
export type DeviceChoice = z.infer<typeof DeviceChoice>;

export const DeviceKind = z.enum(['audioinput', 'videoinput', 'audiooutput']);
export type DeviceKind = z.infer<typeof DeviceKind>;

/** What the user chose for calls, kept between runs (main's settings file). */
export const Preferences = z.object({
  devices: z.object({ audioinput: DeviceChoice.nullable(), videoinput: DeviceChoice.nullable(), audiooutput: DeviceChoice.nullable() }),
  startMuted: z.boolean(),
  startCameraOff: z.boolean(),
});
export type Preferences = z.infer<typeof Preferences>;

/** A change to the preferences: only what is given changes; a device set to null means the system default. */
export const PreferencesPatch = z
  .object({
    devices: z.object({ audioinput: DeviceChoice.nullable(), videoinput: DeviceChoice.nullable(), audiooutput: DeviceChoice.nullable() }).partial().strict(),
    startMuted: z.boolean(),
    startCameraOff: z.boolean(),
  })
  .partial()
  .strict();
export type PreferencesPatch = z.infer<typeof PreferencesPatch>;

/** Settings the organisation's managed configuration fixed: the UI shows them as "Set by your organisation". */
export const ManagedSettings = z.object({ server: z.boolean(), networkPolicy: z.boolean(), webrtcIpHandling: z.boolean() });
export type ManagedSettings = z.infer<typeof ManagedSettings>;

/** Where the refresh token lives. `memory` when the OS has no real keystore: signed in until the app quits. */
export const TokenStorage = z.enum(['keystore', 'memory']);

export const DesktopState = z.object({
  server: ServerInfo.nullable(),
  user: UserInfo.nullable(),
  /** A sign-in in the system browser is under way. */
  signingIn: z.boolean(),
  tokenStorage: TokenStorage,
  /** Why tokens are kept in memory only, to show the user; null when the keystore is used. */
  tokenStorageNote: z.string().nullable(),
  /** Servers the user has chosen to trust (origins). */
  knownServers: z.array(z.string()),
  networkPolicy: NetworkPolicy,
  /** This network was seen blocking UDP and plain TURN: calls start with relay over TLS 443 at once. */
  restrictiveNetwork: z.boolean(),
  /** Devices and how calls start; absent from an older main process. */
  preferences: Preferences.optional(),
  /** What the organisation fixed; absent means nothing is. */
  managed: ManagedSettings.optional(),
});
export type DesktopState = z.infer<typeof DesktopState>;

/** What "Check my network" needs: where the server is, and fresh ICE servers (no room involved). */
export const NetworkCheckConfig = z.object({
  /** The server's origin. */
  server: z.string(),
  /** `GET` it to measure HTTPS to the signaling server. */
  healthUrl: z.string(),
  /** The signaling socket's URL (opened, pinged and closed; never joined). */
  signalingUrl: z.string(),
  /** STUN, TURN UDP/TCP and TURN over TLS, with credentials of their own (POST /v1/ice-servers). */
  iceServers: IceServers,
});
export type NetworkCheckConfig = z.infer<typeof NetworkCheckConfig>;

/** A join link as main resolved it: where it points, and whether that server is already trusted. */
export const JoinLinkResolution = z.object({
  roomId: z.string(),
  server: z.string(),
  knownServer: z.boolean(),
});
export type JoinLinkResolution = z.infer<typeof JoinLinkResolution>;

/** A link the OS handed to the app (protocol handler, second instance, macOS open-url). */
export const JoinLinkEvent = z.union([
  z.object({
    ok: z.literal(true),
    link: JoinLinkResolution,
    /** The user already confirmed this server and asked to join, on a page since reloaded: carry on without asking. */
    confirmed: z.boolean().optional(),
  }),
  z.object({ ok: z.literal(false), reason: z.string() }),
]);
export type JoinLinkEvent = z.infer<typeof JoinLinkEvent>;

/** A screen or window the user may share (from the OS, offered by main when the page asks to share). */
export const ScreenSource = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['screen', 'window']),
  /** A small PNG preview as a data: URL, or null. */
  thumbnail: z.string().nullable(),
});
export type ScreenSource = z.infer<typeof ScreenSource>;

export const DesktopErrorCode = z.enum([
  'invalid-argument',
  'unknown-server', // a server the user has not confirmed
  'server-unreachable',
  'service-unavailable', // the server is up but cannot start calls for a moment (its shared state is away)
  'server-error',
  'not-signed-in',
  'sign-in-cancelled',
  'sign-in-timeout',
  'sign-in-failed', // the IdP said no (access_denied …) or the flow broke
  'busy', // another sign-in is under way
  'forbidden',
  'room-full',
  'invalid-room',
  'rate-limited',
  'internal',
]);
export type DesktopErrorCode = z.infer<typeof DesktopErrorCode>;

export const DesktopError = z.object({ code: DesktopErrorCode, message: z.string() });
export type DesktopError = z.infer<typeof DesktopError>;

/** Every call resolves to a result: errors cross the bridge as data, not as lossy exceptions. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: DesktopError };

/**
 * The whole IPC contract between the renderer and the main process. The preload exposes one
 * function per method as `window.desktop`; main validates the sender and arguments of each call.
 * Tokens never cross it: the renderer gets a room token and ICE servers for one join, nothing more.
 */
export interface DesktopApi {
  appInfo(): Promise<Result<AppInfo>>;
  getState(): Promise<Result<DesktopState>>;
  /**
   * Reads a server's published client configuration and remembers the server as trusted. `forRoom`:
   * the user confirmed joining this room there, from a link (the join then survives the reload main
   * does for the new server); connecting to a server by hand confirms no link.
   */
  setServer(url: string, forRoom?: string): Promise<Result<DesktopState>>;
  forgetServer(origin: string): Promise<Result<DesktopState>>;
  /** Sign-in in the system browser (authorization code + PKCE, loopback redirect). */
  signIn(): Promise<Result<DesktopState>>;
  cancelSignIn(): Promise<Result<null>>;
  /** Revokes tokens, ends the IdP session and deletes what was stored. */
  signOut(): Promise<Result<DesktopState>>;
  /** Parses a link the user pasted, by the same rules as links from the OS. */
  resolveLink(text: string): Promise<Result<JoinLinkResolution>>;
  /** Joins a room on the current server; main calls the server with the access token. */
  joinRoom(roomId: string): Promise<Result<JoinResponse>>;
  /** For "Check my network": main fetches fresh ICE servers with the access token (no room needed). */
  networkCheckConfig(): Promise<Result<NetworkCheckConfig>>;
  /**
   * Links main holds for this page (from a cold start, while no window was open, during a reload).
   * The renderer calls this once, after subscribing with onJoinLink and reading the state; main
   * sends later links through the event, each link once.
   */
  takeJoinLinks(): Promise<Result<JoinLinkEvent[]>>;
  setNetworkPolicy(policy: NetworkPolicy): Promise<Result<DesktopState>>;
  /** Changes the kept preferences (devices, start muted, start with camera off). */
  setPreferences(patch: PreferencesPatch): Promise<Result<DesktopState>>;
  /** Records what a call learned about the current network (keyed by a coarse, salted fingerprint). */
  rememberNetwork(restrictive: boolean): Promise<Result<DesktopState>>;
  /** Forgets every network record. */
  forgetNetworks(): Promise<Result<DesktopState>>;
  /** The user's answer to onScreenShareRequest: a source id offered there, or null to cancel. */
  chooseScreenSource(id: string | null): Promise<Result<null>>;
  /**
   * Saves a diagnostics document (shared/diagnostics/document.ts) where the user picks in a save
   * dialog. Main validates it, redacts it again (secrets always, addresses unless `includeAddresses`)
   * and writes it in `format`. Resolves with the file's path, or null when the user cancelled.
   */
  saveDiagnostics(document: unknown, options: SaveDiagnosticsOptions): Promise<Result<{ path: string } | null>>;
  /** The WebRTC IP-handling policy in effect, whether the organisation set it, and whether a proxy is in use. */
  networkPrivacy(): Promise<Result<NetworkPrivacy>>;
  /** Applies to every window at once (peer connections made after it); refused when the organisation set it. */
  setIpHandlingPolicy(policy: IpHandlingPolicy): Promise<Result<NetworkPrivacy>>;
  updateStatus(): Promise<Result<UpdateStatus>>;
  /** Checks now (Settings), and downloads what it finds; during a call the check waits for it to end. */
  checkForUpdates(): Promise<Result<UpdateStatus>>;
  /** Installs a downloaded update and restarts; refused ('busy') during a call. */
  restartToUpdate(): Promise<Result<null>>;
  /** The page says when a call starts and ends: main never restarts for an update during one. */
  setInCall(inCall: boolean): Promise<Result<null>>;
  /** An error the page did not handle, for main's log (redacted there, rate-limited). */
  reportError(report: RendererErrorReport): Promise<Result<null>>;
  onStateChanged(callback: (state: DesktopState) => void): () => void;
  onUpdateStatus(callback: (status: UpdateStatus) => void): () => void;
  onJoinLink(callback: (event: JoinLinkEvent) => void): () => void;
  /** The page asked to share a screen: main offers these sources; answer with chooseScreenSource. */
  onScreenShareRequest(callback: (sources: ScreenSource[]) => void): () => void;
}

export type DesktopCall = Exclude<keyof DesktopApi, `on${string}`>;
export type DesktopEvent = Extract<keyof DesktopApi, `on${string}`>;

/** Argument schemas, checked in main for every call (the renderer is not trusted). */
export const DESKTOP_ARGS = {
  appInfo: z.tuple([]),
  getState: z.tuple([]),
  setServer: z.tuple([z.string().min(1).max(512), RoomId.optional()]),
  forgetServer: z.tuple([z.string().min(1).max(512)]),
  signIn: z.tuple([]),
  cancelSignIn: z.tuple([]),
  signOut: z.tuple([]),
  resolveLink: z.tuple([z.string().min(1).max(2048)]),
  joinRoom: z.tuple([z.string().min(1).max(64)]),
  networkCheckConfig: z.tuple([]),
  takeJoinLinks: z.tuple([]),
  setNetworkPolicy: z.tuple([NetworkPolicy]),
  setPreferences: z.tuple([PreferencesPatch]),
  rememberNetwork: z.tuple([z.boolean()]),
  forgetNetworks: z.tuple([]),
  chooseScreenSource: z.tuple([z.string().min(1).max(256).nullable()]),
  saveDiagnostics: z.tuple([DiagnosticsDocumentArg, SaveDiagnosticsOptions]),
  networkPrivacy: z.tuple([]),
  setIpHandlingPolicy: z.tuple([IpHandlingPolicy]),
  updateStatus: z.tuple([]),
  checkForUpdates: z.tuple([]),
  restartToUpdate: z.tuple([]),
  setInCall: z.tuple([z.boolean()]),
  reportError: z.tuple([RendererErrorReport]),
} as const satisfies Record<DesktopCall, z.ZodTuple>;

// The channel names live in a zod-free module the preload can bundle; its keys must be the contract's.
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type ChannelsMatchContract = Assert<SameKeys<IpcMethod, keyof DesktopApi>>;

export const DESKTOP_CALLS = Object.keys(DESKTOP_ARGS) as DesktopCall[];
export const DESKTOP_EVENTS = ['onStateChanged', 'onJoinLink', 'onScreenShareRequest', 'onUpdateStatus'] as const satisfies readonly DesktopEvent[];

export { IPC_CHANNELS, JoinResponse, SaveDiagnosticsOptions };
