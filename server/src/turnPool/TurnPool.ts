import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { probeTransports, type ProbeTransport } from './probe.js';
import type { TurnServerSpec } from './servers.js';

const LATENCY_BUCKET_MS = 2;

export type Health = 'unknown' | 'up' | 'down';

export interface ServerState {
  readonly spec: TurnServerSpec;
  health: Health;
  /** Mean probe latency of the last round, ms. */
  latencyMs?: number;
  /** From coturn's redis-statsdb, when the instance reports there and Redis answered. */
  allocations?: number;
  /** Joins handed this server first since its allocations were last read: spreads a join burst. */
  assignedSince: number;
  lastError?: string;
}

export interface PoolDeps {
  servers: TurnServerSpec[];
  probeIntervalMs: number;
  perJoin: number;
  metrics: Metrics;
  log: Logger;
  /** One probe Allocate: resolves with its latency in ms, rejects with the reason. */
  probe(spec: TurnServerSpec, transport: ProbeTransport): Promise<number>;
  /** Live allocations of the instance writing to this statsdb database; absent without Redis. */
  countAllocations?: (db: number) => Promise<number>;
}

/**
 * A pool of coturn instances sharing the TURN secrets. Every instance is probed each interval over
 * each of its transports; the first failed probe takes it out of new joins at once, a round where
 * every probe passes brings it back. Joins get the healthy instances ranked by load (coturn's
 * allocation count) or, without that figure, by probe latency; an instance not yet probed is
 * offered after the healthy ones, and when none is healthy every instance is offered, since a
 * server that may answer is better than none.
 */
export class TurnPool {
  private readonly states: ServerState[];
  private timer?: NodeJS.Timeout;
  private readonly rounds = new Set<Promise<void>>();
  private readonly probing = new Set<ServerState>();
  private readonly listeners = new Set<(server: Readonly<ServerState>) => void>();
  private stopped = false;
  private warnedNoneHealthy = false;

  constructor(private readonly deps: PoolDeps) {
    this.states = deps.servers.map((spec) => ({ spec, health: 'unknown', assignedSince: 0 }));
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.runRound();
    this.timer = setInterval(() => this.runRound(), this.deps.probeIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.rounds]);
  }

  /** The servers for one join (or refresh), best first; counts a join against the first. */
  select(trigger: 'join' | 'refresh' | 'check'): TurnServerSpec[] {
    const serving = this.states.filter((s) => !s.spec.drain);
    let eligible = serving.filter((s) => s.health !== 'down');
    if (eligible.length === 0) {
      if (!this.warnedNoneHealthy) this.deps.log.warn({ servers: this.states.length }, 'no TURN server passes its probes; offering all of them');
      this.warnedNoneHealthy = true;
      eligible = serving.length > 0 ? serving : [...this.states];
    } else {
      this.warnedNoneHealthy = false;
    }
    const ranked = [...eligible].sort(compare);
    const chosen = ranked.slice(0, this.deps.perJoin);
    if (trigger === 'join' && chosen[0]) {
      chosen[0].assignedSince++;
      this.deps.metrics.turnAssigned.inc({ server: chosen[0].spec.id });
    }
    return chosen.map((s) => s.spec);
  }

  /**
   * Called when an instance goes up or down: where fresh servers are worth pushing at once (to
   * sessions whose servers include one that went down) instead of at the next credential refresh.
   * Returns the unsubscribe function.
   */
  onChange(listener: (server: Readonly<ServerState>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What the pool knows, for logs and tests. */
  snapshot(): ReadonlyArray<Readonly<ServerState>> {
    return this.states.map((s) => ({ ...s }));
  }

  private runRound(): void {
    const round = Promise.all(this.states.map((s) => this.probeServer(s))).then(() => undefined);
    this.rounds.add(round);
    void round.finally(() => this.rounds.delete(round));
  }

  private async probeServer(state: ServerState): Promise<void> {
    // A round still waiting on this server (its probes or Redis) is not doubled up.
    if (this.probing.has(state)) return;
    this.probing.add(state);
    try {
      await this.probeOnce(state);
    } finally {
      this.probing.delete(state);
    }
  }

  private async probeOnce(state: ServerState): Promise<void> {
    const { metrics } = this.deps;
    const server = state.spec.id;
    const latencies: number[] = [];
    let failure: string | undefined;
    await Promise.all(
      probeTransports(state.spec).map(async (transport) => {
        try {
          const ms = await this.deps.probe(state.spec, transport);
          latencies.push(ms);
          metrics.turnProbeSeconds.observe({ server, transport }, ms / 1000);
          metrics.turnProbes.inc({ server, transport, result: 'ok' });
        } catch (err) {
          metrics.turnProbes.inc({ server, transport, result: 'fail' });
          failure ??= (err as Error).message;
          // Out of new joins at the first failure, not at the end of the round.
          if (!this.stopped) this.setHealth(state, 'down', failure);
        }
      }),
    );
    if (this.stopped) return;
    if (failure === undefined) {
      state.latencyMs = latencies.reduce((a, b) => a + b, 0) / latencies.length;
      this.setHealth(state, 'up');
    }
    await this.readLoad(state);
  }

  private async readLoad(state: ServerState): Promise<void> {
    const db = state.spec.statsDb;
    if (db === undefined || !this.deps.countAllocations) return;
    try {
      state.allocations = await this.deps.countAllocations(db);
      state.assignedSince = 0;
      this.deps.metrics.turnAllocations.set({ server: state.spec.id }, state.allocations);
    } catch {
      // Redis away: rank by latency until it answers again (the connection logs the outage once).
      delete state.allocations;
    }
  }

  private setHealth(state: ServerState, health: Health, reason?: string): void {
    this.deps.metrics.turnServerUp.set({ server: state.spec.id }, health === 'up' ? 1 : 0);
    if (reason !== undefined) state.lastError = reason;
    if (state.health === health) return;
    const was = state.health;
    state.health = health;
    if (health === 'down') this.deps.log.warn({ turnServer: state.spec.id, was, reason }, 'TURN server failed its probe; out of new joins');
    else this.deps.log.info({ turnServer: state.spec.id, was }, 'TURN server passes its probes');
    for (const listener of this.listeners) listener({ ...state });
  }
}

/** Healthy before unknown; then by load where both have a figure, else by probe latency. */
function compare(a: ServerState, b: ServerState): number {
  if (a.health !== b.health) return a.health === 'up' ? -1 : b.health === 'up' ? 1 : 0;
  if (a.allocations !== undefined && b.allocations !== undefined) {
    const byLoad = a.allocations + a.assignedSince - (b.allocations + b.assignedSince);
    if (byLoad !== 0) return byLoad;
  }
  // Latencies a few ms apart are noise between instances in one site: those share the joins.
  const bucket = (s: ServerState) => (s.latencyMs === undefined ? Number.MAX_SAFE_INTEGER : Math.floor(s.latencyMs / LATENCY_BUCKET_MS));
  return bucket(a) - bucket(b) || a.assignedSince - b.assignedSince;
}
