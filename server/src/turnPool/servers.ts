import type { ServerConfig } from '../config.js';
import type { TurnEndpoints } from '../turn.js';

/** One coturn instance as the pool sees it: where clients reach it, where it is probed, its load figure. */
export interface TurnServerSpec extends TurnEndpoints {
  id: string;
  /** Where the signaling server probes it (its host unless configured otherwise). */
  probeHost: string;
  /** Redis database of its redis-statsdb, when it reports allocations there. */
  statsDb?: number;
  drain: boolean;
}

/** The id the single-host form (`turn.host`) gets in logs and metrics. */
export const SINGLE_SERVER_ID = 'turn';

/** Every configured coturn instance; the single-host form is a pool of one that is never probed. */
export function turnServersOf(turn: ServerConfig['turn']): TurnServerSpec[] {
  if (!turn.servers) {
    const host = turn.host!;
    return [{
      id: SINGLE_SERVER_ID,
      host,
      probeHost: host,
      stunPort: turn.stunPort,
      turnPort: turn.turnPort,
      turnsPort: turn.turnsPort,
      ...(turn.tlsHost ? { tlsHost: turn.tlsHost } : {}),
      drain: false,
    }];
  }
  return turn.servers.map((s) => ({
    id: s.id,
    host: s.host,
    probeHost: s.probeHost ?? s.host,
    // coturn answers STUN on its TURN port.
    stunPort: s.turnPort ?? turn.stunPort,
    turnPort: s.turnPort ?? turn.turnPort,
    turnsPort: s.turnsPort ?? turn.turnsPort,
    ...(s.tlsHost ? { tlsHost: s.tlsHost } : {}),
    ...(s.statsDb !== undefined ? { statsDb: s.statsDb } : {}),
    drain: s.drain,
  }));
}
