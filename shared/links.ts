import { RoomId } from './protocol/rooms.js';
import { describeHost } from './punycode.js';

/** A join link's meaning: which room, on which server (an origin). */
export interface JoinLink {
  roomId: string;
  /** `https://host[:port]` (or `http://` for loopback in development). */
  server: string;
}

export type LinkParseResult = { ok: true; link: JoinLink } | { ok: false; reason: string };

export const JOIN_LINK_SCHEME = 'zerorange:';
const MAX_LINK_LENGTH = 2048;

export interface LinkRules {
  /** Development only: allow `http://` servers on loopback (127.0.0.0/8, [::1], localhost). */
  allowInsecureLoopback: boolean;
  /** Development and tests only: further hosts allowed over plain http (e.g. a test network's server). */
  insecureHosts?: readonly string[];
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Whether plain http to this host is allowed under these rules (never in a packaged app). */
export function insecureAllowed(hostname: string, rules: LinkRules): boolean {
  return (rules.allowInsecureLoopback && isLoopbackHost(hostname)) || (rules.insecureHosts ?? []).includes(hostname);
}

/**
 * Validates a server origin: https (http only for loopback when allowed), no credentials, no path,
 * query or fragment. Returns the normalised origin.
 */
export function parseServerOrigin(raw: string, rules: LinkRules): { ok: true; origin: string } | { ok: false; reason: string } {
  if (raw.length > 512) return { ok: false, reason: 'the server address is too long' };
  // The URL parser would silently turn look-alike Unicode host names into punycode: refuse them outright.
  if (/[^\x21-\x7e]/.test(raw)) return { ok: false, reason: 'the server address has characters outside plain ASCII' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'the server address is not a URL' };
  }
  if (url.username || url.password) return { ok: false, reason: 'the server address must not carry credentials' };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    return { ok: false, reason: 'the server address must be just https://host[:port]' };
  }
  if (url.protocol === 'http:') {
    if (!insecureAllowed(url.hostname, rules)) {
      return { ok: false, reason: 'the server must use https' };
    }
  } else if (url.protocol !== 'https:') {
    return { ok: false, reason: 'the server must use https' };
  }
  if (!url.hostname) return { ok: false, reason: 'the server address has no host' };
  return { ok: true, origin: url.origin };
}

function checkRoom(raw: string): { ok: true; roomId: string } | { ok: false; reason: string } {
  const room = RoomId.safeParse(raw);
  if (!room.success) return { ok: false, reason: `not a room: ${room.error.issues[0]?.message ?? 'invalid room ID'}` };
  return { ok: true, roomId: room.data };
}

/**
 * Parses an untrusted join link: `zerorange://join/<roomId>?server=<origin>` (from the OS) or
 * `https://<server>/join/<roomId>` (pasted). Anything else is refused with a reason to show.
 */
export function parseJoinLink(input: string, rules: LinkRules): LinkParseResult {
  const raw = input.trim();
  if (raw.length === 0) return { ok: false, reason: 'the link is empty' };
  if (raw.length > MAX_LINK_LENGTH) return { ok: false, reason: 'the link is too long' };
  if (/[^\x21-\x7e]/.test(raw)) return { ok: false, reason: 'the link has characters outside plain ASCII' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'this is not a link' };
  }
  if (url.username || url.password) return { ok: false, reason: 'links must not carry credentials' };
  if (url.hash) return { ok: false, reason: 'the link has an unexpected fragment' };

  if (url.protocol === JOIN_LINK_SCHEME) {
    // Parsed by hand: how URL treats a custom scheme's "host" differs between runtimes.
    const match = /^zerorange:\/\/join\/([^/?#]+)\/?(\?[^#]*)?$/i.exec(raw);
    if (!match) return { ok: false, reason: 'a ZeroRange link looks like zerorange://join/<room>?server=<https address>' };
    const room = checkRoom(match[1]!);
    if (!room.ok) return room;
    const params = new URLSearchParams(match[2] ?? '');
    const servers = params.getAll('server');
    if (servers.length !== 1) return { ok: false, reason: 'the link must name exactly one server' };
    const server = parseServerOrigin(servers[0]!, rules);
    if (!server.ok) return server;
    return { ok: true, link: { roomId: room.roomId, server: server.origin } };
  }

  if (url.protocol === 'https:' || url.protocol === 'http:') {
    const server = parseServerOrigin(url.origin, rules);
    if (!server.ok) return server;
    const match = /^\/join\/([^/]+)\/?$/.exec(url.pathname);
    if (!match || url.search) return { ok: false, reason: 'a web join link looks like https://<server>/join/<room>' };
    const room = checkRoom(match[1]!);
    if (!room.ok) return room;
    return { ok: true, link: { roomId: room.roomId, server: server.origin } };
  }
  return { ok: false, reason: `links of type ${url.protocol} are not ZeroRange links` };
}

/** The link the OS hands to the app. */
export function formatJoinLink(link: JoinLink): string {
  return `zerorange://join/${link.roomId}?server=${encodeURIComponent(link.server)}`;
}

/** The link people share: opens a page on the server with an "Open in ZeroRange" button. */
export function formatWebJoinLink(link: JoinLink): string {
  return `${link.server}/join/${link.roomId}`;
}

export interface ServerDisplay {
  /** The origin as a person reads it: Punycode labels shown in Unicode. */
  display: string;
  /** The origin exactly as in the link. */
  origin: string;
  /** What a person should know before trusting it (empty when nothing stands out). */
  warnings: string[];
}

/**
 * How to show a server origin from an untrusted link. A Punycode host (`xn--`) reads as another
 * name, possibly one imitating a familiar server with look-alike letters; a host ending in a dot is
 * the same machine under another origin (its own sign-in and trust).
 */
export function describeServer(origin: string): ServerDisplay {
  const m = /^(https?:\/\/)(\[[^\]]*\]|[^:/]*)(.*)$/i.exec(origin);
  if (!m) return { display: origin, origin, warnings: [] };
  const [, scheme, host, rest] = m as unknown as [string, string, string, string];
  const facts = describeHost(host);
  const warnings: string[] = [];
  if (facts.invalidPunycode) {
    warnings.push(`The address has a label starting with “xn--” that is not valid Punycode: ${host}. Do not connect unless you know this server.`);
  } else if (facts.punycode) {
    warnings.push(
      `The address is written in Punycode (${host}) and reads as “${facts.unicode}”. Letters from other alphabets can imitate a familiar name: connect only if this is the server you expect.`,
    );
  }
  if (facts.trailingDot) {
    warnings.push(`The address ends in a dot (“${host}”): the same host as without it, but a separate server to ZeroRange, with its own sign-in. Check the link is genuine.`);
  }
  return { display: `${scheme}${facts.unicode}${rest}`, origin, warnings };
}
