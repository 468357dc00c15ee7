/**
 * Minimal STUN/TURN client (RFC 5389, RFC 5766 / 8656) for tests against a real coturn.
 *
 * turnutils_uclient retries forever on bad credentials and never reports error codes, so tests use
 * this instead. It only talks to the TURN server itself: it has no Send/ChannelData, so it cannot
 * make coturn emit relayed traffic towards a peer.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { crc32 } from 'node:zlib';

const MAGIC_COOKIE = 0x2112a442;
const HEADER_BYTES = 20;
const FINGERPRINT_XOR = 0x5354554e;
const UDP_TRIES = 3;

const Method = { Binding: 0x001, Allocate: 0x003, Refresh: 0x004, CreatePermission: 0x008 } as const;
const Class = { Request: 0b00, Success: 0b10, Error: 0b11 } as const;
const Attr = {
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
  Fingerprint: 0x8028,
} as const;

export type TransportAddress = { address: string; port: number; family: 'IPv4' | 'IPv6' };
export type StunFailure = { ok: false; code: number; reason: string };
export type AllocateResult = { ok: true; relayed: TransportAddress; mapped?: TransportAddress; lifetime: number } | StunFailure;
export type BindingResult = { ok: true; mapped: TransportAddress } | StunFailure;
export type PermissionResult = { ok: true } | StunFailure;
export type RefreshResult = { ok: true; lifetime: number } | StunFailure;

export interface TurnConnectOptions {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  /** TLS: CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** TLS: SNI and the name checked against the certificate (defaults to host; an IP host is checked as an IP SAN). */
  servername?: string;
  rejectUnauthorized?: boolean;
  /** Per connect and per transaction (UDP retransmissions included). Default 5000. */
  timeoutMs?: number;
}

interface StunMessage {
  method: number;
  cls: number;
  tid: Buffer;
  attrs: Map<number, Buffer>;
}

type AuthState = { username: string; realm: Buffer; nonce: Buffer; key: Buffer };
type Attrs = Array<[number, Buffer]>;
/** Attributes, or a function of the transaction id for XOR-encoded ones. */
type AttrsFor = Attrs | ((tid: Buffer) => Attrs);

interface Pending {
  resolve: (m: StunMessage) => void;
  reject: (e: Error) => void;
}

// ---- wire format ----------------------------------------------------------------------------------

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
function encode(method: number, tid: Buffer, attrs: Attrs, key?: Buffer): Buffer {
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

function decode(buf: Buffer): StunMessage {
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

function encodeXorAddress(address: string, port: number, tid: Buffer): Buffer {
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

function decodeAddress(value: Buffer, tid: Buffer, xor: boolean): TransportAddress {
  const v6 = value[1] === 0x02;
  const mask = xor ? Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), tid]) : Buffer.alloc(16);
  const raw = Buffer.from(value.subarray(4, v6 ? 20 : 8).map((b, i) => b ^ mask[i]!));
  const port = value.readUInt16BE(2) ^ (xor ? 0x2112 : 0);
  if (!v6) return { address: [...raw].join('.'), port, family: 'IPv4' };
  const full = Array.from({ length: 8 }, (_, i) => raw.readUInt16BE(i * 2).toString(16)).join(':');
  // WHATWG URL parsing yields the canonical compressed form (RFC 5952).
  return { address: new URL(`http://[${full}]/`).hostname.slice(1, -1), port, family: 'IPv6' };
}

function failure(m: StunMessage): StunFailure {
  const ec = m.attrs.get(Attr.ErrorCode);
  if (!ec || ec.length < 4) return { ok: false, code: 0, reason: 'error response without ERROR-CODE' };
  return { ok: false, code: (ec[2]! & 0x07) * 100 + ec[3]!, reason: ec.subarray(4).toString('utf8') };
}

const METHOD_NAMES: Record<number, string> = { 1: 'Binding', 3: 'Allocate', 4: 'Refresh', 8: 'CreatePermission' };

// ---- client ---------------------------------------------------------------------------------------

export class TurnClient {
  private readonly pending = new Map<string, Pending>();
  private auth?: AuthState;
  private allocated = false;
  private failed?: Error;
  private closing?: Promise<void>;

  private constructor(
    private readonly opts: TurnConnectOptions,
    private readonly send: (b: Buffer) => void,
    private readonly shutdown: () => Promise<void>,
    private readonly timeoutMs: number,
  ) {}

  private get label(): string {
    return `${this.opts.transport}://${this.opts.host}:${this.opts.port}`;
  }

  static async connect(opts: TurnConnectOptions): Promise<TurnClient> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const label = `${opts.transport}://${opts.host}:${opts.port}`;
    // The client is created before the socket connects; handlers are bound through this holder.
    let client: TurnClient | undefined;
    const onData = (b: Buffer): void => client?.receive(b);
    const onFail = (e: Error): void => client?.fail(e);

