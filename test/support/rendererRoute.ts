/**
 * Serves the Vite-built renderer on a made-up origin through Playwright's request interception, so
 * a browser inside a network namespace loads the app without any server or DNS. Only files under
 * `dir` are served: encoded traversal (`..%2f`), NUL bytes and symlinks leading out are refused.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Route } from '@playwright/test';
import { mimeType } from '../../electron/main/appProtocol.js';

const root = path.resolve(import.meta.dirname, '../..');


/** The same types the Electron app protocol serves. */
export { mimeType };

export interface RendererRouteOptions {
  /** scheme://host[:port], e.g. `http://zerorange.test`. */
  origin: string;
  /** The build output, relative to the repository root or absolute; default `build/renderer`. */
  dir?: string;
}

function text(route: Route, status: number, body: string) {
  return route.fulfill({ status, contentType: 'text/plain; charset=utf-8', body, headers: { 'x-content-type-options': 'nosniff' } });
}

/** Routes every request to `origin` on `context` to files of the built renderer (`/` is index.html). */
export async function serveRendererOnRoute(context: BrowserContext, opts: RendererRouteOptions): Promise<void> {
  const origin = new URL(opts.origin);
  if (origin.origin !== opts.origin.replace(/\/$/, '')) throw new Error(`${opts.origin} is not an origin (scheme://host[:port])`);
  const dir = await realpath(path.resolve(root, opts.dir ?? 'build/renderer')).catch(() => null);
  if (!dir || !(await stat(path.join(dir, 'index.html')).catch(() => null))) {
    throw new Error(`no renderer build in ${opts.dir ?? 'build/renderer'}: run \`npx vite build\` first`);
  }

  await context.route(`${origin.origin}/**`, async (route) => {
    const request = route.request();
    if (request.method() !== 'GET' && request.method() !== 'HEAD') return text(route, 405, 'method not allowed');
    let decoded: string;
    try {
      decoded = decodeURIComponent(new URL(request.url()).pathname);
    } catch {
      return text(route, 400, 'bad path');
    }
    // The URL parser already removed plain dot segments; what is left after decoding is an attack.
    if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((seg) => seg === '..' || seg === '.')) {
      return text(route, 403, 'forbidden');
    }
    const wanted = path.join(dir, decoded.endsWith('/') ? `${decoded}index.html` : decoded);
    let file: string;
    try {
      file = await realpath(wanted);
    } catch {
      return text(route, 404, 'not found');
    }
    if (!file.startsWith(dir + path.sep)) return text(route, 403, 'forbidden');
    const info = await stat(file);
    if (!info.isFile()) return text(route, 404, 'not found');
    return route.fulfill({
      status: 200,
      contentType: mimeType(file),
      body: request.method() === 'HEAD' ? '' : await readFile(file),
      headers: { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' },
    });
  });
}
