import type { JoinResponse } from '../../../shared/protocol/index.js';

/**
 * A fetched join is used for the first connect when it was received less than this long ago. Judged by
 * elapsed time, not by comparing the server's expiresAt with this machine's clock, which may be minutes
 * off: room tokens live at least 300 s (the server's lowest roomToken.ttlSeconds).
 */
export const JOIN_FRESH_MS = 240_000;

export interface RoomTokenSourceDeps {
  /** The HTTP join: checks access, issues a room token and TURN credentials. */
  fetch(roomId: string): Promise<JoinResponse>;
  /** A monotonic clock (ms): how long a join has been held, whatever the wall clock says. */
  now?: () => number;
  freshMs?: number;
}

/**
 * Where a call's room tokens come from (as LiveKit's TokenSource): the join fetched for the pre-join
 * screen is cached and handed to the first connect if it is still fresh; every later connect (a
 * reconnect, Try again) fetches a new one. Room tokens are single-use: one handed out is never handed
 * out again.
 */
export class RoomTokenSource {
  private cached: { roomId: string; response: JoinResponse; at: number } | null = null;
  private readonly used = new Set<string>();

  constructor(private readonly deps: RoomTokenSourceDeps) {}

  private now(): number {
    return (this.deps.now ?? (() => performance.now()))();
  }

  /** Joins the room over HTTP and keeps the answer for the first connect. Rejects as the join does. */
  async fetch(roomId: string): Promise<JoinResponse> {
    const response = await this.deps.fetch(roomId);
    this.cached = { roomId, response, at: this.now() };
    return response;
  }

  /** The cached join for this room if take() would hand it out now, without taking it. */
  peek(roomId: string): JoinResponse | null {
    const cached = this.cached;
    return cached && this.usable(cached, roomId) ? cached.response : null;
  }

  private usable(cached: { roomId: string; response: JoinResponse; at: number }, roomId: string): boolean {
    return cached.roomId === roomId && !this.used.has(cached.response.roomToken) && this.now() - cached.at < (this.deps.freshMs ?? JOIN_FRESH_MS);
  }

  /**
   * A join to connect with: the cached one when it is for this room, fresh and unused (synchronously,
   * so the socket opens at once), else a newly fetched one.
   */
  take(roomId: string): JoinResponse | Promise<JoinResponse> {
    const cached = this.cached;
    this.cached = null;
    if (cached && this.usable(cached, roomId)) {
      return this.spend(cached.response);
    }
    return this.deps.fetch(roomId).then((response) => this.spend(response));
  }

  /** Forgets the cached join (the room was left). */
  clear(): void {
    this.cached = null;
  }

  private spend(response: JoinResponse): JoinResponse {
    this.used.add(response.roomToken);
    return response;
  }
}
