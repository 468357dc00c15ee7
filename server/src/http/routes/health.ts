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

/** Readiness: not draining, and the identity provider discovered. */
export const readyRoute = (ctx: AppContext): Route => ({
  name: 'readyz',
  method: 'GET',
  match: exact('/readyz'),
  async handle({ res }) {
    if (!ctx.isDraining() && !ctx.verifier.isReady()) await ctx.verifier.ready().catch(() => undefined);
    const draining = ctx.isDraining();
    const ready = !draining && ctx.verifier.isReady();
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : draining ? 'draining' : 'identity provider not reachable' });
  },
});
