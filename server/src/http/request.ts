import type { IncomingMessage } from 'node:http';

/** The parts of a request target the routes use; `path` stays percent-encoded. */
export interface RequestTarget {
  path: string;
  query: string;
}

const MAX_TARGET = 8 * 1024;

/** Whether `authority` is a host[:port] (no user info) the WHATWG URL parser accepts (it throws otherwise). */
function validAuthority(authority: string): boolean {
  if (authority.includes('@')) return false;
  try {
    return new URL(`http://${authority}/`).host !== '';
  } catch {
    return false;
  }
}

/**
 * RFC 9112 asks for 400 when Host is not a host. It is checked only for that: the server never
 * uses Host (clients are sent to publicUrl). Node already refuses a missing or repeated one.
 */
export function validHostHeader(req: IncomingMessage): boolean {
  const host = req.headers.host;
  return host === undefined ? req.httpVersion !== '1.1' : validAuthority(host);
}

/**
 * Parses a request target (RFC 9112 origin-form, or absolute-form from a proxy) and never throws:
 * anything else, `//[` included, gives null, which the caller answers with 400.
 */
export function parseTarget(raw: string | undefined): RequestTarget | null {
  if (raw === undefined || raw.length === 0 || raw.length > MAX_TARGET) return null;
  let target = raw;
  if (!target.startsWith('/')) {
    const absolute = /^https?:\/\/([^/?#]*)(\/[^#]*)?$/i.exec(target);
    if (!absolute || !validAuthority(absolute[1]!)) return null;
    target = absolute[2] ?? '/';
  }
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  const query = q >= 0 ? target.slice(q + 1) : '';
  // Printable ASCII only: Node already refuses most else, and a route never needs more.
  if (!/^\/[\x21-\x7e]*$/.test(path)) return null;
  return { path, query };
}

/** decodeURIComponent without the URIError: malformed escapes (`%ZZ`, a cut UTF-8 sequence) give null. */
export function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The target of a request, or null when it does not parse. */
export function requestTarget(req: IncomingMessage): RequestTarget | null {
  return parseTarget(req.url);
}

/** True when the request carries a body (none of the routes takes one). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}
