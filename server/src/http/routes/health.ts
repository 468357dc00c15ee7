import type { AppContext } from '../context.js';
import { sendJson } from '../respond.js';
import { exact, type Route } from '../router.js';

/** Liveness: public and without credentials; the app's network check reads it from its own origin. */
export const healthRoute = (): Route => ({
  name: 'healthz',
  method: 'GET',
  match: exact('/healthz'),
  handle: ({ res }) => sendJson(res, 200, { status: 'ok' }, { 'access-control-allow-origin': '*' }),
});

/**
 * Readiness: not draining, the identity provider discovered, and shared state (Redis) reached once.
 * A node that loses Redis later stays ready: it answers joins with a clear 503 of its own, and taking
 * every node out of the balancer at once would only turn that into the balancer's anonymous one.
 */
export const readyRoute = (ctx: AppContext): Route => ({
  name: 'readyz',
  method: 'GET',
  match: exact('/readyz'),
  async handle({ res }) {
    if (!ctx.isDraining() && !ctx.verifier.isReady()) await ctx.verifier.ready().catch(() => undefined);
    const draining = ctx.isDraining();
    const sharedState = ctx.hub.sharedState();
    const ready = !draining && ctx.verifier.isReady() && sharedState !== 'connecting';
    const status = ready ? 'ready' : draining ? 'draining' : sharedState === 'connecting' ? 'shared state not reached yet' : 'identity provider not reachable';
    sendJson(res, ready ? 200 : 503, { status, sharedState });
  },
});
