/**
 * Minimal TURN client (RFC 5766 / 8656) over UDP, TCP and TLS: Allocate with long-term (REST)
 * credentials, Refresh, CreatePermission. The pool's health probes use it, and the tests use it
 * against a real coturn (turnutils_uclient retries forever on bad credentials and never reports
 * error codes). It has no Send/ChannelData, so it cannot make coturn relay traffic to a peer.
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import {
  Attr,
  Class,
  decode,
  decodeAddress,
  encode,
  encodeXorAddress,
  failure,
  HEADER_BYTES,
  Method,
  METHOD_NAMES,
  type AllocateResult,
  type Attrs,
  type AttrsFor,
  type AuthState,
  type BindingResult,
  type PermissionResult,
  type RefreshResult,
  type StunMessage,
} from './stunMessage.js';

export type { AllocateResult, BindingResult, PermissionResult, RefreshResult, StunFailure, TransportAddress } from './stunMessage.js';

const UDP_TRIES = 3;
const ALLOCATION_MISMATCH = 437;
const MISMATCH_RETRIES = 2;

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

interface Pending {
  resolve: (m: StunMessage) => void;
  reject: (e: Error) => void;
}

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

  /**
   * Connects and allocates. coturn keeps a freed allocation's session for a moment, and a new
   * client that the kernel gives the same local port meanwhile gets 437 Allocation Mismatch to its
   * first Allocate (measured: 31 of 1,500 back-to-back allocations from fresh UDP sockets on one
   * machine). Like WebRTC (which retries a 437 twice from a new local port), this tries again
   * from a new socket. The caller closes the returned client.
   */
  static async connectAndAllocate(
    opts: TurnConnectOptions,
    creds: { username: string; password: string },
    allocateOpts?: Parameters<TurnClient['allocate']>[1],
  ): Promise<{ client: TurnClient; result: AllocateResult }> {
    for (let attempt = 0; ; attempt++) {
      const client = await TurnClient.connect(opts);
      let result: AllocateResult;
      try {
        result = await client.allocate(creds, allocateOpts);
      } catch (err) {
        await client.close();
        throw err;
      }
      if (result.ok || result.code !== ALLOCATION_MISMATCH || attempt >= MISMATCH_RETRIES) return { client, result };
      await client.close();
    }
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
