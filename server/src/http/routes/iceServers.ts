import type { IceServersResponse } from '../../../../shared/protocol/index.js';
import { refusedBy, type RouteLimits } from '../../cluster/limits.js';
import { randomId } from '../../RoomTokens.js';
import type { AppContext } from '../context.js';
import { HttpError, sendJson } from '../respond.js';
import { exact, type AuthenticatedRoute } from '../router.js';

/**
 * Fresh TURN credentials for "Check my network", without a room: the check probes STUN and each
 * TURN transport itself. The id in the username is a random check session id (no room, no peer).
 */
export const iceServersRoute = (ctx: AppContext, limits: RouteLimits): AuthenticatedRoute => ({
  name: 'ice-servers',
  method: 'POST',
  match: exact('/v1/ice-servers'),
  refusedWhileDraining: true,
  auth: { onRejected: () => ctx.metrics.rejections.inc({ reason: 'unauthorized' }) },
  async handle({ res, identity, ip }) {
    const limited = await refusedBy(limits, identity.sub, ip);
    if (limited) {
      ctx.audit('ice-servers.denied', { ip, sub: identity.sub, reason: 'rate-limited', limit: limited });
      ctx.metrics.rejections.inc({ reason: 'rate-limited' });
      throw new HttpError(429, 'rate-limited', 'too many network checks; try again in a minute', { 'retry-after': '10' });
    }
    const sid = randomId();
    const ice = ctx.issueIce(sid, 'check');
    ctx.audit('ice-servers.issued', { ip, sub: identity.sub, sid, purpose: 'network-check' });
    const body: IceServersResponse = { iceServers: ice.iceServers, expiresAt: ice.expiresAt.toISOString() };
    sendJson(res, 200, body);
  },
});
