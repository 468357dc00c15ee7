import type { NetworkPolicy } from '../../../../shared/ipc/desktopApi.js';
import type { PathStats } from '../../call/stats/statsReducer.js';
import type { PeerView } from '../../store/index.js';

/** The words the call screens use, in one place so screens and tests agree on them. */

export const POLICY_EXPLANATIONS: Readonly<Record<NetworkPolicy, string>> = {
  auto: "Direct when possible, relayed through your organisation's server otherwise (UDP, TCP, or TLS on 443)",
  relay: "All media goes through your organisation's TURN server; other participants never learn your address",
  'relay-tls': 'For the most restrictive networks: only TURN over TLS on port 443',
};

export const RESTRICTIVE_NOTE = 'This network blocks UDP — calls go through TURN over TLS 443';
export const SIGNALING_RECONNECTING = 'Reconnecting to the server… your call continues';
export const CALL_CONNECTING = 'Connecting to the call…';

/** A peer's connection, in words (never colour alone). */
export function linkText(link: PeerView['link']): string {
  switch (link) {
    case 'waiting':
      return 'Waiting…';
    case 'new':
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'disconnected':
      return 'Reconnecting…';
    case 'failed':
    case 'closed':
      return 'Connection lost';
  }
}

const RELAY_NOTE = 'The relay forwards encrypted media it cannot read.';

/** The path badge's tooltip: which way media goes to this person, and why that is fine. */
export function pathTitle(path: Pick<PathStats, 'kind' | 'turnUrl' | 'turnPort'> | null): string {
  if (path == null) return 'Still finding a way for media to reach this person.';
  const via = path.turnUrl != null ? ` (${path.turnUrl})` : '';
  switch (path.kind) {
    case 'direct':
      return 'Direct: media goes straight between you and this person, with no server in between.';
    case 'relay-udp':
      return path.turnUrl != null
        ? `Relayed over UDP through your organisation's TURN server${via}. ${RELAY_NOTE}`
        : `Relayed over UDP through the other person's TURN server. ${RELAY_NOTE}`;
    case 'relay-tcp':
      return `Relayed over TCP through your organisation's TURN server${via}, because UDP did not get through. ${RELAY_NOTE}`;
    case 'relay-tls':
      return path.turnPort === 443
        ? `Relayed over TLS on port 443 through your organisation's TURN server${via}: it looks like web traffic, so it works on the most restrictive networks. ${RELAY_NOTE}`
        : `Relayed over TLS through your organisation's TURN server${via}. ${RELAY_NOTE}`;
    case 'unknown':
      return 'Still finding a way for media to reach this person.';
  }
}

/** Up to two letters for an avatar: first and last word of the name. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = Array.from(words[0]!)[0] ?? '';
  const last = words.length > 1 ? (Array.from(words.at(-1)!)[0] ?? '') : '';
  return (first + last).toLocaleUpperCase();
}

/** Whether media elements can play to a chosen speaker (Chromium, Electron). */
export const canChooseSpeaker = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
