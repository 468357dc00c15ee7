import { RoomId, type JoinResponse } from '../../../../shared/protocol/index.js';
import { refusedBy, type RouteLimits } from '../../cluster/limits.js';
import { randomId } from '../../RoomTokens.js';
import { signalingUrlOf, type AppContext } from '../context.js';
import { decodeSegment } from '../request.js';
import { HttpError, sendJson } from '../respond.js';
import type { Identity } from '../../identity.js';
import { pattern, type AuthenticatedRoute } from '../router.js';

/** For an authenticated user: applies rate limit, room policy and room size, and issues a room token with ICE servers. */
/** Whether the shared state a join needs (used room tokens) answers; absent on a single node. */
export type SharedStateReady = () => boolean;

async function join(ctx: AppContext, limits: RouteLimits, ready: SharedStateReady, identity: Identity, ip: string, roomParam: string): Promise<JoinResponse> {
  const { metrics, audit, config } = ctx;
  const room = RoomId.safeParse(decodeSegment(roomParam));
  if (!room.success) {
    throw new HttpError(400, 'invalid-room', room.error.issues[0]?.message ?? 'invalid room ID');
  }
  // Refused at once rather than with a room token the signaling socket would refuse (4503).
  if (!ready()) {
    metrics.joins.inc({ stage: 'http', outcome: 'service-unavailable' });
    throw new HttpError(503, 'service-unavailable', 'the server cannot start calls right now; try again shortly', { 'retry-after': '2' });
  }
  const deny = (reason: string, status: number, code: 'rate-limited' | 'forbidden' | 'room-full', message: string, extra = {}) => {
    audit('join.denied', { ip, sub: identity.sub, room: room.data, reason, ...extra });
    metrics.joins.inc({ stage: 'http', outcome: code });
    metrics.rejections.inc({ reason: code });
    return new HttpError(status, code, message, code === 'rate-limited' ? { 'retry-after': '10' } : {});
  };
  const limited = await refusedBy(limits, identity.sub, ip);
  if (limited) throw deny('rate-limited', 429, 'rate-limited', 'too many joins; try again in a minute', { limit: limited });
  const decision = ctx.policy.decide(room.data, identity);
  if (!decision.allowed) {
    throw deny('policy', 403, 'forbidden', 'you are not on the list of people allowed in this room', { rule: decision.rule });
  }
  if (ctx.hub.roomSize(room.data) >= config.rooms.maxPeers) {
    throw deny('room-full', 409, 'room-full', `the room is full (${config.rooms.maxPeers} people)`);
  }
  const sid = randomId();
  const ice = ctx.issueIce(sid, 'join');
  const { token, claims } = await ctx.roomTokens.issue({
    sub: identity.sub,
    name: identity.name,
    room: room.data,
    sid,
    iceExp: Math.floor(ice.expiresAt.getTime() / 1000),
  });
  audit('join.allowed', { ip, sub: identity.sub, room: room.data, sid, rule: decision.rule });
  metrics.joins.inc({ stage: 'http', outcome: 'allowed' });
  return {
    roomToken: token,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    iceServers: ice.iceServers,
    iceServersExpireAt: ice.expiresAt.toISOString(),
    signalingUrl: signalingUrlOf(ctx.baseUrl()),
    roomSizeLimit: config.rooms.maxPeers,
  };
}

const roomJoinPath = pattern(/^\/v1\/rooms\/([^/]{1,200})\/join$/);

/** POST /v1/rooms/{room}/join */
export const joinRoute = (ctx: AppContext, limits: RouteLimits, ready: SharedStateReady = () => true): AuthenticatedRoute => ({
  name: 'join',
  method: 'POST',
  // A room segment that is not even valid percent-encoding is refused before authentication: it is
  // the request's fault whoever sends it.
  match: (path) => {
    const params = roomJoinPath(path);
    if (params && decodeSegment(params[0]!) === null) throw new HttpError(400, 'invalid-room', 'the room ID is not valid percent-encoding');
    return params;
  },
  refusedWhileDraining: true,
  auth: { onRejected: (reason) => ctx.metrics.joins.inc({ stage: 'http', outcome: `token-${reason}` }) },
  async handle({ res, params, identity, ip }) {
    sendJson(res, 200, await join(ctx, limits, ready, identity, ip, params[0]!));
  },
});
