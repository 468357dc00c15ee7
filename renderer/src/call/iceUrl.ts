export type RelayTransport = 'udp' | 'tcp' | 'tls';

export interface IceUrl {
  scheme: 'stun' | 'stuns' | 'turn' | 'turns';
  host: string;
  port: number;
  /** How the client reaches a TURN server; null for STUN. */
  relay: RelayTransport | null;
}

/** Parses `turn:host:port?transport=tcp` and friends (RFC 7064/7065), filling in default ports. */
export function parseIceUrl(url: string): IceUrl | null {
  const m = /^(stuns?|turns?):(\[[^\]]+\]|[^:?[\]]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i.exec(url.trim());
  if (!m) return null;
  const scheme = m[1]!.toLowerCase() as IceUrl['scheme'];
  const secure = scheme.endsWith('s');
  const port = m[3] ? Number(m[3]) : secure ? 5349 : 3478;
  let relay: RelayTransport | null = null;
  if (scheme === 'turns') relay = 'tls';
  else if (scheme === 'turn') relay = m[4]?.toLowerCase() === 'tcp' ? 'tcp' : 'udp';
  return { scheme, host: m[2]!, port, relay };
}
