import { pino } from 'pino';
import { PROTOCOL_VERSION, type JoinResponse, type ServerMessage } from '../../shared/protocol/index.js';
import { buildApp, type App } from '../../server/src/app.js';
import { parseConfig, type ServerConfigInput } from '../../server/src/config.js';
import { listen, listenMetrics } from '../../server/src/listen.js';
import { DEV_USERS, startDevIdp, type DevIdp } from '../../dev/idp.js';
import { loginWithPassword } from './idpLogin.js';
import { TEST_TURN_SECRET, TestSocket } from './signalingHarness.js';

export type User = 'alice' | 'bob' | 'carol';

/** One signaling node: a `buildApp` instance listening on loopback, with its log lines kept. */
export interface SignalingNode {
  readonly app: App;
  readonly baseUrl: string;
  readonly logs: string[];
}

/**
 * Several signaling nodes (separate `buildApp` instances, as separate processes would be) behind
 * one identity provider: what a client sees of a cluster without the load balancer.
 */
export class SignalingNodes {
  private readonly tokens = new Map<User, Promise<string>>();

  private constructor(
    readonly idp: DevIdp,
    readonly nodes: SignalingNode[],
  ) {}

  /** `configs[i]` is node i's configuration over the test defaults (ports, IdP, TURN are set here). */
  static async start(configs: Partial<ServerConfigInput>[]): Promise<SignalingNodes> {
    const idp = await startDevIdp();
    const cluster = new SignalingNodes(idp, []);
    try {
      for (const overrides of configs) cluster.nodes.push(await startNode(idp, overrides));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  node(i: number): SignalingNode {
    return this.nodes[i]!;
  }

  /** A real access token from the IdP's login flow, one login per user. */
  accessToken(user: User): Promise<string> {
    let token = this.tokens.get(user);
    if (!token) {
      token = loginWithPassword(this.idp, DEV_USERS.find((u) => u.username === user)!).then((t) => t.accessToken);
      this.tokens.set(user, token);
    }
    return token;
  }

  /** POST /v1/rooms/{room}/join on node i. */
  async joinHttp(i: number, room: string, user: User, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.node(i).baseUrl}/v1/rooms/${encodeURIComponent(room)}/join`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await this.accessToken(user)}`, ...headers },
    });
    return { status: res.status, body: await res.json() };
  }

  async join(i: number, room: string, user: User): Promise<JoinResponse> {
    const res = await this.joinHttp(i, room, user);
    if (res.status !== 200) throw new Error(`join on node ${i} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as JoinResponse;
  }

  /**
   * Opens a signaling socket on node i with a room token (from any node) and sends the join:
   * resolves with `welcome`, or with the error the node answered and the socket's close code.
   */
  async socketJoin(
    i: number,
    roomToken: string,
    clientId?: string,
  ): Promise<{ socket: TestSocket; welcome?: Extract<ServerMessage, { type: 'welcome' }>; error?: ServerMessage; closeCode?: number }> {
    const url = `${this.node(i).baseUrl.replace(/^http/, 'ws')}/v1/signal`;
    const socket = await TestSocket.open(url);
    socket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken, ...(clientId ? { clientId } : {}) });
    const welcome = socket.next('welcome', undefined, 10_000);
    const error = socket.next('error', undefined, 10_000);
    // The one that loses the race times out later: that is not a failure.
    welcome.catch(() => {});
    error.catch(() => {});
    const outcome = await Promise.race([
      welcome.then((m) => ({ welcome: m })),
      error.then(async (m) => ({ error: m, closeCode: (await socket.closed).code })),
    ]);
    return { socket, ...outcome };
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.app.close(2000)));
    await this.idp.close();
  }
}

async function startNode(idp: DevIdp, overrides: Partial<ServerConfigInput>): Promise<SignalingNode> {
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line.trimEnd()) });
  const app = buildApp(
    parseConfig({
      development: true,
      ...overrides,
      metrics: { host: '127.0.0.1', port: 0 },
      listen: { host: '127.0.0.1', port: 0 },
      idp: { issuer: idp.issuer, audience: idp.audience, clientId: idp.clientId },
      turn: { secrets: [TEST_TURN_SECRET], host: '127.0.0.1' },
      logLevel: 'debug',
    }),
    { logger },
  );
  try {
    const { port } = await listen(app, 0, '127.0.0.1');
    await listenMetrics(app, 0, '127.0.0.1');
    return { app, baseUrl: `http://127.0.0.1:${port}`, logs };
  } catch (err) {
    await app.close(0);
    throw err;
  }
}
