import { z } from 'zod';

/**
 * The desktop shell's own services in the IPC contract: the WebRTC IP-handling policy, the proxy in
 * use, updates and the renderer's error reports. Kept apart from desktopApi.ts so the diagnostics
 * document can use the same schemas without importing the whole contract.
 */

/**
 * Which addresses WebRTC may use (Electron's `webContents.setWebRTCIPHandlingPolicy`):
 * - `default`: every interface, so the most direct path;
 * - `default_public_interface_only`: only the interface of the default route, so a VPN or private
 *   network address is not revealed to the other participants;
 * - `disable_non_proxied_udp`: no UDP unless a proxy carries it, so media goes through TURN over TCP
 *   or TLS, and through the system proxy where one is set.
 */
export const IpHandlingPolicy = z.enum(['default', 'default_public_interface_only', 'disable_non_proxied_udp']);
export type IpHandlingPolicy = z.infer<typeof IpHandlingPolicy>;

/** Whether requests to the server go through a proxy (from the OS settings or a PAC file). Never its credentials. */
export const ProxyStatus = z.object({
  /** The origin the proxy was resolved for (the current server); null when no server is chosen. */
  checkedFor: z.string().max(512).nullable(),
  /** null when it could not be resolved (no server, or the resolution failed). */
  inUse: z.boolean().nullable(),
  /** The proxy kinds in the PAC order, `PROXY`, `HTTPS`, `SOCKS5` …, without hosts or credentials. */
  kinds: z.array(z.string().max(16)).max(8),
});
export type ProxyStatus = z.infer<typeof ProxyStatus>;

export const NetworkPrivacy = z.object({
  ipHandlingPolicy: IpHandlingPolicy,
  /** Set by the organisation (managed configuration): the user cannot change it. */
  managed: z.boolean(),
  proxy: ProxyStatus,
});
export type NetworkPrivacy = z.infer<typeof NetworkPrivacy>;

/**
 * Where the app is with updates. `ready`: downloaded and verified, installed by "Restart to update"
 * or when the app quits; `deferred`: found while a call is on, fetched once the call ends.
 */
export const UpdateState = z.enum(['disabled', 'idle', 'checking', 'deferred', 'downloading', 'ready', 'error']);
export type UpdateState = z.infer<typeof UpdateState>;

export const UpdateStatus = z.object({
  state: UpdateState,
  /** The version found, downloading or ready. */
  version: z.string().max(64).nullable(),
  /** 0–100 while downloading. */
  percent: z.number().min(0).max(100).nullable(),
  /** Why updates are off, or what failed, in words. */
  message: z.string().max(512).nullable(),
  /** A call is on: nothing is offered or installed until it ends. */
  inCall: z.boolean(),
});
export type UpdateStatus = z.infer<typeof UpdateStatus>;

/** An error the page did not handle, reported to main's log. */
export const RendererErrorReport = z.strictObject({
  message: z.string().max(2000),
  stack: z.string().max(8000).optional(),
  /** Where it came from: `error` (window.onerror), `unhandledrejection`, or a component. */
  source: z.string().max(128),
});
export type RendererErrorReport = z.infer<typeof RendererErrorReport>;
