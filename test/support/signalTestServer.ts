import { EventEmitter } from 'node:events';
import { WebSocketServer, type WebSocket as WsWebSocket } from 'ws';
import { PROTOCOL_VERSION, type ClientMessage, type ErrorCode, type PeerInfo, type ServerMessage } from '../../shared/protocol/index.js';

export const A: PeerInfo = { peerId: 'peer-aaaaaaaa', name: 'Alice' };
export const B: PeerInfo = { peerId: 'peer-bbbbbbbb', name: 'Bob' };

export interface Conn {
  ws: WsWebSocket;
  received: ClientMessage[];
  selfId: string;
  heldPings: number[];
  closed: Promise<void>;
}

/** Just enough of SignalingHub: welcome on join, echoed signals, pongs on demand, drops and kicks. */
export class TestServer {
  readonly conns: Conn[] = [];
  readonly changes = new EventEmitter();
  peers: PeerInfo[] = [A, B];
  answerPings = true;
  /** Answers joins with this fatal error (`times` joins, then welcomes again). */
  rejectJoins: { code: ErrorCode; closeCode: number; times: number } | null = null;
  /** Ignores joins (no welcome ever). */
  silent = false;

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    wss.on('connection', (ws) => this.accept(ws));
  }

  static async start(): Promise<TestServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const { port } = wss.address() as { port: number };
    return new TestServer(wss, `ws://127.0.0.1:${port}`);
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** Resolves with the first truthy value of `check`, re-evaluated on every server event. */
  until<T>(check: () => T | undefined | false): Promise<T> {
    return new Promise((resolve) => {
      const run = (): void => {
        const value = check();
        if (value === undefined || value === false) return;
        this.changes.off('change', run);
        resolve(value);
      };
      this.changes.on('change', run);
      run();
    });
  }

  conn(index: number): Promise<Conn> {
    return this.until(() => this.conns[index]);
  }

  send(conn: Conn, msg: ServerMessage | string): void {
    conn.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  releasePongs(conn: Conn): void {
    for (const id of conn.heldPings.splice(0)) this.send(conn, { type: 'pong', id });
  }

  kick(conn: Conn, code: ErrorCode, closeCode: number): void {
    this.send(conn, { type: 'error', code, message: `kicked: ${code}`, fatal: true });
    conn.ws.close(closeCode, code);
  }

  private accept(ws: WsWebSocket): void {
    const conn: Conn = {
      ws,
      received: [],
      selfId: `self-${String(this.conns.length + 1).padStart(4, '0')}`,
      heldPings: [],
      closed: new Promise((resolve) => ws.once('close', () => resolve())),
    };
    this.conns.push(conn);
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as ClientMessage;
      conn.received.push(msg);
      this.respond(conn, msg);
      this.changes.emit('change');
    });
    this.changes.emit('change');
  }

  private respond(conn: Conn, msg: ClientMessage): void {
    switch (msg.type) {
      case 'join':
        if (this.silent) return;
        if (this.rejectJoins && this.rejectJoins.times-- > 0) return this.kick(conn, this.rejectJoins.code, this.rejectJoins.closeCode);
        return this.send(conn, {
          type: 'welcome',
          v: PROTOCOL_VERSION,
          room: 'room-1',
          self: { peerId: conn.selfId, name: 'Me' },
          peers: this.peers,
          roomSizeLimit: 4,
        });
      case 'ping':
        if (this.answerPings) this.send(conn, { type: 'pong', id: msg.id });
        else conn.heldPings.push(msg.id);
        return;
      case 'signal':
        return this.send(conn, { type: 'signal', from: msg.to, data: msg.data });
      case 'leave':
        return conn.ws.close(1000, 'left');
    }
  }
}
