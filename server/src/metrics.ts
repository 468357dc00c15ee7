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
    // The TURN pool (turn.servers): per instance, from this node's probes and coturn's accounting.
    turnProbeSeconds: new Histogram({
      name: 'zerorange_turn_probe_seconds',
      help: 'Time of a successful probe Allocate (connect and 401 challenge included), by TURN server and transport',
      labelNames: ['server', 'transport'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    turnProbes: new Counter({
      name: 'zerorange_turn_probes_total',
      help: 'Probe Allocates by TURN server, transport and result (ok, fail)',
      labelNames: ['server', 'transport', 'result'] as const,
      registers: [registry],
    }),
    turnServerUp: new Gauge({
      name: 'zerorange_turn_server_up',
      help: '1 while a TURN server passes its probes on every transport and gets new joins, 0 once one fails',
      labelNames: ['server'] as const,
      registers: [registry],
    }),
    turnAllocations: new Gauge({
      name: 'zerorange_turn_allocations',
      help: "Live allocations of a TURN server, from coturn's redis-statsdb",
      labelNames: ['server'] as const,
      registers: [registry],
    }),
    turnAssigned: new Counter({
      name: 'zerorange_turn_joins_assigned_total',
      help: 'Joins handed each TURN server first',
      labelNames: ['server'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