    if (opts.transport === 'udp') {
      const sock = dgram.createSocket(net.isIPv6(opts.host) ? 'udp6' : 'udp4');
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.connect(opts.port, opts.host, () => (sock.off('error', reject), resolve()));
        }),
        timeoutMs,
        `UDP connect to ${label}`,
      ).catch((e: unknown) => (sock.close(), Promise.reject(connectError(label, e))));
      sock.on('message', onData);
      sock.on('error', onFail);
      const shutdown = () => new Promise<void>((resolve) => sock.close(() => resolve()));
      return (client = new TurnClient(opts, (b) => sock.send(b), shutdown, timeoutMs));
    }

    const sock =
      opts.transport === 'tls'
        ? tls.connect({
            host: opts.host,
            port: opts.port,
            ca: opts.ca,
            rejectUnauthorized: opts.rejectUnauthorized ?? true,
            ...(opts.servername ? { servername: opts.servername } : {}),
          })
        : net.connect({ host: opts.host, port: opts.port });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.once(opts.transport === 'tls' ? 'secureConnect' : 'connect', () => (sock.off('error', reject), resolve()));
      }),
      timeoutMs,
      `${opts.transport.toUpperCase()} connect to ${label}`,
    ).catch((e: unknown) => (sock.destroy(), Promise.reject(connectError(label, e))));

    // TURN over TCP/TLS is STUN messages back to back; each one's length is in its header.
    let buffered = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4) {
        // ChannelData (first bits 01) is padded to 4 bytes over streams; we never bind channels but skip it.
        const isChannel = (buffered[0]! & 0xc0) === 0x40;
        const len = buffered.readUInt16BE(2);
        const total = isChannel ? 4 + Math.ceil(len / 4) * 4 : HEADER_BYTES + len;
        if (buffered.length < total) break;
        if (!isChannel) onData(buffered.subarray(0, total));
        buffered = buffered.subarray(total);
      }
    });
    sock.on('error', onFail);
    sock.on('close', () => onFail(new Error(`${label}: connection closed`)));
    const shutdown = () =>
      new Promise<void>((resolve) => {
        if (sock.destroyed) return resolve();
        sock.once('close', () => resolve());
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
      });
    return (client = new TurnClient(opts, (b) => sock.write(b), shutdown, timeoutMs));
  }

  /** Plain STUN Binding: what a browser does for a stun: URL. */
  async bindingRequest(): Promise<BindingResult> {
    const res = await this.transact(Method.Binding, []);
    if (res.cls !== Class.Success) return failure(res);
    const xma = res.attrs.get(Attr.XorMappedAddress);
    const ma = res.attrs.get(Attr.MappedAddress);
    if (!xma && !ma) throw new Error(`${this.label}: Binding success without a mapped address`);
    return { ok: true, mapped: xma ? decodeAddress(xma, res.tid, true) : decodeAddress(ma!, res.tid, false) };
  }

  /**
   * Allocate a relay, answering the 401 challenge with long-term credentials. A UDP relay unless
   * `relay: 'tcp'` asks for an RFC 6062 TCP allocation (made on a TCP or TLS control connection).
   */
  async allocate(
    creds: { username: string; password: string },
    opts: { lifetime?: number; family?: 'IPv4' | 'IPv6'; relay?: 'udp' | 'tcp' } = {},
  ): Promise<AllocateResult> {
    const protocol = opts.relay === 'tcp' ? 6 : 17; // IANA protocol numbers (RFC 8656 §18.7)
    const attrs: Attrs = [[Attr.RequestedTransport, Buffer.from([protocol, 0, 0, 0])]];
    if (opts.lifetime !== undefined) attrs.push([Attr.Lifetime, u32(opts.lifetime)]);
    if (opts.family === 'IPv6') attrs.push([Attr.RequestedAddressFamily, Buffer.from([0x02, 0, 0, 0])]);
    let res = await this.transact(Method.Allocate, attrs);
    if (res.cls === Class.Error && failure(res).code === 401) {
      const realm = res.attrs.get(Attr.Realm);
      const nonce = res.attrs.get(Attr.Nonce);
      if (!realm || !nonce) return failure(res);
      // Long-term credential key (RFC 5389 §15.4); SASLprep is skipped, our usernames are ASCII.
      const key = createHash('md5').update(`${creds.username}:${realm.toString('utf8')}:${creds.password}`).digest();
      this.auth = { username: creds.username, realm, nonce, key };
      res = await this.authed(Method.Allocate, attrs);
    }
    if (res.cls !== Class.Success) return failure(res);
    const relayed = res.attrs.get(Attr.XorRelayedAddress);
    if (!relayed) throw new Error(`${this.label}: Allocate success without XOR-RELAYED-ADDRESS`);
    const mapped = res.attrs.get(Attr.XorMappedAddress);
    this.allocated = true;
    return {
      ok: true,
      relayed: decodeAddress(relayed, res.tid, true),
      ...(mapped ? { mapped: decodeAddress(mapped, res.tid, true) } : {}),
      lifetime: res.attrs.get(Attr.Lifetime)?.readUInt32BE(0) ?? 0,
    };
  }

  /** Install a permission for `peer` (IPv4 or IPv6 literal; `::ffff:a.b.c.d` is sent as IPv6). */
  async createPermission(peer: string): Promise<PermissionResult> {
    const res = await this.authed(Method.CreatePermission, (tid) => [[Attr.XorPeerAddress, encodeXorAddress(peer, 0, tid)]]);
    return res.cls === Class.Success ? { ok: true } : failure(res);
  }

  async refresh(lifetime: number): Promise<RefreshResult> {
    const res = await this.authed(Method.Refresh, [[Attr.Lifetime, u32(lifetime)]]);
    if (res.cls !== Class.Success) return failure(res);
    if (lifetime === 0) this.allocated = false;
    return { ok: true, lifetime: res.attrs.get(Attr.Lifetime)?.readUInt32BE(0) ?? 0 };
  }

  /** Deallocates (Refresh lifetime 0) if an allocation exists, then closes the socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.allocated && !this.failed) await this.refresh(0).catch(() => undefined);
      this.fail(new Error(`${this.label}: client closed`));
      await this.shutdown();
    })();
    return this.closing;
  }

  /** Sends an authenticated request; on 438 Stale Nonce retries once with the server's new nonce. */
  private async authed(method: number, attrs: AttrsFor): Promise<StunMessage> {
    if (!this.auth) throw new Error(`${this.label}: ${METHOD_NAMES[method]} needs credentials; allocate first`);
    for (let attempt = 0; ; attempt++) {
      const auth: AuthState = this.auth;
      const res = await this.transact(method, (tid) => [
        ...(typeof attrs === 'function' ? attrs(tid) : attrs),
        [Attr.Username, Buffer.from(auth.username, 'utf8')],
        [Attr.Realm, auth.realm],
        [Attr.Nonce, auth.nonce],
      ], auth.key);
      const nonce = res.attrs.get(Attr.Nonce);
      if (attempt > 0 || res.cls !== Class.Error || failure(res).code !== 438 || !nonce) return res;
      this.auth = { ...auth, nonce, realm: res.attrs.get(Attr.Realm) ?? auth.realm };
    }
  }

  private transact(method: number, attrs: AttrsFor, key?: Buffer): Promise<StunMessage> {
    if (this.failed) return Promise.reject(this.failed);
    const tid = randomBytes(12);
    const msg = encode(method, tid, typeof attrs === 'function' ? attrs(tid) : attrs, key);
    const id = tid.toString('hex');
    const what = `${this.label}: ${METHOD_NAMES[method]}`;
    // Streams are reliable; only UDP retransmits (RFC 5389 §7.2.1, with a fixed interval for brevity).
    const tries = this.opts.transport === 'udp' ? UDP_TRIES : 1;
    return new Promise<StunMessage>((resolve, reject) => {
      let sent = 0;
      const timers: NodeJS.Timeout[] = [];
      const settle = () => (timers.forEach(clearTimeout), this.pending.delete(id));
      const transmit = () => {
        sent++;
        try {
          this.send(msg);
        } catch (e) {
          settle();
          reject(new Error(`${what} send failed: ${(e as Error).message}`));
        }
      };
      this.pending.set(id, {
        resolve: (m) => (settle(), resolve(m)),
        reject: (e) => (settle(), reject(new Error(`${what}: ${e.message}`))),
      });
      transmit();
      for (let i = 1; i < tries; i++) timers.push(setTimeout(transmit, (this.timeoutMs / tries) * i));
      timers.push(
        setTimeout(() => {
          settle();
          reject(new Error(`${what} timed out after ${this.timeoutMs} ms (${sent} ${sent === 1 ? 'try' : 'tries'})`));
        }, this.timeoutMs),
      );
    });
  }

  private receive(buf: Buffer): void {
    let m: StunMessage;
    try {
      m = decode(buf);
    } catch {
      return; // Not STUN (or garbage): ignore, the transaction will time out with a clear message.
    }
    // Late answers to retransmissions find no pending entry and are dropped.
    if (m.cls === Class.Success || m.cls === Class.Error) this.pending.get(m.tid.toString('hex'))?.resolve(m);
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of [...this.pending.values()]) p.reject(e);
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function connectError(label: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  return err.message.includes(label)
    ? err
    : new Error(`connect ${label}: ${err.code ? `${err.code} ` : ''}${err.message}`, { cause: e });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
