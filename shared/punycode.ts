/**
 * Punycode (RFC 3492) decoding and the display form of host names, without Node's `url` module (this
 * layer is pure). Only decoding is needed: links are ASCII, and the app shows what an `xn--` label
 * stands for.
 */

const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;
const MAX_INT = 0x7fffffff;

function adapt(delta: number, points: number, first: boolean): number {
  let d = first ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / points);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

function digitOf(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 22; // 0-9 → 26-35
  if (code >= 0x41 && code <= 0x5a) return code - 0x41; // A-Z
  if (code >= 0x61 && code <= 0x7a) return code - 0x61; // a-z
  return BASE;
}

/** Decodes one Punycode string (without `xn--`); null when it is not valid Punycode. */
export function decodePunycode(input: string): string | null {
  const output: number[] = [];
  const delimiter = input.lastIndexOf('-');
  for (let j = 0; j < Math.max(0, delimiter); j++) {
    const code = input.charCodeAt(j);
    if (code >= 0x80) return null;
    output.push(code);
  }
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let i = 0;
  for (let at = delimiter > 0 ? delimiter + 1 : 0; at < input.length; ) {
    const oldI = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (at >= input.length) return null;
      const digit = digitOf(input.charCodeAt(at++));
      if (digit >= BASE || digit > Math.floor((MAX_INT - i) / w)) return null;
      i += digit * w;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      if (w > Math.floor(MAX_INT / (BASE - t))) return null;
      w *= BASE - t;
    }
    const points = output.length + 1;
    bias = adapt(i - oldI, points, oldI === 0);
    if (Math.floor(i / points) > MAX_INT - n) return null;
    n += Math.floor(i / points);
    i %= points;
    // Surrogates and values past Unicode are not code points a host name can hold.
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return null;
    output.splice(i++, 0, n);
  }
  return String.fromCodePoint(...output);
}

export interface HostDisplay {
  /** The host with every `xn--` label decoded (labels that do not decode are kept as written). */
  unicode: string;
  /** Some label is Punycode: the name people read differs from the one in the link. */
  punycode: boolean;
  /** Some `xn--` label is not valid Punycode. */
  invalidPunycode: boolean;
  /** The fully qualified form (`example.org.`): the same host, another origin to the app. */
  trailingDot: boolean;
}

/** How a host name reads to a person, and what about it deserves a warning. */
export function describeHost(host: string): HostDisplay {
  let punycode = false;
  let invalidPunycode = false;
  const labels = host.split('.').map((label) => {
    if (!/^xn--/i.test(label)) return label;
    punycode = true;
    const decoded = decodePunycode(label.slice(4));
    if (decoded === null || decoded.length === 0) {
      invalidPunycode = true;
      return label;
    }
    return decoded;
  });
  return { unicode: labels.join('.'), punycode, invalidPunycode, trailingDot: host.length > 1 && host.endsWith('.') };
}
