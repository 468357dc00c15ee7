import type { DesktopErrorCode } from '../../shared/ipc/desktopApi.js';
import { ClientConfig, type ErrorCode } from '../../shared/protocol/index.js';
import type { HttpFetch } from './auth/oidcFlow.js';
import { ServiceError } from './ServiceError.js';

/** The access token of the signed-in user (AuthSession), as the connection uses it. */
export interface AccessTokens {
  getAccessToken(): Promise<string>;
  /** The server refused `rejected`: refresh it (or throw when signed out). */
  handleUnauthorized(rejected: string): Promise<string>;
}

export interface ServerConnectionDeps {
  fetch: HttpFetch;
  /** How long client-config may take (10 s). */
  configTimeoutMs?: number;
  /** How long an authorized request may take (15 s). */
  requestTimeoutMs?: number;
}

// The server's own code says what went wrong more precisely than the status does.
const SERVER_CODES: Partial<Record<ErrorCode, DesktopErrorCode>> = {
  unauthorized: 'not-signed-in',
  forbidden: 'forbidden',
  'origin-not-allowed': 'forbidden',
  'room-full': 'room-full',
  'invalid-room': 'invalid-room',
  'rate-limited': 'rate-limited',
  'too-many-connections': 'rate-limited',
  'bad-request': 'invalid-argument',
  'invalid-message': 'invalid-argument',
  'server-shutdown': 'server-unreachable',
  'service-unavailable': 'service-unavailable',
  'not-found': 'server-error',
  internal: 'server-error',
};
// For answers without a code we know (an older server, a proxy in front of it).
const HTTP_STATUS: Partial<Record<number, DesktopErrorCode>> = { 400: 'invalid-room', 401: 'not-signed-in', 403: 'forbidden', 409: 'room-full', 429: 'rate-limited', 503: 'service-unavailable' };

/** What a failed answer means: the server's error code when we know it, else its status. */
export function errorFromResponse(status: number, body: unknown): ServiceError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const serverCode = typeof error?.code === 'string' && Object.hasOwn(SERVER_CODES, error.code) ? SERVER_CODES[error.code as ErrorCode] : undefined;
  const message = typeof error?.message === 'string' && error.message ? error.message : `the server answered ${status}`;
  return new ServiceError(serverCode ?? HTTP_STATUS[status] ?? 'server-error', message);
}

/**
 * One ZeroRange server: its published client configuration, and requests to it with the user's
 * access token. Knows nothing of Electron; the fetch and the token source are passed in.
 */
export class ServerConnection {
  readonly #deps: ServerConnectionDeps;

  private constructor(
    readonly origin: string,
    readonly config: ClientConfig,
    deps: ServerConnectionDeps,
  ) {
    this.#deps = deps;
  }

  /** Reads `GET /v1/client-config`: the origin must answer as a ZeroRange server. */
  static async connect(origin: string, deps: ServerConnectionDeps): Promise<ServerConnection> {
    let res: Response;
    try {
      res = await deps.fetch(`${origin}/v1/client-config`, { signal: AbortSignal.timeout(deps.configTimeoutMs ?? 10_000) });
    } catch {
      throw new ServiceError('server-unreachable', `cannot reach ${origin}`);
    }
    if (!res.ok) throw new ServiceError('server-error', `${origin} answered ${res.status}: is it a ZeroRange server?`);
    const parsed = ClientConfig.safeParse(await res.json().catch(() => null));
    if (!parsed.success) throw new ServiceError('server-error', `${origin} did not send a ZeroRange client configuration`);
    return new ServerConnection(origin, parsed.data, deps);
  }

  /**
   * POSTs with the access token and returns the JSON answer. The server may see a token as expired
   * before we do (clock skew, revocation): after a 401 the token is refreshed and the call made once
   * more; a second 401 means a new sign-in is needed, and is not retried.
   */
  async post(path: string, tokens: AccessTokens): Promise<unknown> {
    const token = await tokens.getAccessToken();
    let res = await this.#send(path, token);
    if (res.status === 401) {
      await discard(res);
      res = await this.#send(path, await tokens.handleUnauthorized(token));
      if (res.status === 401) {
        await discard(res);
        throw new ServiceError('not-signed-in', 'the server refused the sign-in even after it was renewed: sign in again');
      }
    }
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) throw errorFromResponse(res.status, body);
    return body;
  }

  async #send(path: string, token: string): Promise<Response> {
    try {
      return await this.#deps.fetch(`${this.origin}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(this.#deps.requestTimeoutMs ?? 15_000),
      });
    } catch {
      throw new ServiceError('server-unreachable', `cannot reach ${this.origin}`);
    }
  }
}

/** Frees the connection of an answer whose body is not read. */
async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}
