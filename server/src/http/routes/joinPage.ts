import { RoomId } from '../../../../shared/protocol/index.js';
import { JOIN_PAGE_CSP, renderJoinPage } from '../../joinPage.js';
import type { AppContext } from '../context.js';
import { decodeSegment } from '../request.js';
import { HttpError, SECURITY_HEADERS } from '../respond.js';
import { pattern, type Route } from '../router.js';

/** The page a shared https join link opens; its server link is the configured public URL. */
export const joinPageRoute = (ctx: AppContext): Route => ({
  name: 'join-page',
  method: 'GET',
  match: pattern(/^\/join\/([^/]{1,200})\/?$/),
  handle({ res, method, params }) {
    const room = RoomId.safeParse(decodeSegment(params[0]!));
    if (!room.success) throw new HttpError(404, 'invalid-room', 'no such room link');
    const html = renderJoinPage(room.data, ctx.baseUrl().origin);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': JOIN_PAGE_CSP,
      'x-frame-options': 'DENY',
    });
    res.end(method === 'HEAD' ? undefined : html);
  },
});
