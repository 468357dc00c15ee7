/**
 * STUN message wire format (RFC 5389, RFC 8656): just what a TURN client needs to allocate, refresh
 * and install permissions.
 */
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { crc32 } from 'node:zlib';

export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_BYTES = 20;
const FINGERPRINT_XOR = 0x5354554e;

export const Method = { Binding: 0x001, Allocate: 0x003, Refresh: 0x004, CreatePermission: 0x008 } as const;
export const Class = { Request: 0b00, Success: 0b10, Error: 0b11 } as const;
export const Attr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
} as const;

export type TransportAddress = { address: string; port: number; family: 'IPv4' | 'IPv6' };
/** `alternate`: the ALTERNATE-SERVER of a 300 Try Alternate. */
export type StunFailure = { ok: false; code: number; reason: string; alternate?: TransportAddress };
export type AllocateResult = { ok: true; relayed: TransportAddress; mapped?: TransportAddress; lifetime: number } | StunFailure;
export type BindingResult = { ok: true; mapped: TransportAddress } | StunFailure;
export type PermissionResult = { ok: true } | StunFailure;
export type RefreshResult = { ok: true; lifetime: number } | StunFailure;

export interface StunMessage {
  method: number;
  cls: number;
  tid: Buffer;
  attrs: Map<number, Buffer>;
}

export type AuthState = { username: string; realm: Buffer; nonce: Buffer; key: Buffer };
export type Attrs = Array<[number, Buffer]>;
/** Attributes, or a function of the transaction id for XOR-encoded ones. */
export type AttrsFor = Attrs | ((tid: Buffer) => Attrs);

// Method and class bits are interleaved in the 14-bit type field (RFC 5389 §6).
const encodeType = (method: number, cls: number): number =>
  (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);

function header(method: number, cls: number, length: number, tid: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt16BE(encodeType(method, cls), 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(MAGIC_COOKIE, 4);
  tid.copy(h, 8);
  return h;
}

function attribute(type: number, value: Buffer): Buffer {
  const a = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  a.writeUInt16BE(type, 0);
  a.writeUInt16BE(value.length, 2);
  value.copy(a, 4);
  return a;
}

/** Encodes a request; with `key`, appends MESSAGE-INTEGRITY. Always appends FINGERPRINT. */
export function encode(method: number, tid: Buffer, attrs: Attrs, key?: Buffer): Buffer {
  let body = Buffer.concat(attrs.map(([t, v]) => attribute(t, v)));
  if (key) {
    // The HMAC covers the header with a length that already counts the 24-byte MESSAGE-INTEGRITY.
    const signed = Buffer.concat([header(method, Class.Request, body.length + 24, tid), body]);
    body = Buffer.concat([body, attribute(Attr.MessageIntegrity, createHmac('sha1', key).update(signed).digest())]);
  }
  const withFp = Buffer.concat([header(method, Class.Request, body.length + 8, tid), body]);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(withFp) ^ FINGERPRINT_XOR) >>> 0, 0);
  return Buffer.concat([withFp, attribute(Attr.Fingerprint, fp)]);
}

export function decode(buf: Buffer): StunMessage {
  if (buf.length < HEADER_BYTES || (buf[0]! & 0xc0) !== 0 || buf.readUInt32BE(4) !== MAGIC_COOKIE) {
    throw new Error('not a STUN message');
  }
  const type = buf.readUInt16BE(0);
  const length = buf.readUInt16BE(2);
  if (HEADER_BYTES + length > buf.length) throw new Error('truncated STUN message');
  const attrs = new Map<number, Buffer>();
  for (let off = HEADER_BYTES; off + 4 <= HEADER_BYTES + length; ) {
    const t = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    if (!attrs.has(t)) attrs.set(t, buf.subarray(off + 4, off + 4 + len));
    off += 4 + Math.ceil(len / 4) * 4;
  }
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = ((type >> 4) & 1) | ((type >> 7) & 2);
  return { method, cls, tid: buf.subarray(8, HEADER_BYTES), attrs };
}

function ipv6ToBytes(text: string): Buffer {
  // Dotted-quad tails (::ffff:127.0.0.1) become two hex groups so the rest is plain group parsing.
  const s = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`,
  );
  const [head = '', tail] = s.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function encodeXorAddress(address: string, port: number, tid: Buffer): Buffer {
  const v6 = net.isIPv6(address);
  if (!v6 && !net.isIPv4(address)) throw new Error(`not an IP address: ${address}`);
  const raw = v6 ? ipv6ToBytes(address) : Buffer.from(address.split('.').map(Number));
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), tid]);
  const out = Buffer.alloc(4 + raw.length);
  out[1] = v6 ? 0x02 : 0x01;
  out.writeUInt16BE(port ^ 0x2112, 2);
  raw.forEach((b, i) => (out[4 + i] = b ^ mask[i]!));
  return out;
}

export function decodeAddress(value: Buffer, tid: Buffer, xor: boolean): TransportAddress {
  const v6 = value[1] === 0x02;
  const mask = xor ? Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), tid]) : Buffer.alloc(16);
  const raw = Buffer.from(value.subarray(4, v6 ? 20 : 8).map((b, i) => b ^ mask[i]!));
  const port = value.readUInt16BE(2) ^ (xor ? 0x2112 : 0);
  if (!v6) return { address: [...raw].join('.'), port, family: 'IPv4' };
  const full = Array.from({ length: 8 }, (_, i) => raw.readUInt16BE(i * 2).toString(16)).join(':');
  // WHATWG URL parsing yields the canonical compressed form (RFC 5952).
  return { address: new URL(`http://[${full}]/`).hostname.slice(1, -1), port, family: 'IPv6' };
}

export function failure(m: StunMessage): StunFailure {
  const ec = m.attrs.get(Attr.ErrorCode);
  if (!ec || ec.length < 4) return { ok: false, code: 0, reason: 'error response without ERROR-CODE' };
  const alternate = m.attrs.get(Attr.AlternateServer);
  return {
    ok: false,
    code: (ec[2]! & 0x07) * 100 + ec[3]!,
    reason: ec.subarray(4).toString('utf8'),
    ...(alternate ? { alternate: decodeAddress(alternate, m.tid, false) } : {}),
  };
}

export const METHOD_NAMES: Record<number, string> = { 1: 'Binding', 3: 'Allocate', 4: 'Refresh', 8: 'CreatePermission' };
