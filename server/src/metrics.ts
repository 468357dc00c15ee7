import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, on a registry of its own so several apps can live in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'zerorange_' });
  return {
    registry,
    connections: new Gauge({ name: 'zerorange_connections', help: 'Open signaling sockets', registers: [registry] }),
    rooms: new Gauge({ name: 'zerorange_rooms', help: 'Rooms with at least one peer', registers: [registry] }),
    joins: new Counter({
      name: 'zerorange_joins_total',
      help: 'Room joins (HTTP and socket) by stage and outcome',
      labelNames: ['stage', 'outcome'] as const,
      registers: [registry],
    }),
    relayed: new Counter({ name: 'zerorange_messages_relayed_total', help: 'Signal messages relayed', registers: [registry] }),
    relayLatency: new Histogram({
      name: 'zerorange_relay_latency_seconds',
      help: 'Time from receiving a signal message to handing it to the recipient socket',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'zerorange_rejections_total',
      help: 'Requests, connections and messages refused, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'zerorange_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    turnCredentials: new Counter({
      name: 'zerorange_turn_credentials_issued_total',
      help: 'TURN REST credentials issued',
      labelNames: ['trigger'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
