import {
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  parseServerMessage,
  type ClientMessage,
  type ErrorCode,
  type IceServer,
  type JoinResponse,
  type ServerMessage,
  type SignalData,
} from '../../../shared/protocol/index.js';
import { Heartbeat } from './Heartbeat.js';
import { OutboundQueue, type QueuedSignal } from './OutboundQueue.js';
import type { ReconnectPolicy } from './ReconnectPolicy.js';
import {
  ConnectionState,
  SignalError,
  SignalEvent,
  toSignalError,
  type SendResult,
  type SignalEventPayloads,
} from './signalTypes.js';
import { clockFrom, type Clock } from './timers.js';
import { TypedEmitter } from './TypedEmitter.js';

export * from './signalTypes.js';

export interface SignalClientDeps extends Partial<Clock> {
  /** Browsers pass window.WebSocket; Node tests pass ws's class. */
  WebSocket: typeof WebSocket;
  /**
   * Fetches a fresh JoinResponse; called for every (re)connect because room tokens are single-use.
   * One already at hand is returned as is: the socket then opens without yielding first.
   */
  getJoin: () => JoinResponse | Promise<JoinResponse>;
  policy: ReconnectPolicy;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** From opening the socket to welcome. */
  connectTimeoutMs?: number;
  /** Messages kept while reconnecting. */
  maxQueuedMessages?: number;
  /**
   * A socket opened ahead for the first connect (the pre-join's standby socket, for this URL), or null:
   * the join then goes out at once instead of after the TCP and WebSocket handshakes.
   */
  takeSocket?: (url: string) => WebSocket | null;
  /**
   * Names this call for the server (16-64 base64url characters, random per call): reconnecting with
   * it keeps our peer id, so the other peers keep their peer connections to us.
   */
  clientId?: string;
}

/** A socket opened ahead closed before the welcome: the join is made again on a new one. */
class StandbyLost extends SignalError {
  constructor(cause: SignalError) {
    super(cause.code, cause.message, { ...(cause.closeCode !== undefined ? { closeCode: cause.closeCode } : {}), cause });
  }
}

/** Speaks the signaling protocol over one WebSocket at a time; owns no peer connections. */
export class SignalClient {
  private readonly clock: Clock;
  private readonly connectTimeoutMs: number;
  private readonly heartbeat: Heartbeat;
  private readonly events = new TypedEmitter<SignalEventPayloads>();
  private readonly queue: OutboundQueue;
  private _state = ConnectionState.Disconnected;
  private socket: WebSocket | null = null;
  /** Fails the attempt in progress (close() uses it so connect() settles). */
  private abortAttempt: ((err: SignalError) => void) | null = null;
  private peers = new Set<string>();
  private _selfId: string | null = null;
  private readonly pastSelfIds = new Set<string>();
  private _iceServers: IceServer[] = [];
  private leaving = false;
  private sleepTimer: unknown = null;
  private wake: (() => void) | null = null;

  constructor(private readonly deps: SignalClientDeps) {
    this.clock = clockFrom(deps);
    this.connectTimeoutMs = deps.connectTimeoutMs ?? 10_000;
    this.queue = new OutboundQueue(deps.maxQueuedMessages ?? 200);
    const pongTimeoutMs = deps.pongTimeoutMs ?? 4_000;
    this.heartbeat = new Heartbeat(
      this.clock,
      deps.pingIntervalMs ?? 5_000,
      pongTimeoutMs,
      (id) => this.socket?.send(JSON.stringify({ type: 'ping', id } satisfies ClientMessage)),
      () => {
        // The socket may never report its own death, so give it up now.
        if (this.socket) this.abandon(this.socket);
        this.onLost(new SignalError('timeout', `no pong within ${pongTimeoutMs} ms`));
      },
    );
  }

  get state(): ConnectionState {
    return this._state;
  }
  /** Round-trip time of the last answered app-level ping. */
  get rttMs(): number | null {
    return this.heartbeat.rttMs;
  }
  get selfId(): string | null {
    return this._selfId;
  }
  get iceServers(): IceServer[] {
    return this._iceServers;
  }

  /** Subscribes; returns the unsubscribe function. */
  on<E extends SignalEvent>(event: E, cb: (payload: SignalEventPayloads[E]) => void): () => void {
    return this.events.on(event, cb);
  }

  /** Joins the room; resolves on welcome. A failure leaves the client Disconnected (connect may be called again). */
  async connect(): Promise<void> {
    if (this._state !== ConnectionState.Disconnected) throw new Error(`connect() called while ${this._state}`);
    this.setState(ConnectionState.Connecting);
    try {
      await this.attempt(false, true).catch((err: unknown) => {
        // A socket opened ahead that closed under the join (the server's join timeout, a restart) is
        // not the user's problem: join again on a new socket, with a new token (they are single-use).
        if (!(err instanceof StandbyLost) || this.is(ConnectionState.Closed)) throw err;
        return this.attempt(false, false);
      });
    } catch (err) {
      const error = toSignalError(err);
      // close() may have run meanwhile; Closed is final.
      if (!this.is(ConnectionState.Closed)) this.setState(ConnectionState.Disconnected, error);
      throw error;
    }
  }

