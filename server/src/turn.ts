import { createHmac } from 'node:crypto';
import type { IceServer } from '../../shared/protocol/index.js';

export interface TurnCredential {
  /** `<expiry-unix-seconds>:<id>`, as coturn's use-auth-secret expects. */
  username: string;
  /** base64(HMAC-SHA1(secret, username)). */
  credential: string;
  expiresAt: Date;
}

/** coturn REST API credential (draft-uberti-behave-turn-rest), signed with one shared secret. */
export function createTurnCredential(opts: {
  secret: string;
  id: string;
  ttlSeconds: number;
  now?: Date;
}): TurnCredential {
  const nowMs = (opts.now ?? new Date()).getTime();
  const expiry = Math.floor(nowMs / 1000) + opts.ttlSeconds;
  const username = `${expiry}:${opts.id}`;
  return {
    username,
    credential: turnPassword(opts.secret, username),
    expiresAt: new Date(expiry * 1000),
  };
}

export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

export interface TurnEndpoints {
  /** Hostname or IP that clients reach coturn on. */
  host: string;
  stunPort: number;
  /** TURN over UDP and TCP (both 3478 by default). */
  turnPort: number;
  /** TURN over TLS (443 by default); 0 leaves TLS out. */
  turnsPort: number;
  /** Host name for turns: URLs when it differs from `host` (the TLS certificate's name). */
  tlsHost?: string;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function turnUrls(endpoints: TurnEndpoints): string[] {
  const host = hostForUrl(endpoints.host);
  const urls = [`turn:${host}:${endpoints.turnPort}?transport=udp`, `turn:${host}:${endpoints.turnPort}?transport=tcp`];
  if (endpoints.turnsPort > 0) {
    urls.push(`turns:${hostForUrl(endpoints.tlsHost ?? endpoints.host)}:${endpoints.turnsPort}?transport=tcp`);
  }
  return urls;
}

/**
 * ICE servers in the shape RTCPeerConnection takes: STUN of the first instance, then TURN UDP/TCP
 * and TURN over TLS of each given instance in order (one credential: the instances share secrets).
 * The browser gathers relay candidates from all of them, so an ICE restart after the first one
 * fails finds the others without new servers.
 */
export function buildIceServers(endpoints: TurnEndpoints | readonly TurnEndpoints[], credential: TurnCredential): IceServer[] {
  const list = Array.isArray(endpoints) ? endpoints : [endpoints as TurnEndpoints];
  const first = list[0];
  if (!first) throw new Error('buildIceServers needs at least one TURN server');
  return [
    { urls: `stun:${hostForUrl(first.host)}:${first.stunPort}` },
    ...list.map((e) => ({ urls: turnUrls(e), username: credential.username, credential: credential.credential })),
  ];
}
