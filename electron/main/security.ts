import type { Session } from 'electron';

/** The renderer's origin: a privileged custom scheme, so file:// never gets trusted. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'zerorange';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** True for URLs (or origins) of the app itself: exactly `app://zerorange`, no port or credentials. */
export function isAppOrigin(url: string): boolean {
  const u = parse(url);
  // Host is compared as parsed: Node keeps a custom scheme's host as written, Chromium lowercases it.
  return u !== null && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && !u.username && !u.password && !u.port;
}

export interface FrameLike {
  url: string;
  parent?: unknown;
}

/** IPC is accepted only from the app's own top-level document, never from a subframe or another origin. */
export function validateSender(frame: FrameLike | null | undefined): boolean {
  if (!frame) return false;
  try {
    return frame.parent == null && isAppOrigin(frame.url);
  } catch {
    // A frame that navigated away or was disposed throws on access.
    return false;
  }
}

// Local network access: organisations often run signaling and TURN on private addresses, and
// Chromium's Local Network Access checks would otherwise block the app's own connections there.
const GRANTED = new Set(['media', 'display-capture', 'clipboard-sanitized-write', 'local-network-access', 'local-network', 'loopback-network']);

export interface PermissionDetails {
  isMainFrame?: boolean;
  requestingUrl?: string;
}

/** Camera/microphone, screen capture and clipboard writes for the app's main frame; nothing else, to no one else. */
export function permissionDecision(permission: string, requestingOrigin: string, details?: PermissionDetails): boolean {
  if (!GRANTED.has(permission)) return false;
  if (!isAppOrigin(requestingOrigin)) return false;
  if (details?.requestingUrl !== undefined && !isAppOrigin(details.requestingUrl)) return false;
  return details?.isMainFrame !== false;
}

export interface ExternalUrlRules {
  /** Development only: the sign-in page of the local IdP is plain http on loopback. */
  allowInsecureLoopback?: boolean;
}

const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** What may be handed to the OS to open: https (and mailto) only — never file:, javascript: or other apps' schemes. */
export function externalUrlAllowed(url: string, rules: ExternalUrlRules = {}): boolean {
  if (url.length > 2048 || /[^\x21-\x7e]/.test(url)) return false;
  const u = parse(url);
  if (!u) return false;
  if (u.protocol === 'mailto:') return true;
  // Credentials in a link hide its real host (https://bank.example@evil.example).
  if (u.username || u.password || !u.hostname) return false;
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && rules.allowInsecureLoopback === true && LOOPBACK.test(u.hostname);
}

/** Wraps `shell.openExternal` so nothing reaches the OS that externalUrlAllowed refuses. */
export function guardedOpenExternal(
  open: (url: string) => Promise<void>,
  rules: ExternalUrlRules = {},
): (url: string) => Promise<void> {
  return async (url) => {
    if (!externalUrlAllowed(url, rules)) throw new Error('refused to open this address outside the app');
    await open(url);
  };
}

type SessionLike = Pick<
  Session,
  'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler' | 'on'
>;

export function applySessionPolicy(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(permissionDecision(permission, details.requestingUrl, details));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
    permissionDecision(permission, requestingOrigin, details),
  );
  // HID, serial, USB: a calling app needs none of them.
  session.setDevicePermissionHandler(() => false);
  // The app offers nothing to download; a renderer-started download is refused.
  session.on('will-download', (event) => event.preventDefault());
  // Screen sharing goes through setDisplayMediaRequestHandler in index.ts: the app's own picker.
}

const SPKI_SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Development only: trust the local TURN server's self-signed certificate by its SPKI hash
 * (`npm start` sets ZR_DEV_TURN_SPKI). Packaged builds never get this switch.
 */
export function devCertificateSwitches(env: NodeJS.ProcessEnv, isPackaged: boolean): [string, string] | null {
  if (isPackaged) return null;
  const spki = env.ZR_DEV_TURN_SPKI;
  if (spki === undefined || spki === '') return null;
  if (!SPKI_SHA256_BASE64.test(spki) || Buffer.from(spki, 'base64').length !== 32) {
    throw new Error('ZR_DEV_TURN_SPKI must be the base64 SHA-256 of a certificate SubjectPublicKeyInfo (32 bytes)');
  }
  return ['ignore-certificate-errors-spki-list', spki];
}
