import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import {
  CLOSE_CODE,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ClientMessage,
  type ErrorCode,
  type IceServer,
  type PeerInfo,
  type ServerMessage,
  type SignalData,
} from '../../shared/protocol/index.js';
import type { ServerConfig } from './config.js';
import type { Metrics } from './metrics.js';
import { SenderLimits } from './hubLimits.js';
import { attachPeer, peerLogFields, peerOf, stablePeerId, type Peer } from './hubPeer.js';
import { memorySharedState } from './cluster/memory.js';
import { RoomRouter } from './cluster/RoomRouter.js';
import type { SharedState } from './cluster/types.js';
import { MemoryReplayStore, type ReplayStore } from './replayStore.js';
import { RoomTokenGate } from './RoomTokenGate.js';
import { randomId, type RoomTokens } from './RoomTokens.js';

export interface IssuedIce {
  iceServers: IceServer[];
  expiresAt: Date;
}

export interface HubDeps {
  config: ServerConfig;
  roomTokens: RoomTokens;
  metrics: Metrics;
  log: Logger;
  audit: (event: string, fields: Record<string, unknown>) => void;
  issueIce: (sid: string, trigger: 'join' | 'refresh') => IssuedIce;
  /** Key for stable peer ids; stable across restarts so a call survives a server restart. */
  peerIdKey: string;
  /** Used room-token ids; in memory when not given. Closed by shutdown(). */
  replay?: ReplayStore;
  /** Room membership and routing between nodes; one node in memory when not given. Closed by shutdown(). */
  state?: SharedState;
  /** This node's id in shared state. */
  node?: string;
  now?: () => number;
}

// Frames up to this many times the limit are read and refused with an error; larger ones close the socket (1009).
export const HARD_FRAME_FACTOR = 4;

/** Owns signaling sessions and rooms: joins, relays, heartbeats, credential refresh and limits. */
export class SignalingHub {
  private readonly peers = new Set<Peer>();
  /** Sockets that have not joined yet; swept for the join timeout. */
  private readonly pending = new Set<Peer>();
  private readonly rooms: RoomRouter;
  private readonly state: SharedState;
  private readonly joinSweep: NodeJS.Timeout;
  private readonly handlers: {
    message: (this: WebSocket, data: RawData, isBinary: boolean) => void;
    pong: (this: WebSocket) => void;
    error: (this: WebSocket, err: Error) => void;
    close: (this: WebSocket, code: number) => void;
  };
  private readonly gate: RoomTokenGate;
  private readonly senders: SenderLimits;
  private readonly heartbeat: NodeJS.Timeout;
  /** Set by shutdown(): sockets are closing because the server is, not because people left. */
  private draining = false;
  private readonly now: () => number;
  private readonly limits: ServerConfig['limits'];

