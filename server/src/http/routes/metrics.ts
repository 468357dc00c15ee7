import type { Metrics } from '../../metrics.js';
import { SECURITY_HEADERS } from '../respond.js';
import { exact, type Route } from '../router.js';

/** Prometheus text; served only on the metrics listener, never on the public port. */
export const metricsRoute = (metrics: Metrics): Route => ({
  name: 'metrics',
  method: 'GET',
  match: exact('/metrics'),
  async handle({ res }) {
    const body = await metrics.registry.metrics();
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': metrics.registry.contentType });
    res.end(body);
  },
});
