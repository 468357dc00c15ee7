import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type JoinResponse, type ServerMessage } from '../../shared/protocol/index.js';
import { buildApp, type App } from '../../server/src/app.js';
import { parseConfig, type ServerConfigInput } from '../../server/src/config.js';
import { listen, listenMetrics } from '../../server/src/listen.js';
import { DEV_USERS, startDevIdp, type DevIdp } from '../../dev/idp.js';
import { loginWithPassword } from './idpLogin.js';

export const TEST_ROOM_SECRET = 'room-token-secret-for-tests-0123456789';
export const TEST_TURN_SECRET = 'turn-secret-for-tests-0123456789abcdef';

/**
 * The configuration of a signaling server in its own process (dev/signalingProcess.ts) for tests:
 * loopback, the test secrets, the given IdP. An ephemeral port, no publicUrl; production's
 * requirement is tested in httpHardening.test.ts.
 */
export function processConfig(idp: DevIdp, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    development: true,
    listen: { host: '127.0.0.1', port },
    idp: { issuer: idp.issuer, audience: idp.audience, clientId: idp.clientId, algorithms: ['ES256'] },
    roomToken: { secret: TEST_ROOM_SECRET },
    turn: { secrets: [TEST_TURN_SECRET], host: '127.0.0.1' },
    logLevel: 'warn',
    ...extra,
  };
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** An IdP and a signaling server on loopback, with every log line kept for assertions. */
export class SignalingHarness {
  private readonly tokens = new Map<string, string>();

  private constructor(
    readonly idp: DevIdp,
    readonly app: App,
    readonly baseUrl: string,
    /** The metrics listener's base URL (its own port, as in production). */
    readonly metricsUrl: string,
    /** Every log line the server wrote (JSON). */
    readonly logs: string[],
    private readonly ownsIdp: boolean,
  ) {}

  /**
   * `opts.idp`: an IdP shared with other harnesses (several nodes of one deployment); not closed by
   * close(). `opts.untilSharedState: false`: listen before the node has reached Redis.
   */
  static async start(overrides: DeepPartial<ServerConfigInput> = {}, opts: { idp?: DevIdp; untilSharedState?: boolean } = {}): Promise<SignalingHarness> {
    const idp = opts.idp ?? (await startDevIdp());
    try {
      const logs: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
          done();
        },
      });
      const config = parseConfig({
        // A server on an ephemeral port has no publicUrl: clients are sent to the listening address. The
        // production path (publicUrl required, used alone, TURN credentials of 600 s or more) is covered
        // by httpHardening.test.ts and configDevelopment.test.ts.
        development: true,
        ...overrides,
        metrics: { host: '127.0.0.1', port: 0 },
        listen: { host: '127.0.0.1', port: 0 },
        idp: { issuer: idp.issuer, audience: idp.audience, clientId: idp.clientId, ...overrides.idp },
        roomToken: { secret: TEST_ROOM_SECRET, ...overrides.roomToken },
        turn: { secrets: [TEST_TURN_SECRET], host: '127.0.0.1', ...overrides.turn },
        logLevel: 'debug',
      });
      const app = buildApp(config, { logger: pino({ level: 'debug' }, sink) });
      // With rooms in Redis, the node serves once it has reached Redis (as /readyz says).
      while (opts.untilSharedState !== false && app.hub.sharedState() !== 'ok') await new Promise((r) => setTimeout(r, 10));
      const address = await listen(app, 0, '127.0.0.1');
      const metricsAddress = await listenMetrics(app, 0, '127.0.0.1');
      return new SignalingHarness(idp, app, `http://127.0.0.1:${address.port}`, `http://127.0.0.1:${metricsAddress.port}`, logs, !opts.idp);
    } catch (err) {
      if (!opts.idp) await idp.close();
      throw err;
    }
  }

  /** A real access token for a development user, from the IdP's login flow (cached per user). */
  async accessToken(username: 'alice' | 'bob' | 'carol'): Promise<string> {
    const cached = this.tokens.get(username);
    if (cached) return cached;
    const user = DEV_USERS.find((u) => u.username === username)!;
    const { accessToken } = await loginWithPassword(this.idp, user);
    this.tokens.set(username, accessToken);
    return accessToken;
  }

  async joinHttp(room: string, accessToken: string | undefined): Promise<{ status: number; body: unknown; headers: Headers }> {
    const res = await fetch(`${this.baseUrl}/v1/rooms/${encodeURIComponent(room)}/join`, {
      method: 'POST',
      headers: accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` },
    });
    return { status: res.status, body: await res.json(), headers: res.headers };
  }

  async join(room: string, username: 'alice' | 'bob' | 'carol'): Promise<JoinResponse> {
    const res = await this.joinHttp(room, await this.accessToken(username));
    if (res.status !== 200) throw new Error(`join failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as JoinResponse;
  }

  /** Joins over HTTP, opens the socket and waits for `welcome`. */
  async connect(room: string, username: 'alice' | 'bob' | 'carol', opts: { autoPong?: boolean; clientId?: string } = {}) {
    const joined = await this.join(room, username);
    const socket = await TestSocket.open(joined.signalingUrl, opts);
    socket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken, ...(opts.clientId ? { clientId: opts.clientId } : {}) });
    const welcome = await socket.next('welcome');
    return { socket, welcome, joined };
  }

  async close(): Promise<void> {
    await this.app.close(2000);
    if (this.ownsIdp) await this.idp.close();
  }
}

type ByType<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A signaling client for tests: every message is queued, and tests await the next one of a type. */
export class TestSocket {
  private readonly queue: ServerMessage[] = [];
  private waiters: { test: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerMessage;
      const i = this.waiters.findIndex((w) => w.test(msg));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
      else this.queue.push(msg);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, opts: { autoPong?: boolean; origin?: string } = {}): Promise<TestSocket> {
    const ws = new WebSocket(url, { autoPong: opts.autoPong ?? true, ...(opts.origin ? { origin: opts.origin } : {}) });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestSocket(ws)));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** The next message of this type (earlier ones of other types stay queued). */
  next<T extends ServerMessage['type']>(type: T, match: (m: ByType<T>) => boolean = () => true, timeoutMs = 5000): Promise<ByType<T>> {
    return this.waitFor((m) => m.type === type && match(m as ByType<T>), type, timeoutMs) as Promise<ByType<T>>;
  }

  private waitFor(test: (m: ServerMessage) => boolean, type: string, timeoutMs: number): Promise<ServerMessage> {
    const i = this.queue.findIndex(test);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { test, resolve: (m: ServerMessage) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${type} message within ${timeoutMs} ms; queued: ${JSON.stringify(this.queue.map((m) => m.type))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next message of whatever type. */
  nextAny(timeoutMs = 5000): Promise<ServerMessage> {
    return this.waitFor(() => true, 'any', timeoutMs);
  }

  /** Messages received and not yet taken. */
  pending(): ServerMessage[] {
    return [...this.queue];
  }

  /** Round trip through the server: proves the socket is served. */
  async ping(id = Math.floor(Math.random() * 1e9)): Promise<number> {
    const start = performance.now();
    this.send({ type: 'ping', id });
    await this.next('pong', (m) => m.id === id);
    return performance.now() - start;
  }

  close(): void {
    this.ws.close();
  }
}
