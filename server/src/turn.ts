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

/** ICE servers in the shape RTCPeerConnection takes: STUN, TURN UDP/TCP, and TURN over TLS. */
export function buildIceServers(endpoints: TurnEndpoints, credential: TurnCredential): IceServer[] {
  const host = hostForUrl(endpoints.host);
  const servers: IceServer[] = [{ urls: `stun:${host}:${endpoints.stunPort}` }];
  const turnUrls = [
    `turn:${host}:${endpoints.turnPort}?transport=udp`,
    `turn:${host}:${endpoints.turnPort}?transport=tcp`,
  ];
  if (endpoints.turnsPort > 0) {
    turnUrls.push(`turns:${hostForUrl(endpoints.tlsHost ?? endpoints.host)}:${endpoints.turnsPort}?transport=tcp`);
  }
  servers.push({ urls: turnUrls, username: credential.username, credential: credential.credential });
  return servers;
}
