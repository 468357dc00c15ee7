import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../dev/coturn.js';
import { DEV_USERS, startDevIdp, type DevIdp } from '../../dev/idp.js';
import { startSignalingProcess, type SignalingProcess } from '../../dev/signalingProcess.js';
import { PROTOCOL_VERSION, type JoinResponse } from '../../shared/protocol/index.js';
import { loginWithPassword } from './idpLogin.js';
import { rawRequest, requestHead } from './rawHttp.js';
import { TestSocket } from './signalingHarness.js';

type User = 'alice' | 'bob' | 'carol';

/**
 * The signaling server in a process of its own (so a crash is seen as an exit, not a test error),
 * its JSON log in a file, and a development IdP for real sign-ins.
 */
export class FuzzTarget {
  private readonly tokens = new Map<User, string>();

  private constructor(
    readonly idp: DevIdp,
    readonly server: SignalingProcess,
    readonly port: number,
    private readonly dir: string,
    private readonly logFd: number,
  ) {}

  static async start(limits: Record<string, number> = {}): Promise<FuzzTarget> {
    const idp = await startDevIdp();
    const dir = mkdtempSync(join(tmpdir(), 'zr-fuzz-'));
    const logFd = openSync(join(dir, 'server.log'), 'a');
    try {
      const port = await freePort();
      const config = {
        listen: { host: '127.0.0.1', port },
        // An ephemeral port, no publicUrl; production's requirement is tested in httpHardening.test.ts.
        development: true,
        idp: { issuer: idp.issuer, audience: idp.audience, clientId: idp.clientId },
        roomToken: { secret: 'room-token-secret-for-fuzzing-0123456789' },
        turn: { secrets: ['turn-secret-for-fuzzing-0123456789abcdef'], host: '127.0.0.1' },
        // Generous limits so inputs reach the parsers instead of the limiters; timeouts short so
        // an incomplete request costs little.
        limits: { joinBurst: 100_000, messageBurst: 100_000, messagesPerSecond: 100_000, userMessageBurst: 100_000, userMessagesPerSecond: 100_000, headersTimeoutMs: 2000, requestTimeoutMs: 3000, connectionsPerIp: 1000, httpConnectionsPerIp: 1000, ...limits },
        logLevel: 'debug',
      };
      const server = await startSignalingProcess({ config, dir, host: '127.0.0.1', port, output: logFd });
      return new FuzzTarget(idp, server, port, dir, logFd);
    } catch (err) {
      closeSync(logFd);
      rmSync(dir, { recursive: true, force: true });
      await idp.close();
      throw err;
    }
  }

  /** True while the server process exists. */
  alive(): boolean {
    try {
      process.kill(this.server.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** The server's log lines at error level or above (pino: 50 and up). */
  errorLines(): string[] {
    return readFileSync(join(this.dir, 'server.log'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .filter((l) => ((JSON.parse(l) as { level?: number }).level ?? 0) >= 50);
  }

  async accessToken(user: User): Promise<string> {
    const cached = this.tokens.get(user);
    if (cached) return cached;
    const { accessToken } = await loginWithPassword(this.idp, DEV_USERS.find((u) => u.username === user)!);
    this.tokens.set(user, accessToken);
    return accessToken;
  }

  async join(room: string, user: User): Promise<JoinResponse> {
    const res = await rawRequest(this.port, requestHead(`/v1/rooms/${room}/join`, [`authorization: Bearer ${await this.accessToken(user)}`], 'POST'));
    if (res.status !== 200) throw new Error(`join failed: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as JoinResponse;
  }

  /** A real client: join over HTTP, open the socket, get welcome. */
  async connect(room: string, user: User) {
    const joined = await this.join(room, user);
    const socket = await TestSocket.open(joined.signalingUrl);
    socket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken });
    const welcome = await socket.next('welcome');
    return { socket, welcome };
  }

  /** A legitimate client is served: /healthz, then a whole join and a round trip on the socket. */
  async servesLegitimateClient(room: string): Promise<void> {
    const health = await rawRequest(this.port, requestHead('/healthz'));
    if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
    const { socket } = await this.connect(room, 'alice');
    try {
      await socket.ping();
    } finally {
      socket.close();
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
    closeSync(this.logFd);
    rmSync(this.dir, { recursive: true, force: true });
    await this.idp.close();
  }
}
