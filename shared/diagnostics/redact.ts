import type { DiagnosticsDocument } from './document.js';

/**
 * Redaction of the diagnostics document. The renderer redacts before it sends; main redacts again
 * before it writes (the renderer is not trusted to have done it), so this must be idempotent.
 *
 * Always removed, whatever the options: TURN usernames and credentials, passwords, ICE ufrag/pwd,
 * DTLS fingerprints and certificates, JWTs, bearer tokens and any `*token` / `*secret` field.
 * Masked unless `includeAddresses`: every IPv4 and IPv6 address (the network part is kept, ports too).
 */

export interface RedactOptions {
  /** Keep IP addresses as they are (the user chose to share them). Default false. */
  includeAddresses: boolean;
}

export const REDACTED = '[redacted]';
export const REDACTED_JWT = '[jwt]';
/** Deeper than this a value is dropped: the schema allows far less, so only junk gets here. */
const MAX_DEPTH = 64;

// Field names whose values are secrets, compared lower-cased without `-` and `_`.
const SECRET_KEY =
  /(username|usernamefragment|ufrag|pwd|password|passwd|credentials?|tokens?|secret|fingerprint|certificate|authorization|cookie|apikey)$/;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
}

// Not-already-redacted, so that redacting twice changes nothing.
const NOT_DONE = String.raw`(?!\[redacted\]|\[jwt\])`;

const SDP_SECRET_LINE = /\ba=(ice-pwd|ice-ufrag|fingerprint):[^\r\n\\"]*/gi;
// Three (JWS) to five (JWE) base64url segments, the first a JSON header.
const JWT = /eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2,4}/g;
const AUTH_SCHEME = new RegExp(String.raw`\b(Bearer|Basic)\s+${NOT_DONE}[A-Za-z0-9._~+/=-]+`, 'gi');
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'\\]+@/gi;
// `name: value`, `name=value`, `"name": "value"` (also once more JSON-escaped), for secret-looking names.
const SECRET_PAIR = new RegExp(
  String.raw`(\\?["']?)([A-Za-z0-9_-]*(?:usernamefragment|username|ufrag|pwd|password|passwd|credentials?|tokens?|secret|fingerprint|authorization))\1(\s*[:=]\s*)${NOT_DONE}` +
    String.raw`(\\"(?:(?!\\")[^\r\n])*\\"|"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*'|[^\s,;&"'}\]\\]+)`,
  'gi',
);
// Candidate lines: `… generation 0 ufrag EsWj network-id 1`.
const SPACED_SECRET = new RegExp(String.raw`\b(ufrag|pwd)(\s+)${NOT_DONE}[^\s"'\\,;]+`, 'gi');
// TURN REST API usernames: `<expiry>:<id>`.
const TURN_REST_USERNAME = /(?<![\w.:-])\d{9,13}:[A-Za-z0-9._@+=-]{1,128}/g;
// A certificate fingerprint without its `a=fingerprint:` (16 or more colon-separated octets).
const HEX_FINGERPRINT = /\b[0-9A-F]{2}(?::[0-9A-F]{2}){15,}\b/gi;

const IPV4 = /(?<![0-9A-Za-z.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![0-9A-Za-z]|\.\d)/g;
// Candidates only: each match is checked by parseIpv6, and the lookarounds make it a whole token.
const IPV6 = /(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?:%[0-9A-Za-z_-]+)?(?![0-9A-Za-z:]|\.\d)/g;

function isIpv4(parts: string[]): boolean {
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** The eight hextets of an IPv6 address (zone id ignored), or null when `text` is not one. */
export function parseIpv6(text: string): number[] | null {
  let body = text.split('%')[0]!;
  const tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (last.includes('.')) {
    const parts = last.split('.');
    if (!isIpv4(parts)) return null;
    const n = parts.map(Number);
    tail.push(n[0]! * 256 + n[1]!, n[2]! * 256 + n[3]!);
    body = body.slice(0, lastColon + 1) + '0'; // placeholder group, dropped below
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (tail.length) (rest.length ? rest : head).pop();
  if (![...head, ...rest].every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return null;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const zeros = new Array<number>(8 - given).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...rest.map((g) => parseInt(g, 16)), ...tail];
}

export function maskAddresses(text: string): string {
  return text
    .replace(IPV6, (match) => {
      const hextets = parseIpv6(match);
      if (!hextets) return match;
      // An IPv4-mapped or -embedded address keeps its IPv4 network part (masked below), like plain IPv4.
      const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(match.split('%')[0]!);
      return v4 ? `${v4[1]}${v4[2]}.${v4[3]}.x.x` : `${hextets[0]!.toString(16)}:${hextets[1]!.toString(16)}:x`;
    })
    .replace(IPV4, (match, a: string, b: string, c: string, d: string) => (isIpv4([a, b, c, d]) ? `${a}.${b}.x.x` : match));
}

/** One string, redacted: secrets always, addresses unless `includeAddresses`. */
export function redactText(text: string, options: RedactOptions): string {
  let out = text
    .replace(SDP_SECRET_LINE, (_m, name: string) => `a=${name}:${REDACTED}`)
    .replace(JWT, REDACTED_JWT)
    .replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(URL_USERINFO, (_m, scheme: string) => `${scheme}${REDACTED}@`)
    .replace(SECRET_PAIR, (_m, quote: string, name: string, sep: string, value: string) => {
      const q = value.startsWith('\\"') ? '\\"' : value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
      return `${quote}${name}${quote}${sep}${q}${REDACTED}${q}`;
    })
    .replace(SPACED_SECRET, (_m, name: string, space: string) => `${name}${space}${REDACTED}`)
    .replace(TURN_REST_USERNAME, REDACTED)
    .replace(HEX_FINGERPRINT, REDACTED);
  if (!options.includeAddresses) out = maskAddresses(out);
  return out;
}

/** Any JSON-like value, redacted; a new value, the input is not touched. */
export function redactValue(value: unknown, options: RedactOptions, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value, options);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, options, depth + 1));
  const entries: [string, unknown][] = [];
  const seen = new Set<string>();
  for (const [key, v] of Object.entries(value)) {
    // Keys may hold addresses too (stats keyed by address); two masked alike must not overwrite each other.
    let name = redactText(key, options);
    for (let n = 2; seen.has(name); n++) name = `${redactText(key, options)}#${n}`;
    seen.add(name);
    entries.push([name, isSecretKey(key) && v != null ? REDACTED : redactValue(v, options, depth + 1)]);
  }
  // fromEntries defines own properties: a `__proto__` key stays data.
  return Object.fromEntries(entries);
}

/** The document with every secret removed and, unless `includeAddresses`, every IP address masked. */
export function redactDiagnostics(doc: DiagnosticsDocument, options: RedactOptions = { includeAddresses: false }): DiagnosticsDocument {
  // Only string contents change (and secret-named fields, which the typed parts do not have): the shape holds.
  return redactValue(doc, options) as DiagnosticsDocument;
}

function htmlEscapeForSearch(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * The secrets (non-empty ones) that occur in `text`, as they are or as JSON or HTML would escape
 * them. For tests and checks: an empty result means none leaked.
 */
export function findSecrets(text: string, secrets: string[]): string[] {
  return secrets.filter((secret) => {
    if (!secret) return false;
    const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), htmlEscapeForSearch(secret)]);
    return [...forms].some((form) => text.includes(form));
  });
}
