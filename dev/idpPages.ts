/**
 * HTML pages of the development OpenID Provider (`dev/idp.ts`): the login form and the error pages, and
 * the one place their response headers (CSP included) are set.
 */
import type { ServerResponse } from 'node:http';
import { escapeHtml } from '../shared/html.js';

export function loginPage(
  uid: string,
  params: Record<string, unknown>,
  state: { username?: string; error?: string },
): string {
  const base = `/interaction/${encodeURIComponent(uid)}`;
  const loginHint = typeof params.login_hint === 'string' ? params.login_hint : '';
  const username = state.username ?? loginHint;
  const error = state.error ? `<p class="error" role="alert">${escapeHtml(state.error)}</p>` : '';
  return page(
    'Sign in to ZeroRange',
    `<h1>Sign in to ZeroRange</h1>
<p class="note">Development identity provider</p>
${error}
<form method="post" action="${escapeHtml(`${base}/login`)}">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" required autofocus value="${escapeHtml(username)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="${escapeHtml(`${base}/abort`)}">
  <button type="submit" class="secondary">Cancel</button>
</form>`,
  );
}

/** oidc-provider's `renderError`: every field of its error output, as a definition list. */
export function providerErrorPage(out: Record<string, unknown>): string {
  return page(
    'Sign-in error',
    `<h1>Something went wrong</h1><dl>${Object.entries(out)
      .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`)
      .join('')}</dl>`,
  );
}

/** An interaction handler threw before responding. */
export function unexpectedErrorPage(err: unknown): string {
  return page('Sign-in error', `<h1>Something went wrong</h1><p>${escapeHtml(String(err))}</p>`);
}

/** The interaction cookie or its stored state is gone (expired, or from another provider run). */
export function expiredPage(): string {
  return page(
    'Sign-in expired',
    '<h1>This sign-in attempt has expired</h1><p>Return to ZeroRange and start signing in again.</p>',
  );
}

/** The request does not fit the current interaction; `heading` is plain text. */
export function restartPage(heading: string): string {
  return page('Sign-in error', `<h1>${escapeHtml(heading)}</h1><p>Start signing in again.</p>`);
}

export function notFoundPage(): string {
  return page('Not found', '<h1>Not found</h1>');
}

export function methodNotAllowedPage(): string {
  return page('Method not allowed', '<h1>Method not allowed</h1>');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f3f4f6; color: #111827; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 0.75rem;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h1 { font-size: 1.25rem; margin: 0 0 .25rem; }
  .note { color: #6b7280; font-size: .85rem; margin: 0 0 1.25rem; }
  label { display: block; font-size: .9rem; margin: .75rem 0 .25rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; border: 1px solid #d1d5db;
          border-radius: .375rem; }
  button { width: 100%; margin-top: 1.25rem; padding: .6rem; font-size: 1rem; border: 0; border-radius: .375rem;
           background: #2563eb; color: #fff; cursor: pointer; }
  button.secondary { margin-top: .5rem; background: transparent; color: #374151; }
  .error { background: #fef2f2; color: #991b1b; padding: .5rem .75rem; border-radius: .375rem; }
  dt { font-weight: 600; } dd { margin: 0 0 .5rem; word-break: break-word; }
</style>
</head>
<body><main>
${body}
</main></body>
</html>
`;
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // No form-action: after the login POST the browser follows redirects to the app's loopback redirect URI.
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(html);
}
