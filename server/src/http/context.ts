import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { TokenVerifier } from '../identity.js';
import type { Metrics } from '../metrics.js';
import type { RoomPolicy } from '../RoomPolicy.js';
import type { RoomTokens } from '../RoomTokens.js';
import type { IssuedIce, SignalingHub } from '../SignalingHub.js';

export type Audit = (event: string, fields: Record<string, unknown>) => void;

/** What the routes share; built once by buildApp. */
export interface AppContext {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly audit: Audit;
  readonly metrics: Metrics;
  readonly verifier: TokenVerifier;
  readonly hub: SignalingHub;
  readonly roomTokens: RoomTokens;
  readonly policy: RoomPolicy;
  issueIce(sid: string, trigger: 'join' | 'refresh' | 'check'): IssuedIce;
  isDraining(): boolean;
  /** The client's address: the socket's, or the one trusted proxies report. */
  clientIp(req: IncomingMessage): string;
  /** Where clients reach this server: `publicUrl`, or in development the listening address. Never the Host header. */
  baseUrl(): URL;
}

/** The address the client connected from, counting only the proxies the configuration trusts. */
export function clientIpOf(config: ServerConfig, req: IncomingMessage): string {
  const direct = req.socket.remoteAddress ?? 'unknown';
  if (config.trustProxyHops === 0) return direct;
  const chain = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Each trusted proxy appends one entry; the client is the one the outermost trusted proxy saw.
  return chain[chain.length - config.trustProxyHops] ?? direct;
}

/** The signaling socket's URL under the base URL. */
export function signalingUrlOf(base: URL): string {
  const url = new URL(base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/v1/signal';
  url.search = '';
  url.hash = '';
  return url.toString();
}