  sendSignal(to: string, data: SignalData): SendResult {
    const frame = JSON.stringify({ type: 'signal', to, data } satisfies ClientMessage);
    // The server refuses oversized frames anyway; failing here names the peer and the kind.
    if (frame.length * 3 > MAX_MESSAGE_BYTES && new TextEncoder().encode(frame).length > MAX_MESSAGE_BYTES) {
      const message = `a ${data.kind} message exceeds ${MAX_MESSAGE_BYTES} bytes`;
      this.emit(SignalEvent.Error, new SignalError('message-too-large', message, { peerId: to, droppedKind: data.kind }));
      return 'dropped';
    }
    if (this.is(ConnectionState.Disconnected) || this.is(ConnectionState.Closed) || this.leaving) return 'dropped';
    const ws = this.socket;
    if (this.is(ConnectionState.Connected) && ws && ws.readyState === ws.OPEN) {
      ws.send(frame);
      return 'sent';
    }
    // Connecting, Reconnecting, or a socket closing under us (its close event is on the way): keep it for the next session.
    this.enqueue({ to, data, frame });
    return 'queued';
  }

  /** Sends `leave`; the server then closes the socket and the client ends Closed. Without a session it just closes. */
  sendLeave(): void {
    if (this._state !== ConnectionState.Connected || !this.socket || this.leaving) return this.close();
    this.leaving = true;
    this.socket.send(JSON.stringify({ type: 'leave' } satisfies ClientMessage));
  }

  /** Leaves, closes the socket and stops every timer. Idempotent. */
  close(): void {
    if (this._state === ConnectionState.Closed) return;
    if (this._state === ConnectionState.Connected && this.socket && !this.leaving) {
      this.socket.send(JSON.stringify({ type: 'leave' } satisfies ClientMessage));
    }
    this.abortAttempt?.(new SignalError('socket-closed', 'the client closed the connection'));
    this.finish(null);
  }