  constructor(private readonly deps: HubDeps) {
    this.now = deps.now ?? Date.now;
    this.limits = deps.config.limits;
    this.state = deps.state ?? memorySharedState();
    this.rooms = new RoomRouter({
      node: deps.node ?? 'local',
      state: this.state,
      heartbeatMs: deps.config.cluster.heartbeatMs,
      log: deps.log,
      gauge: deps.metrics.rooms,
      audit: deps.audit,
      now: this.now,
      deliver: (peer, json) => this.sendRaw(peer, json),
      unknownPeer: (peer) => this.refuse(peer, 'unknown-peer', 'no such peer in this room'),
      replaced: (peer) => this.fatal(peer, 'session-replaced', 'this call continued on a new connection'),
    });
    this.gate = new RoomTokenGate({ ...deps, replay: deps.replay ?? new MemoryReplayStore(this.now) });
    this.senders = new SenderLimits(this.limits, this.now);
    this.heartbeat = setInterval(() => this.tick(), this.limits.heartbeatIntervalMs);
    this.heartbeat.unref();
    // One sweep instead of a timer per socket: a timer is a heap object and a timer-list entry each.
    this.joinSweep = setInterval(() => this.sweepPending(), Math.min(1000, Math.max(50, this.limits.joinTimeoutMs / 4)));
    this.joinSweep.unref();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handlers run with `this` bound to the socket
    const hub = this;
    this.handlers = {
      message(data, isBinary) {
        hub.onMessage(peerOf(this), data, isBinary);
      },
      pong() {
        peerOf(this).alive = true;
      },
      error(err) {
        // ws reports oversized frames here and then closes with 1009.
        hub.countRejection((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'message-too-large' : 'socket-error');
        hub.debug(peerOf(this), { err: err.message }, 'socket error');
      },
      close(code) {
        const peer = peerOf(this);
        hub.onClose(peer, code);
        peer.onClosed(peer.ip);
      },
    };
  }

  /**
   * A child logger for this connection, made when something is logged: a logger kept per socket
   * would cost memory on every idle connection.
   */
  private log(peer: Peer): Logger {
    return this.deps.log.child(peerLogFields(peer));
  }

  private debug(peer: Peer, fields: Record<string, unknown>, msg: string): void {
    if (this.deps.log.isLevelEnabled('debug')) this.log(peer).debug(fields, msg);
  }

  get connectionCount(): number {
    return this.peers.size;
  }

  /** Shutting down: set once by shutdown(), read by the HTTP side to refuse new work. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Members of the room as this node knows them (shared state decides at the socket's join). */
  roomSize(roomId: string): number {
    return this.rooms.size(roomId);
  }

  /** Whether shared state (Redis) can be reached; always 'ok' in memory. */
  sharedState(): ReturnType<SharedState['status']> {
    return this.state.status();
  }

  /** Takes over an upgraded socket; `onClosed` runs once when it is gone. */
  accept(ws: WebSocket, ip: string, onClosed: (ip: string) => void = () => {}): void {
    const id = randomId(12);
    const peer: Peer = {
      conn: id,
      id,
      ws,
      ip,
      state: 'pending',
      resumed: false,
      joinBy: this.now() + this.limits.joinTimeoutMs,
      onClosed,
      bucket: this.senders.socketBucket(),
      alive: true,
      iceRefreshAt: Infinity,
      refusedForRate: 0,
      leaveReason: 'disconnected',
    };
    attachPeer(ws, peer);
    this.peers.add(peer);
    this.pending.add(peer);
    this.deps.metrics.connections.inc();
    this.debug(peer, { ip }, 'socket open');
    ws.on('message', this.handlers.message);
    ws.on('pong', this.handlers.pong);
    ws.on('error', this.handlers.error);
    ws.on('close', this.handlers.close);
    // An upgrade that completed while the server began draining.
    if (this.draining) this.fatal(peer, 'server-shutdown', 'the server is restarting');
  }

  private sweepPending(): void {
    const now = this.now();
    for (const peer of this.pending) {
      if (peer.state !== 'pending') this.pending.delete(peer);
      else if (now >= peer.joinBy) this.fatal(peer, 'join-timeout', 'no join message in time');
    }
  }

  /**
   * Tells everyone the server is going away and closes their sockets; resolves when all are closed or
   * at the deadline. Nobody is reported as having left: the members reconnect to the restarted
   * server with their peer ids, and their media never stopped.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    clearInterval(this.heartbeat);
    clearInterval(this.joinSweep);
    this.deps.audit('server.shutdown', { connections: this.peers.size, ...this.rooms.counts() });
    const closed = [...this.peers].map(
      (peer) => new Promise<void>((resolve) => {
        if (peer.ws.readyState === WebSocket.CLOSED) return resolve();
        peer.ws.once('close', () => resolve());
      }),
    );
    for (const peer of this.peers) this.fatal(peer, 'server-shutdown', 'the server is restarting');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    for (const peer of this.peers) peer.ws.terminate();
    this.rooms.close();
    await Promise.all([this.gate.close(), this.state.close()]);
  }

  private onMessage(peer: Peer, data: RawData, isBinary: boolean): void {
    if (peer.state === 'closed') return;
    const received = performance.now();
    if (isBinary) return this.refuse(peer, 'bad-request', 'binary frames are not part of the protocol');
    // ws hands over Buffers (its default binaryType); copying them would double the work per message.
    const raw = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (raw.length > this.limits.maxMessageBytes) {
      return this.refuse(peer, 'message-too-large', `messages are limited to ${this.limits.maxMessageBytes} bytes`);
    }
    if (!this.takeRate(peer)) return;
    const parsed = parseClientMessage(raw.toString('utf8'));
    if (!parsed.ok) return this.refuse(peer, parsed.code, parsed.reason);
    this.dispatch(peer, parsed.message, raw.length, received);
  }

  private dispatch(peer: Peer, msg: ClientMessage, bytes: number, received: number): void {
    switch (msg.type) {
      case 'join':
        if (peer.state !== 'pending') return this.refuse(peer, 'already-joined', 'this socket has joined already');
        void this.join(peer, msg.v, msg.roomToken, msg.clientId);
        return;
      case 'ping':
        // Nothing for a socket that has not proved who it is, beyond the refusal itself.
        if (peer.state !== 'joined') return this.refuse(peer, 'not-joined', 'join a room first');
        this.send(peer, { type: 'pong', id: msg.id });
        return;
      case 'signal':
        return this.relay(peer, msg.to, msg.data, bytes, received);
      case 'leave':
        if (peer.state !== 'joined') return this.refuse(peer, 'not-joined', 'join a room first');
        peer.leaveReason = 'left';
        this.removeFromRoom(peer);
        peer.state = 'closed';
        peer.ws.close(1000, 'left');
        return;
    }
  }

  private async join(peer: Peer, version: number, token: string, clientId: string | undefined): Promise<void> {
    peer.state = 'joining';
    if (version !== PROTOCOL_VERSION) {
      return this.fatal(peer, 'unsupported-version', `this server speaks protocol version ${PROTOCOL_VERSION}`);
    }
    const claims = await this.gate.verify(token, peer);
    if ('code' in claims) return this.fatal(peer, claims.code, claims.message);
    if (peer.state !== 'joining') return; // closed while verifying
    const refused = await this.gate.claim(claims, peer);
    if (peer.state !== 'joining') return; // closed while recording the token
    if (refused) return this.fatal(peer, refused.code, refused.message);
    const peerId = clientId ? stablePeerId(this.deps.peerIdKey, claims.room, claims.sub, clientId) : peer.id;
    const maxPeers = this.deps.config.rooms.maxPeers;
    const reserved = await this.rooms.reserve(claims.room, peerId, claims.name, maxPeers);
    if (peer.state !== 'joining') {
      // Closed while shared state answered: give the place back.
      if (reserved.ok) this.rooms.release(claims.room, peerId);
      return;
    }
    if (!reserved.ok) {
      this.deps.audit('join.denied', { conn: peer.conn, sub: claims.sub, room: claims.room, reason: reserved.code });
      this.deps.metrics.joins.inc({ stage: 'socket', outcome: reserved.code });
      return reserved.code === 'room-full'
        ? this.fatal(peer, 'room-full', `the room is full (${maxPeers} people)`)
        : this.fatal(peer, 'service-unavailable', 'the server cannot reach its shared state; try again shortly');
    }
    this.pending.delete(peer);
    peer.id = peerId;
    peer.claims = claims;
    peer.state = 'joined';
    peer.iceRefreshAt = (claims.iceExp - this.deps.config.turn.refreshBeforeSeconds) * 1000;
    const self: PeerInfo = { peerId: peer.id, name: claims.name };
    const { room, replaced, peers } = this.rooms.admit(peer, claims.room, claims.name, reserved.others);
    // The same call reconnecting: its old socket here (perhaps half-open) gives way, keeping the peer id.
    if (replaced) this.fatal(replaced, 'session-replaced', 'this call continued on a new connection');
    peer.resumed = reserved.resumed;
    this.send(peer, {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      room: room.id,
      self,
      peers,
      roomSizeLimit: maxPeers,
    });
    this.deps.metrics.joins.inc({ stage: 'socket', outcome: 'joined' });
    // One line per join (the audit event carries what a separate info line would).
    this.deps.audit('session.joined', { conn: peer.conn, sub: claims.sub, room: room.id, peer: peer.id, resumed: peer.resumed, peers: peers.length + 1 });
    // A token used late carries credentials that are about to expire: refresh at once.
    if (peer.iceRefreshAt <= this.now()) this.refreshIce(peer);
  }

  private relay(peer: Peer, to: string, data: SignalData, bytes: number, received: number): void {
    if (peer.state !== 'joined') return this.refuse(peer, 'not-joined', 'join a room first');
    const known = peer.room!.members.get(to);
    if (!known || known.peer === peer) return this.refuse(peer, 'unknown-peer', 'no such peer in this room');
    if (!this.senders.mayRelay(peer.claims!.sub, bytes)) return this.rateLimited(peer);
    const outcome = this.rooms.relay(peer, to, JSON.stringify({ type: 'signal', from: peer.id, data } satisfies ServerMessage));
    if (outcome === 'unknown-peer') return this.refuse(peer, 'unknown-peer', 'no such peer in this room');
    if (outcome === 'unavailable') return this.refuse(peer, 'service-unavailable', 'that peer is on another node, which cannot be reached right now');
    this.deps.metrics.relayed.inc();
    this.deps.metrics.relayLatency.observe((performance.now() - received) / 1000);
    this.debug(peer, { to, kind: data.kind }, 'relayed');
  }

  private takeRate(peer: Peer): boolean {
    if (peer.bucket.take()) return true;
    this.rateLimited(peer);
    return false;
  }

  private rateLimited(peer: Peer): void {
    peer.refusedForRate += 1;
    // A client that keeps flooding after being told is cut off rather than served errors forever.
    if (peer.refusedForRate > this.limits.messageBurst) {
      this.deps.audit('session.rate-limited', { conn: peer.conn, ip: peer.ip, sub: peer.claims?.sub, disconnected: true });
      return this.fatal(peer, 'rate-limited', 'too many messages; disconnected');
    }
    if (peer.refusedForRate === 1) this.deps.audit('session.rate-limited', { conn: peer.conn, ip: peer.ip, sub: peer.claims?.sub });
    this.refuse(peer, 'rate-limited', 'too many messages; slow down');
  }

  /** Refuses one message; the session goes on. */
  private refuse(peer: Peer, code: ErrorCode, message: string): void {
    this.countRejection(code);
    this.debug(peer, { code }, message);
    // Refusals of a flood are themselves limited: one error per refused burst is enough.
    if (code === 'rate-limited' && peer.refusedForRate > 1) return;
    this.send(peer, { type: 'error', code, message, fatal: false });
  }

  /** Sends an error and closes the socket. */
  private fatal(peer: Peer, code: ErrorCode, message: string): void {
    if (peer.state === 'closed') return;
    // A shutdown is audited once, not once per socket.
    if (code === 'server-shutdown') this.debug(peer, { code }, message);
    else {
      this.countRejection(code);
      this.log(peer).info({ code }, message);
    }
    this.send(peer, { type: 'error', code, message, fatal: true });
    peer.leaveReason = code === 'join-timeout' ? 'timeout' : 'kicked';
    this.removeFromRoom(peer);
    peer.state = 'closed';
    peer.ws.close(CLOSE_CODE[code] ?? 4400, message.slice(0, 120));
  }

  private countRejection(reason: string): void {
    this.deps.metrics.rejections.inc({ reason });
  }

  private send(peer: Peer, msg: ServerMessage): void {
    this.sendRaw(peer, JSON.stringify(msg));
  }

  private sendRaw(peer: Peer, json: string): void {
    const ws = peer.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    // A peer that does not read its socket is dropped, not buffered for without bound.
    if (ws.bufferedAmount > this.limits.sendQueueBytes) {
      if (peer.state === 'closed') return;
      this.countRejection('slow-consumer');
      this.deps.audit('session.slow-consumer', { conn: peer.conn, sub: peer.claims?.sub, buffered: ws.bufferedAmount });
      peer.leaveReason = 'kicked';
      this.removeFromRoom(peer);
      peer.state = 'closed';
      ws.terminate();
      return;
    }
    ws.send(json);
  }

  private refreshIce(peer: Peer): void {
    const ice = this.deps.issueIce(peer.claims!.sid, 'refresh');
    peer.iceRefreshAt = ice.expiresAt.getTime() - this.deps.config.turn.refreshBeforeSeconds * 1000;
    this.send(peer, { type: 'ice-servers', iceServers: ice.iceServers, expiresAt: ice.expiresAt.toISOString() });
    this.debug(peer, {}, 'pushed fresh TURN credentials');
  }

  private removeFromRoom(peer: Peer): void {
    // While draining nobody leaves: a peer-left would make the others tear down a working call.
    const room = this.rooms.leave(peer, peer.leaveReason, this.draining);
    if (!room || this.draining) return;
    this.deps.audit('session.left', { conn: peer.conn, sub: peer.claims?.sub, room: room.id, reason: peer.leaveReason });
  }

  private onClose(peer: Peer, code: number): void {
    this.removeFromRoom(peer);
    peer.state = 'closed';
    this.peers.delete(peer);
    this.pending.delete(peer);
    this.deps.metrics.connections.dec();
    this.debug(peer, { code }, 'socket closed');
  }

  private tick(): void {
    const now = this.now();
    for (const peer of this.peers) {
      if (!peer.alive) {
        peer.leaveReason = 'timeout';
        this.removeFromRoom(peer);
        peer.state = 'closed';
        peer.ws.terminate();
        continue;
      }
      peer.alive = false;
      peer.refusedForRate = 0;
      peer.ws.ping();
      if (peer.state === 'joined' && now >= peer.iceRefreshAt) this.refreshIce(peer);
    }
    this.senders.sweep();
  }
}
