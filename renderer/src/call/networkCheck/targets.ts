import type { NetworkCheckConfig } from '../../../../shared/ipc/desktopApi.js';
import type { IceServer } from '../../../../shared/protocol/index.js';
import { parseIceUrl, type IceUrl, type RelayTransport } from '../iceUrl.js';
import type { CheckStep, CheckStepId } from './types.js';

// Which URL each step uses, and the step rows labelled with their hosts and ports.

export interface Target {
  url: string;
  parsed: IceUrl;
  username?: string;
  credential?: string;
}

function targets(servers: IceServer[]): Target[] {
  const out: Target[] = [];
  for (const server of servers) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      const parsed = parseIceUrl(url);
      if (!parsed) continue;
      out.push({
        url,
        parsed,
        ...(server.username !== undefined && { username: server.username }),
        ...(server.credential !== undefined && { credential: server.credential }),
      });
    }
  }
  return out;
}

export const stunTarget = (servers: IceServer[]) => targets(servers).find((t) => t.parsed.scheme === 'stun');
export const relayTarget = (servers: IceServer[], relay: RelayTransport) =>
  targets(servers).find((t) => t.parsed.relay === relay && (relay !== 'tls' || t.parsed.scheme === 'turns'));

export const RELAY_NAMES: Readonly<Record<RelayTransport, string>> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };
const DEFAULT_PORTS: Readonly<Record<RelayTransport, number>> = { udp: 3478, tcp: 3478, tls: 443 };

export function hostPort(url: string): { host: string; port: string; scheme: string } {
  try {
    const u = new URL(url);
    const scheme = u.protocol.replace(':', '');
    const port = u.port || (scheme === 'https' || scheme === 'wss' ? '443' : '80');
    return { host: u.hostname, port, scheme };
  } catch {
    return { host: url, port: '?', scheme: '?' };
  }
}

export function initialSteps(config: NetworkCheckConfig): CheckStep[] {
  const http = hostPort(config.healthUrl).scheme.toUpperCase();
  const socket = hostPort(config.signalingUrl).scheme.toUpperCase();
  const port = (relay: RelayTransport) => relayTarget(config.iceServers, relay)?.parsed.port ?? DEFAULT_PORTS[relay];
  const stunPort = stunTarget(config.iceServers)?.parsed.port ?? 3478;
  const step = (id: CheckStepId, label: string): CheckStep => ({
    id,
    label,
    status: 'pending',
    ms: null,
    detail: null,
    verdict: '',
    blocked: false,
    rttMs: null,
    kbitPerSecond: null,
  });
  return [
    step('https', `Signaling server over ${http}`),
    step('wss', `Signaling socket (${socket})`),
    step('stun', `STUN (UDP ${stunPort})`),
    step('turn-udp', `TURN over UDP ${port('udp')}`),
    step('turn-tcp', `TURN over TCP ${port('tcp')}`),
    step('turn-tls', `TURN over TLS ${port('tls')}`),
    step('loopback', `Test call through TURN over TLS ${port('tls')}`),
  ];
}
