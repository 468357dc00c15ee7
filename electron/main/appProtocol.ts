import { readFile as fsReadFile } from 'node:fs/promises';
import path from 'node:path';
import type { CustomScheme, Protocol } from 'electron';
import type { DesktopState } from '../../shared/ipc/desktopApi.js';
import { APP_HOST, APP_SCHEME } from './security.js';

/** standard + secure: a real origin with secure-context APIs (getUserMedia); no bypassCSP, so our CSP applies. */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

/** Must run before `app` is ready. */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
}

const SOURCE = /^(https|wss|http|ws):\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/;
const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** The renderer's Content-Security-Policy. connectSrc: bare origins; plain http/ws only on loopback (development). */
export function buildCsp({ connectSrc }: { connectSrc: readonly string[] }): string {
  for (const source of connectSrc) {
    const m = SOURCE.exec(source);
    if (!m) throw new Error(`not a CSP origin: ${JSON.stringify(source)}`);
    if ((m[1] === 'http' || m[1] === 'ws') && !LOOPBACK.test(m[2]!)) throw new Error(`insecure CSP origin: ${source}`);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    // The frame-encryption worker: the app's own file, never a blob: or data: URL.
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    ["connect-src 'self'", ...new Set(connectSrc)].join(' '),
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

const WEB_TO_SOCKET: Record<string, string> = { 'https:': 'wss:', 'http:': 'ws:', 'wss:': 'https:', 'ws:': 'http:' };

/** Origins the renderer may connect to: the current server, its signaling endpoint and its IdP, each as http(s) and ws(s). */
export function connectSourcesFor(state: Pick<DesktopState, 'server'> | null): string[] {
  const server = state?.server;
  if (!server) return [];
  const sources = new Set<string>();
  for (const raw of [server.origin, server.config.signalingUrl, server.config.issuer]) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    const other = WEB_TO_SOCKET[url.protocol];
    if (!other) continue;
    // Same rule as buildCsp, so a misconfigured server cannot make every page load fail.
    if ((url.protocol === 'http:' || url.protocol === 'ws:') && !LOOPBACK.test(url.hostname)) continue;
    sources.add(`${url.protocol}//${url.host}`);
    sources.add(`${other}//${url.host}`);
  }
  return [...sources].sort();
}

/**
 * The CSP is fixed when a document loads, so a page loaded before a server was chosen cannot reach it.
 * `update` says when the sources changed, i.e. when the main window must reload to get the new policy.
 */
export function createConnectPolicy() {
  let sources: string[] = [];
  return {
    csp: (): string => buildCsp({ connectSrc: sources }),
    update(state: Pick<DesktopState, 'server'> | null): boolean {
      const next = connectSourcesFor(state);
      const changed = next.join(' ') !== sources.join(' ');
      sources = next;
      return changed;
    },
  };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.wav': 'audio/wav',
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
};

export function mimeType(filePath: string): string {
  return MIME[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Maps an `app://zerorange/…` URL to a file inside `root`, or null. Each path segment is decoded once and
 * refused if it could climb or switch directories on any OS (`..`, `/`, `\`, `:`, NUL), whatever the encoding.
 */
export function resolveAppPath(root: string, requestUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST || url.username || url.password) return null;
  const pathname = url.pathname === '/' || url.pathname === '' ? '/index.html' : url.pathname;
  const segments: string[] = [];
  for (const raw of pathname.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\:\0]/.test(segment)) return null;
    segments.push(segment);
  }
  const base = path.resolve(root);
  const full = path.resolve(base, ...segments);
  const relative = path.relative(base, full);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return null;
  return full;
}

export interface AppHandlerOptions {
  /** The renderer build (`build/renderer`, inside the asar when packaged). */
  root: string;
  csp: () => string;
  /** Electron's fs reads inside the asar; injectable for tests. */
  readFile?: (file: string) => Promise<Uint8Array>;
}

const notFound = (): Response => new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain' } });

export function createAppRequestHandler(options: AppHandlerOptions): (request: Request) => Promise<Response> {
  const readFile = options.readFile ?? fsReadFile;
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405 });
    const file = resolveAppPath(options.root, request.url);
    if (!file) return notFound();
    let body: Uint8Array;
    try {
      body = await readFile(file);
    } catch {
      return notFound(); // missing, or a directory
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: {
        'Content-Type': mimeType(file),
        'Content-Security-Policy': options.csp(),
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      },
    });
  };
}

/** Serves the renderer on `app://zerorange/` (default session). */
export function serveApp(protocol: Pick<Protocol, 'handle'>, options: AppHandlerOptions): void {
  protocol.handle(APP_SCHEME, createAppRequestHandler(options));
}
