import type { IncomingMessage } from 'node:http';
import { RoomId, type JoinResponse } from '../../../../shared/protocol/index.js';
import type { KeyedRateLimiter } from '../../rateLimit.js';
import { randomId } from '../../roomTokens.js';
import { authenticate } from '../auth.js';
import { signalingUrlOf, type AppContext } from '../context.js';
import { decodeSegment } from '../request.js';
import { HttpError, sendJson } from '../respond.js';
import { pattern, type Route } from '../router.js';

/** Authenticates, applies rate limit, room policy and room size, and issues a room token with ICE servers. */
async function join(ctx: AppContext, limiter: KeyedRateLimiter, req: IncomingMessage, roomParam: string): Promise<JoinResponse> {
  const { metrics, audit, config } = ctx;
  const decoded = decodeSegment(roomParam);
  if (decoded === null) throw new HttpError(400, 'invalid-room', 'the room ID is not valid percent-encoding');
  const ip = ctx.clientIp(req);
  const identity = await authenticate(ctx, req, ip, (reason) => metrics.joins.inc({ stage: 'http', outcome: `token-${reason}` }));
  const room = RoomId.safeParse(decoded);
  if (!room.success) {
    throw new HttpError(400, 'invalid-room', room.error.issues[0]?.message ?? 'invalid room ID');
  }
  const deny = (reason: string, status: number, code: 'rate-limited' | 'forbidden' | 'room-full', message: string, extra = {}) => {
    audit('join.denied', { ip, sub: identity.sub, room: room.data, reason, ...extra });
    metrics.joins.inc({ stage: 'http', outcome: code });
    metrics.rejections.inc({ reason: code });
    return new HttpError(status, code, message, code === 'rate-limited' ? { 'retry-after': '10' } : {});
  };
  if (!limiter.take(identity.sub)) throw deny('rate-limited', 429, 'rate-limited', 'too many joins; try again in a minute');
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

/** POST /v1/rooms/{room}/join */
export const joinRoute = (ctx: AppContext, limiter: KeyedRateLimiter): Route => ({
  name: 'join',
  method: 'POST',
  match: pattern(/^\/v1\/rooms\/([^/]{1,200})\/join$/),
  refusedWhileDraining: true,
  async handle({ req, res, params }) {
    sendJson(res, 200, await join(ctx, limiter, req, params[0]!));
  },
});
