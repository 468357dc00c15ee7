import type { DesktopState, NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { IceServer } from '../../../shared/protocol/index.js';
import { parseIceUrl, type IceUrl } from './iceUrl.js';

export type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
export { parseIceUrl, type IceUrl, type RelayTransport } from './iceUrl.js';

export const NETWORK_POLICIES: readonly NetworkPolicy[] = ['auto', 'relay', 'relay-tls'];

/**
 * The policy a call starts with: the setting, or relay over TLS 443 at once on a network already seen
 * blocking UDP and plain TURN. The one place this is decided (pre-join, network check, diagnostics).
 */
export function effectivePolicy(desktop: Pick<DesktopState, 'networkPolicy' | 'restrictiveNetwork'> | null | undefined): NetworkPolicy {
  if (!desktop) return 'auto';
  return desktop.restrictiveNetwork ? 'relay-tls' : desktop.networkPolicy;
}

export const NETWORK_POLICY_LABELS: Readonly<Record<NetworkPolicy, string>> = {
  auto: 'Auto',
  relay: 'Always relay',
  'relay-tls': 'Relay over TLS 443 only',
};

export type RtcConfigurationResult = { ok: true; config: RTCConfiguration } | { ok: false; error: string };

/** A server's URLs, whether it lists one or several. */
export function urlsOf(server: IceServer): string[] {
  return Array.isArray(server.urls) ? server.urls : [server.urls];
}

/** Keeps the URLs that pass `keep`, each server with its own credentials; servers left with none are dropped. */
function filterServers(servers: IceServer[], keep: (url: IceUrl) => boolean): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  for (const server of servers) {
    const urls = urlsOf(server).filter((u) => {
      const parsed = parseIceUrl(u);
      return parsed !== null && keep(parsed);
    });
    if (urls.length === 0) continue;
    out.push({
      urls,
      ...(server.username !== undefined && { username: server.username }),
      ...(server.credential !== undefined && { credential: server.credential }),
    });
  }
  return out;
}

// No pre-gathered pool: with one, Chromium 156 left an answering peer connection without local
// candidates (ICE stayed 'new'), and the restrictive-network detector, fed by gathering events, once
// called an open network restrictive (call tests). The offer prepared at the click gathers early instead.
const CANDIDATE_POOL_SIZE = 0;

export function rtcConfigurationFor(policy: NetworkPolicy, iceServers: IceServer[]): RtcConfigurationResult {
  if (policy === 'auto') {
    const servers = iceServers.map((s) => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : s.urls }));
    return { ok: true, config: { iceServers: servers, iceTransportPolicy: 'all', iceCandidatePoolSize: CANDIDATE_POOL_SIZE } };
  }
  const tlsOnly = policy === 'relay-tls';
  const servers = filterServers(iceServers, (u) => (tlsOnly ? u.relay === 'tls' : u.relay !== null));
  if (servers.length === 0) {
    // A relay-only connection with nothing to gather from stays `new` for ever; say so up front instead.
    const error = tlsOnly
      ? `"${NETWORK_POLICY_LABELS['relay-tls']}" needs a TURN over TLS (turns:) server, and this server offers none. Choose "${NETWORK_POLICY_LABELS.auto}" or "${NETWORK_POLICY_LABELS.relay}", or ask your administrator to enable TURN over TLS on port 443.`
      : `"${NETWORK_POLICY_LABELS.relay}" needs a TURN server, and this server offers none. Choose "${NETWORK_POLICY_LABELS.auto}", or ask your administrator to configure TURN.`;
    return { ok: false, error };
  }
  return { ok: true, config: { iceServers: servers, iceTransportPolicy: 'relay', iceCandidatePoolSize: CANDIDATE_POOL_SIZE } };
}

export {
  RESTRICTIVE_MESSAGE,
  RestrictiveNetworkDetector,
  type CandidateErrorEvent,
  type DetectorEvidence,
  type DetectorOptions,
  type GatheredCandidate,
  type NetworkVerdict,
} from './RestrictiveNetworkDetector.js';
