import type { Logger } from 'pino';
import type { ErrorCode } from '../../shared/protocol/index.js';
import type { Metrics } from './metrics.js';
import type { ReplayStore } from './replayStore.js';
import { RoomTokenError, type RoomTokenClaims, type RoomTokens } from './RoomTokens.js';

export interface Refusal {
  code: ErrorCode;
  message: string;
}

interface Socket {
  conn: string;
  ip: string;
}

/**
 * Admits a socket's room token in two steps, so a socket that closes while its token is verified
 * does not use the token up: verify (signature, claims, expiry), then claim (single use, recorded
 * durably before the join is accepted when the store is durable).
 */
export class RoomTokenGate {
  constructor(
    private readonly deps: {
      roomTokens: RoomTokens;
      replay: ReplayStore;
      metrics: Metrics;
      log: Logger;
      audit: (event: string, fields: Record<string, unknown>) => void;
    },
  ) {}

  async verify(token: string, socket: Socket): Promise<RoomTokenClaims | Refusal> {
    try {
      return await this.deps.roomTokens.verify(token);
    } catch (err) {
      const reason = err instanceof RoomTokenError ? err.reason : 'invalid';
      this.deps.audit('room-token.rejected', { conn: socket.conn, ip: socket.ip, reason });
      this.deps.metrics.joins.inc({ stage: 'socket', outcome: `token-${reason}` });
      return { code: 'unauthorized', message: `room token ${reason === 'expired' ? 'has expired' : 'is invalid'}` };
    }
  }

  /** Null when the token had not been used; from here on it has been. */
  async claim(claims: RoomTokenClaims, socket: Socket): Promise<Refusal | null> {
    let fresh: boolean;
    try {
      fresh = await this.deps.replay.claim(claims.jti, claims.exp);
    } catch (err) {
      // Single use cannot be vouched for (the store, e.g. Redis, is away): refuse rather than admit a
      // token that may be a replay. The app retries with a new token.
      this.deps.log.error({ err: (err as Error).message, conn: socket.conn }, 'room-token replay store failed; join refused');
      this.deps.metrics.joins.inc({ stage: 'socket', outcome: 'service-unavailable' });
      return { code: 'service-unavailable', message: 'the server cannot admit joins right now; try again shortly' };
    }
    if (fresh) return null;
    this.deps.audit('room-token.rejected', { conn: socket.conn, ip: socket.ip, sub: claims.sub, room: claims.room, reason: 'replayed' });
    this.deps.metrics.joins.inc({ stage: 'socket', outcome: 'replayed' });
    return { code: 'token-replayed', message: 'this room token has been used already; join again' };
  }

  close(): Promise<void> {
    return this.deps.replay.close();
  }
}
