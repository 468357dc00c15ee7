import { escapeHtml } from '../../shared/html.js';
import { formatJoinLink } from '../../shared/links.js';

/** No scripts at all: the page is a link and a few words. */
export const JOIN_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page a shared https join link opens: a button that hands the room to the desktop app. */
export function renderJoinPage(roomId: string, serverOrigin: string): string {
  const appLink = formatJoinLink({ roomId, server: serverOrigin });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Join ${escapeHtml(roomId)} · ZeroRange</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; display: grid; place-items: center; min-height: 100vh; background: #f4f5f7; color: #1d2330; }
  main { background: #fff; padding: 2rem 2.5rem; border-radius: 12px; box-shadow: 0 2px 12px rgba(0,0,0,.08); max-width: 30rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
  code { background: #eef0f4; padding: .1rem .35rem; border-radius: 4px; word-break: break-all; }
  a.button { display: inline-block; margin: 1rem 0; padding: .7rem 1.2rem; background: #2155d6; color: #fff; border-radius: 8px; text-decoration: none; font-weight: 600; }
  a.button:focus-visible { outline: 3px solid #8fb0ff; outline-offset: 2px; }
  p.small { font-size: .9rem; color: #4a5368; }
</style>
</head>
<body>
<main>
<h1>Join room <code>${escapeHtml(roomId)}</code></h1>
<p>This call runs in the ZeroRange desktop app.</p>
<a class="button" href="${escapeHtml(appLink)}">Open in ZeroRange</a>
<p class="small">Nothing happens? Install ZeroRange, or paste this page's address into the app's “Room link or ID” field.</p>
<p class="small">Server: <code>${escapeHtml(serverOrigin)}</code></p>
</main>
</body>
</html>
`;
}