  private async attempt(reconnected: boolean, standby = false): Promise<void> {
    let join: JoinResponse;
    try {
      const pending = this.deps.getJoin();
      // No await for a join at hand: the socket opens before the render our caller's updates queued (bench:call).
      join = pending instanceof Promise ? await pending : pending;
    } catch (err) {
      throw toSignalError(err);
    }
    if (this._state === ConnectionState.Closed) throw new SignalError('socket-closed', 'the client closed the connection');
    // Known before the welcome: a newcomer prepares its first offer while the socket opens.
    this._iceServers = join.iceServers;
    return new Promise<void>((resolve, reject) => {
      const taken = standby ? (this.deps.takeSocket?.(join.signalingUrl) ?? null) : null;
      const ws = taken ?? new this.deps.WebSocket(join.signalingUrl);
      this.socket = ws;
      let welcomed = false;
      let fatal: { code: ErrorCode; message: string } | null = null;
      let timer: unknown = null;
      const fail = (err: SignalError): void => {
        this.clock.clearTimeout(timer);
        this.abortAttempt = null;
        this.abandon(ws);
        reject(err);
      };
      this.abortAttempt = fail;
      timer = this.clock.setTimeout(
        () => fail(new SignalError('timeout', `no welcome within ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
      // The room token is the first and only secret on this socket; it goes out once and is never kept.
      const sendJoin = () =>
        ws.send(
          JSON.stringify({
            type: 'join',
            v: PROTOCOL_VERSION,
            roomToken: join.roomToken,
            ...(this.deps.clientId ? { clientId: this.deps.clientId } : {}),
          } satisfies ClientMessage),
        );
      if (ws.readyState === ws.OPEN) sendJoin();
      else ws.onopen = sendJoin;
      ws.onerror = () => {}; // a close event always follows
      ws.onmessage = (ev: MessageEvent) => {
        const msg = this.parse(ev.data);
        if (!msg) return;
        if (msg.type === 'error' && msg.fatal) fatal = msg;
        if (welcomed) return this.dispatch(msg);
        if (msg.type === 'welcome') {
          welcomed = true;
          this.clock.clearTimeout(timer);
          this.abortAttempt = null;
          this.onWelcome(msg, join, reconnected);
          resolve();
        } else if (msg.type === 'error' && !msg.fatal) {
          this.dispatch(msg);
        }
      };
      ws.onclose = (ev: CloseEvent) => {
        const error = fatal
          ? new SignalError(fatal.code, fatal.message, { closeCode: ev.code })
          : new SignalError('socket-closed', `the signaling connection closed (${ev.code})`, { closeCode: ev.code });
        if (!welcomed) return fail(taken && (!fatal || fatal.code === 'join-timeout') ? new StandbyLost(error) : error);
        this.abandon(ws);
        this.onLost(error);
      };
    });
  }

  private parse(data: unknown): ServerMessage | null {
    if (typeof data !== 'string') {
      this.emit(SignalEvent.Error, new SignalError('bad-request', 'ignored a binary frame from the server'));
      return null;
    }
    const parsed = parseServerMessage(data);
    if (parsed.ok) return parsed.message;
    this.emit(SignalEvent.Error, new SignalError(parsed.code, `ignored a frame from the server: ${parsed.reason}`));
    return null;
  }

  private onWelcome(msg: Extract<ServerMessage, { type: 'welcome' }>, join: JoinResponse, reconnected: boolean): void {
    const previousSelfId = this._selfId;
    if (previousSelfId) this.pastSelfIds.add(previousSelfId);
    this._selfId = msg.self.peerId;
    // Right after a drop the server may still list our old session until its heartbeat notices.
    const peers = msg.peers.filter((p) => !this.pastSelfIds.has(p.peerId));
    this.peers = new Set(peers.map((p) => p.peerId));
    this._iceServers = join.iceServers;
    const queued = this.queue.drain();
    // Queued messages go before anything sent in reaction to the welcome; ones for peers gone meanwhile are dropped.
    for (const q of queued) if (this.peers.has(q.to)) this.socket!.send(q.frame);
    this.setState(ConnectionState.Connected);
    this.heartbeat.start();
    this.emit(SignalEvent.Welcome, {
      room: msg.room,
      self: msg.self,
      peers,
      roomSizeLimit: msg.roomSizeLimit,
      iceServers: join.iceServers,
      iceServersExpireAt: join.iceServersExpireAt,
      reconnected,
      previousSelfId: reconnected ? previousSelfId : null,
    });
  }

  private dispatch(msg: ServerMessage): void {
    switch (msg.type) {
      case 'welcome':
        return; // only the first one on a socket means anything
      case 'peer-joined':
        if (this.pastSelfIds.has(msg.peer.peerId)) return;
        this.peers.add(msg.peer.peerId);
        return this.emit(SignalEvent.PeerJoined, msg.peer);
      case 'peer-left':
        if (this.pastSelfIds.has(msg.peerId)) return;
        this.peers.delete(msg.peerId);
        return this.emit(SignalEvent.PeerLeft, { peerId: msg.peerId, reason: msg.reason });
      case 'signal':
        return this.emit(SignalEvent.Signal, { from: msg.from, data: msg.data });
      case 'ice-servers':
        this._iceServers = msg.iceServers;
        return this.emit(SignalEvent.IceServers, { iceServers: msg.iceServers, expiresAt: msg.expiresAt });
      case 'pong':
        return this.heartbeat.pong(msg.id);
      case 'error':
        return this.emit(SignalEvent.Error, new SignalError(msg.code, msg.message));
    }
  }

  private enqueue(item: QueuedSignal): void {
    const dropped = this.queue.push(item);
    if (!dropped) return;
    const { to, data } = dropped;
    const message = `signaling is down and ${this.queue.limit} messages are queued: dropped a ${data.kind} for ${to}`;
    this.emit(SignalEvent.Error, new SignalError('queue-overflow', message, { peerId: to, droppedKind: data.kind }));
  }

  private onLost(error: SignalError): void {
    this.heartbeat.stop();
    if (this.leaving) return this.finish(null);
    void this.reconnect(error);
  }

  private async reconnect(cause: SignalError): Promise<void> {
    const startedAt = this.clock.now();
    let last = cause;
    for (let attempt = 0; ; attempt++) {
      const elapsedMs = this.clock.now() - startedAt;
      const delay = this.deps.policy.nextDelayMs({ attempt, elapsedMs, lastCloseCode: last.closeCode ?? null, outageCloseCode: cause.closeCode ?? null });
      // Asking the policy first lets a terminal close go straight to Closed.
      if (delay === null) return this.finish(last);
      this.setState(ConnectionState.Reconnecting, last);
      await this.sleep(delay);
      if (this._state !== ConnectionState.Reconnecting) return;
      try {
        return await this.attempt(true);
      } catch (err) {
        if (this._state !== ConnectionState.Reconnecting) return;
        last = toSignalError(err);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = this.clock.setTimeout(() => {
        this.sleepTimer = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  private finish(error: SignalError | null): void {
    this.heartbeat.stop();
    this.clock.clearTimeout(this.sleepTimer);
    this.sleepTimer = null;
    const wake = this.wake;
    this.wake = null;
    if (this.socket) this.abandon(this.socket);
    this.queue.drain();
    this.peers.clear();
    this.setState(ConnectionState.Closed, error);
    wake?.();
  }

  /** Detaches from a socket and closes it without waiting: a dead network may never finish the close handshake. */
  private abandon(ws: WebSocket): void {
    ws.onopen = null;
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = () => {}; // Node's ws throws on an unhandled late error
    if (ws.readyState === ws.CONNECTING || ws.readyState === ws.OPEN) ws.close(1000);
    if (this.socket === ws) this.socket = null;
  }

  private is(state: ConnectionState): boolean {
    return this._state === state;
  }

  private setState(state: ConnectionState, error: SignalError | null = null): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    this.emit(SignalEvent.StateChanged, { state, previous, error });
  }

  private emit<E extends SignalEvent>(event: E, payload: SignalEventPayloads[E]): void {
    this.events.emit(event, payload);
  }
}
