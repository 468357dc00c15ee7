/**
 * "Check my network" against fakes: RTCPeerConnection, WebSocket and fetch that behave like an open
 * network, a UDP-blocking one, a closed one, or one that simply never answers, on a manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DesktopApi, DesktopState, NetworkCheckConfig } from '../../shared/ipc/desktopApi.js';
import {
  maskAddress,
  runNetworkCheck,
  statusText,
  summarize,
  type CheckStep,
  type NetworkCheckDeps,
  type NetworkCheckResult,
} from '../../renderer/src/call/networkCheck.js';
import { NetworkCheckController } from '../../renderer/src/controllers/NetworkCheckController.js';
import { createDesktopClient } from '../../renderer/src/desktop.js';
import { createAppStore, selectScreen } from '../../renderer/src/store/index.js';
import { FakeClock } from '../support/fakeClock.js';

const CONFIG: NetworkCheckConfig = {
  server: 'https://calls.example.com',
  healthUrl: 'https://calls.example.com/healthz',
  signalingUrl: 'wss://calls.example.com/v1/signal',
  iceServers: [
    { urls: 'stun:turn.example.com:3478' },
    {
      urls: ['turn:turn.example.com:3478?transport=udp', 'turn:turn.example.com:3478?transport=tcp', 'turns:turn.example.com:443?transport=tcp'],
      username: '1700000000:check-session-id',
      credential: 'c2VjcmV0LWNyZWRlbnRpYWw=',
    },
  ],
};

const PUBLIC_ADDRESS = '203.0.113.57';

// --- The fake network -----------------------------------------------------------------------------

/**
 * How each server answers: `answer` after `ms`, `silent` never (dropped packets; Chromium reports
 * nothing for a dropped TCP SYN and 701 only after ~40 s for UDP), `error` with a STUN/TURN code.
 */
type Probe = { kind: 'answer'; ms: number } | { kind: 'silent' } | { kind: 'error'; code: number; ms: number } | { kind: 'no-nat'; ms: number };

interface Network {
  http: { kind: 'answer'; ms: number; status: number } | { kind: 'silent' } | { kind: 'refused'; ms: number } | { kind: 'cors-refused'; ms: number };
  socket: { kind: 'answer'; ms: number } | { kind: 'silent' } | { kind: 'refused'; ms: number };
  stun: Probe;
  udp: Probe;
  tcp: Probe;
  tls: Probe;
  /** The test call through TLS: how long ICE+DTLS take, the round trip, bytes per ms it carries. */
  loopback: { kind: 'connects'; ms: number; rttS: number; bytesPerMs: number } | { kind: 'fails'; ms: number };
}

const OPEN: Network = {
  http: { kind: 'answer', ms: 20, status: 200 },
  socket: { kind: 'answer', ms: 15 },
  stun: { kind: 'answer', ms: 12 },
  udp: { kind: 'answer', ms: 60 },
  tcp: { kind: 'answer', ms: 65 },
  tls: { kind: 'answer', ms: 70 },
  loopback: { kind: 'connects', ms: 150, rttS: 0.012, bytesPerMs: 375 },
};
const UDP_BLOCKED: Network = { ...OPEN, stun: { kind: 'silent' }, udp: { kind: 'silent' }, tcp: { kind: 'silent' } };
const ALL_BLOCKED: Network = { ...UDP_BLOCKED, tls: { kind: 'silent' } };

let clock: FakeClock;
let net: Network;
const created: FakePeerConnection[] = [];
const sockets: FakeSocket[] = [];

function later(ms: number, fn: () => void): void {
  clock.setTimeout(fn, ms);
}

function event<T extends object>(type: string, props: T): Event & T {
  return Object.assign(new Event(type), props);
}

let candidateSeq = 0;
function candidate(type: string, address: string, port: number, relayProtocol: string | null = null) {
  return {
    type,
    address,
    port,
    relayProtocol,
    candidate: `candidate:${++candidateSeq} 1 udp 100 ${address} ${port} typ ${type}`,
    toJSON: () => ({}),
  };
}

class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = 'blob';
  peer: FakeChannel | null = null;
  private queue: number[] = [];

  constructor(readonly label: string) {
    super();
  }

  open(): void {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }

  send(data: Uint8Array): void {
    if (this.readyState !== 'open') throw new Error('not open');
    this.bufferedAmount += data.byteLength;
    this.queue.push(data.byteLength);
  }

  private credit = 0;

  /** Lets `budget` more bytes through to the peer, as whole messages. */
  drain(budget: number): void {
    this.credit = this.queue.length ? this.credit + budget : 0;
    while (this.queue.length && this.queue[0]! <= this.credit) {
      const size = this.queue.shift()!;
      this.credit -= size;
      const before = this.bufferedAmount;
      this.bufferedAmount -= size;
      this.peer?.dispatchEvent(event('message', { data: new ArrayBuffer(size) }));
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold) {
        this.dispatchEvent(new Event('bufferedamountlow'));
      }
    }
  }

  close(): void {
    this.readyState = 'closed';
  }
}

class FakePeerConnection extends EventTarget {
  static byId = new Map<number, FakePeerConnection>();
  private static seq = 0;
  readonly id = ++FakePeerConnection.seq;
  readonly url: string;
  readonly username: string | undefined;
  readonly policy: RTCIceTransportPolicy;
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  closed = false;
  channel: FakeChannel | null = null;
  peer: FakePeerConnection | null = null;

  constructor(readonly config: RTCConfiguration) {
    super();
    const server = config.iceServers![0]!;
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    if (urls.length !== 1) throw new Error(`the check gives each peer connection one URL, not ${urls.length}`);
    this.url = urls[0]!;
    this.username = server.username;
    this.policy = config.iceTransportPolicy ?? 'all';
    FakePeerConnection.byId.set(this.id, this);
    created.push(this);
  }

  private get probe(): Probe {
    if (this.url.startsWith('stun:')) return net.stun;
    if (this.url.startsWith('turns:')) return net.tls;
    return this.url.endsWith('transport=tcp') ? net.tcp : net.udp;
  }

  private emit(type: string, props: object): void {
    if (!this.closed) this.dispatchEvent(event(type, props));
  }

  createDataChannel(label: string): FakeChannel {
    this.channel = new FakeChannel(label);
    return this.channel;
  }

  async createOffer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'offer', sdp: `fake-offer:${this.id}` };
  }

  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    return { type: 'answer', sdp: `fake-answer:${this.id}` };
  }

  async setLocalDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.localDescription = d;
    this.gather();
  }

  async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.remoteDescription = d;
    this.peer = FakePeerConnection.byId.get(Number(d.sdp!.split(':')[1])) ?? null;
    if (d.type === 'answer' && this.peer) this.connectLater();
  }

  async addIceCandidate(): Promise<void> {
    if (!this.remoteDescription) throw new Error('no remote description');
  }

  private gather(): void {
    const probe = this.probe;
    const host = () => this.emit('icecandidate', { candidate: candidate('host', 'c0ffee.local', 50000) });
    if (this.policy === 'all') later(1, host);
    if (probe.kind === 'silent') return;
    if (probe.kind === 'error') {
      later(probe.ms, () => {
        this.emit('icecandidateerror', { errorCode: probe.code, errorText: 'fake error', url: this.url });
        this.emit('icecandidate', { candidate: null });
      });
      return;
    }
    later(probe.ms, () => {
      if (this.url.startsWith('stun:')) {
        if (probe.kind === 'answer') this.emit('icecandidate', { candidate: candidate('srflx', PUBLIC_ADDRESS, 40000) });
      } else {
        const relayProtocol = this.url.startsWith('turns:') ? 'tls' : this.url.endsWith('tcp') ? 'tcp' : null;
        this.emit('icecandidate', { candidate: candidate('relay', '198.51.100.1', 50000 + this.id, relayProtocol) });
      }
      later(50, () => this.emit('icecandidate', { candidate: null }));
    });
  }

  /** The offerer, once it has the answer: both sides connect, the channel opens on both. */
  private connectLater(): void {
    const other = this.peer!;
    const loop = net.loopback;
    later(loop.ms, () => {
      if (this.closed || other.closed) return;
      const state = loop.kind === 'connects' ? 'connected' : 'failed';
      for (const pc of [this, other]) {
        pc.connectionState = state;
        pc.emit('connectionstatechange', {});
      }
      if (loop.kind !== 'connects' || !this.channel) return;
      const remote = new FakeChannel(this.channel.label);
      this.channel.peer = remote;
      remote.readyState = 'open';
      other.emit('datachannel', { channel: remote });
      this.channel.open();
      const pump = () => {
        if (this.closed) return;
        this.channel!.drain(loop.bytesPerMs * 10);
        later(10, pump);
      };
      later(10, pump);
    });
  }

  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    const rtt = net.loopback.kind === 'connects' ? net.loopback.rttS : 0;
    return new Map<string, Record<string, unknown>>([
      ['T1', { id: 'T1', type: 'transport', dtlsState: this.connectionState === 'connected' ? 'connected' : 'new', selectedCandidatePairId: 'P1', dtlsCipher: 'TLS_AES_128_GCM_SHA256', tlsVersion: 'FEFC' }],
      ['P1', { id: 'P1', type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: rtt }],
    ]);
  }

  close(): void {
    this.closed = true;
    this.connectionState = 'closed';
  }
}

class FakeSocket extends EventTarget {
  readonly sent: string[] = [];
  closed = false;

  constructor(readonly url: string) {
    super();
    sockets.push(this);
    const s = net.socket;
    if (s.kind === 'answer') later(s.ms, () => !this.closed && this.dispatchEvent(new Event('open')));
    if (s.kind === 'refused') {
      later(s.ms, () => {
        this.dispatchEvent(new Event('error'));
        this.dispatchEvent(event('close', { code: 1006 }));
      });
    }
  }

  send(data: string): void {
    this.sent.push(data);
    const msg = JSON.parse(data) as { type: string; id: number };
    if (msg.type === 'ping' && net.socket.kind === 'answer') {
      // As the signaling server answers a socket that has not joined.
      const answer = { type: 'error', code: 'not-joined', message: 'join a room first', fatal: false };
      later(net.socket.ms / 3, () => !this.closed && this.dispatchEvent(event('message', { data: JSON.stringify(answer) })));
    }
  }

  close(): void {
    this.closed = true;
  }
}

const fetches: { url: string; mode: RequestMode | undefined }[] = [];
function fakeFetch(url: string, init?: RequestInit): Promise<Response> {
  fetches.push({ url, mode: init?.mode });
  const h = net.http;
  return new Promise((resolve, reject) => {
    init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
    if (h.kind === 'answer') later(h.ms, () => resolve({ ok: h.status < 400, status: h.status, type: 'cors' } as Response));
    if (h.kind === 'refused') later(h.ms, () => reject(new TypeError('Failed to fetch')));
    if (h.kind === 'cors-refused') {
      later(h.ms, () => (init?.mode === 'no-cors' ? resolve({ ok: false, status: 0, type: 'opaque' } as Response) : reject(new TypeError('Failed to fetch'))));
    }
  });
}

function deps(extra: Partial<NetworkCheckDeps> = {}): NetworkCheckDeps {
  return {
    RTCPeerConnection: FakePeerConnection as unknown as NetworkCheckDeps['RTCPeerConnection'],
    WebSocket: FakeSocket as unknown as NetworkCheckDeps['WebSocket'],
    fetch: fakeFetch,
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    wallNow: () => Date.UTC(2030, 0, 1) + clock.now(),
    ...extra,
  };
}

/** Drives the manual clock in 10 ms steps, letting promises settle in between, until `work` ends. */
async function drive<T>(work: Promise<T>, limitMs = 60_000): Promise<{ value: T; elapsedMs: number }> {
  const start = clock.now();
  let settled = false;
  let value!: T;
  void work.then((v) => {
    settled = true;
    value = v;
  });
  while (!settled) {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    if (settled) break;
    if (clock.now() - start > limitMs) throw new Error(`still running after ${limitMs} ms of fake time`);
    clock.advance(10);
  }
  return { value, elapsedMs: clock.now() - start };
}

async function check(network: Network, config = CONFIG, extra: Partial<NetworkCheckDeps> = {}) {
  net = network;
  const updates: NetworkCheckResult[] = [];
  const { value, elapsedMs } = await drive(runNetworkCheck(config, deps({ onUpdate: (r) => updates.push(r), ...extra })));
  const step = (id: CheckStep['id']) => value.result.steps.find((s) => s.id === id)!;
  return { ...value, elapsedMs, updates, step };
}

function setup(): void {
  clock = new FakeClock();
  created.length = 0;
  sockets.length = 0;
  fetches.length = 0;
}

afterEach(() => {
  // Every probe is closed when the check ends, whatever happened.
  expect(created.filter((pc) => !pc.closed)).toEqual([]);
  expect(sockets.filter((s) => !s.closed)).toEqual([]);
});

// --- Tests ----------------------------------------------------------------------------------------

describe('network check on an open network', () => {
  it('passes every step, measures them, and recommends Auto with nothing to ask an administrator', async () => {
    setup();
    const { result, publicAddress, step, elapsedMs, updates } = await check(OPEN);
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ['https', 'passed'],
      ['wss', 'passed'],
      ['stun', 'passed'],
      ['turn-udp', 'passed'],
      ['turn-tcp', 'passed'],
      ['turn-tls', 'passed'],
      ['loopback', 'passed'],
    ]);
    expect(result.steps.map((s) => s.label)).toEqual([
      'Signaling server over HTTPS',
      'Signaling socket (WSS)',
      'STUN (UDP 3478)',
      'TURN over UDP 3478',
      'TURN over TCP 3478',
      'TURN over TLS 443',
      'Test call through TURN over TLS 443',
    ]);
    expect(step('https').ms).toBe(20);
    expect(step('wss').ms).toBe(5); // the ping's round trip, after the socket opened
    expect(step('turn-udp').ms).toBe(60);
    expect(step('turn-tls').detail).toContain('relayProtocol tls');
    const loopback = step('loopback');
    expect(loopback.ms).toBe(150);
    expect(loopback.rttMs).toBe(12);
    // 375 bytes per ms is 3000 kbit/s.
    expect(loopback.kbitPerSecond).toBeGreaterThan(2700);
    expect(loopback.kbitPerSecond).toBeLessThanOrEqual(3000);
    expect(loopback.verdict).toMatch(/^Works — an encrypted test call connected in 150 ms: round trip 12 ms, 2,\d{3} kbit\/s\.$/);
    expect(loopback.detail).toContain('TLS_AES_128_GCM_SHA256');
    // Probes run side by side, then the ~3 s test call.
    expect(elapsedMs).toBeLessThan(3_700);

    expect(result.summary).toMatchObject({ outcome: 'good', policy: 'auto', advice: null, headline: 'Calls will work on this network.' });
    expect(result.summary!.policyText).toMatch(/^ZeroRange will use: Auto/);
    expect(result.summary!.paths.every((p) => p.works)).toBe(true);
    expect(result.startedAt).toBe('2030-01-01T00:00:00.000Z');
    expect(result.finishedAt).not.toBeNull();

    // The public address is the user's: masked in the result, given to the caller apart.
    expect(publicAddress).toBe(PUBLIC_ADDRESS);
    expect(step('stun').verdict).toContain('203.0.x.x');
    expect(JSON.stringify(result)).not.toContain(PUBLIC_ADDRESS);
    expect(JSON.stringify(updates)).not.toContain(PUBLIC_ADDRESS);

    // Progress went out step by step: running, then the outcome.
    expect(updates[0]!.steps.every((s) => s.status === 'pending')).toBe(true);
    expect(updates.some((u) => u.steps.find((s) => s.id === 'loopback')!.status === 'running')).toBe(true);
    // Each TURN probe had one URL and its credentials, relay-only; STUN had no credentials.
    const turnPcs = created.filter((pc) => pc.url.startsWith('turn'));
    expect(turnPcs.every((pc) => pc.policy === 'relay' && pc.username === '1700000000:check-session-id')).toBe(true);
    expect(created.find((pc) => pc.url.startsWith('stun:'))!.username).toBeUndefined();
    // The test call used TURN over TLS only.
    expect(created.slice(-2).map((pc) => pc.url)).toEqual(['turns:turn.example.com:443?transport=tcp', 'turns:turn.example.com:443?transport=tcp']);
    // The socket was pinged, never joined.
    expect(sockets[0]!.sent.map((m) => (JSON.parse(m) as { type: string }).type)).toEqual(['ping']);
  });

  it('passes STUN without a public address when the network does no NAT (no srflx, gathering completes)', async () => {
    setup();
    const { step, publicAddress } = await check({ ...OPEN, stun: { kind: 'no-nat', ms: 12 } });
    expect(step('stun')).toMatchObject({ status: 'passed', blocked: false });
    expect(step('stun').verdict).toMatch(/not translated/);
    expect(publicAddress).toBeNull();
  });

  it('reads /healthz without CORS from a server that does not allow it', async () => {
    setup();
    const { step } = await check({ ...OPEN, http: { kind: 'cors-refused', ms: 10 } });
    expect(step('https').status).toBe('passed');
    expect(step('https').detail).toContain('status not readable');
    expect(fetches.map((f) => f.mode)).toEqual(['cors', 'no-cors', 'no-cors']);
  });
});

describe('network check on a network that blocks UDP but lets TLS 443 out', () => {
  it('reports UDP and TCP 3478 blocked, TLS working, and recommends relay over TLS 443', async () => {
    setup();
    const { result, step, elapsedMs, publicAddress } = await check(UDP_BLOCKED);
    for (const id of ['stun', 'turn-udp', 'turn-tcp'] as const) {
      expect(step(id)).toMatchObject({ status: 'failed', blocked: true, ms: 5_000 });
      expect(statusText(step(id))).toBe('Blocked');
    }
    expect(step('turn-udp').verdict).toBe('Blocked — no answer from the TURN server (turn.example.com on UDP 3478) within 5 s.');
    expect(step('turn-tcp').verdict).toBe('Blocked — no answer from the TURN server (turn.example.com on TCP 3478) within 5 s.');
    expect(step('turn-tls').status).toBe('passed');
    expect(step('loopback').status).toBe('passed');
    expect(publicAddress).toBeNull();
    // One 5 s deadline for all the probes (side by side), then the test call.
    expect(elapsedMs).toBeGreaterThanOrEqual(8_000);
    expect(elapsedMs).toBeLessThan(8_700);

    const summary = result.summary!;
    expect(summary.outcome).toBe('limited');
    expect(summary.policy).toBe('relay-tls');
    expect(summary.headline).toBe('Calls will work only through TURN over TLS on port 443: UDP and TCP 3478 are blocked on this network.');
    expect(summary.policyText).toBe('ZeroRange will use: Relay over TLS 443 only.');
    expect(summary.advice).toBe(
      'Calls work over TCP 443. For better call quality, ask your network administrator to allow UDP 3478 and UDP 49152–65535 to turn.example.com.',
    );
    expect(summary.paths.filter((p) => p.works).map((p) => p.name)).toEqual(['Signaling (TCP 443 to calls.example.com)', 'TURN over TLS 443']);
  });

  it('recommends Auto (relayed over TCP) when only UDP is blocked', async () => {
    setup();
    const { result } = await check({ ...OPEN, stun: { kind: 'silent' }, udp: { kind: 'silent' } });
    expect(result.summary).toMatchObject({ outcome: 'limited', policy: 'auto' });
    expect(result.summary!.headline).toMatch(/relayed over TCP 3478: UDP is blocked/);
    expect(result.summary!.advice).toContain('allow UDP 3478 and UDP 49152–65535 to turn.example.com');
  });
});

describe('network check on a closed network', () => {
  it('reports every media path blocked, skips the test call, and names host and ports to allow', async () => {
    setup();
    const { result, step } = await check(ALL_BLOCKED);
    expect(step('https').status).toBe('passed');
    expect(step('turn-tls')).toMatchObject({ status: 'failed', blocked: true });
    expect(step('loopback')).toMatchObject({ status: 'skipped', verdict: 'Skipped — needs TURN over TLS, which did not work.' });
    expect(result.summary).toMatchObject({
      outcome: 'blocked',
      policy: null,
      headline: 'Calls cannot connect from this network: every way to the relay server is blocked.',
      advice: 'Ask your network administrator to allow UDP 3478 and UDP 49152–65535 to turn.example.com, or TCP 443 to turn.example.com.',
    });
    expect(result.summary!.paths.map((p) => p.works)).toEqual([true, false, false, false, false]);
  });

  it('says the server itself cannot be reached when HTTPS and the socket are blocked', async () => {
    setup();
    const { result, step } = await check({ ...ALL_BLOCKED, http: { kind: 'silent' }, socket: { kind: 'silent' } });
    expect(step('https')).toMatchObject({ status: 'failed', blocked: true, ms: 5_000 });
    expect(step('https').verdict).toBe('Blocked — no answer from calls.example.com on TCP 443 within 5 s.');
    expect(step('wss').verdict).toMatch(/^Blocked — cannot open a WebSocket to calls\.example\.com on TCP 443/);
    expect(result.summary!.outcome).toBe('blocked');
    expect(result.summary!.headline).toMatch(/cannot reach its server/);
    expect(result.summary!.advice).toBe(
      'Ask your network administrator to allow HTTPS and WebSocket connections (TCP 443) to calls.example.com, and UDP 3478 and UDP 49152–65535 to turn.example.com, or TCP 443 to turn.example.com.',
    );
  });
});

describe('network check timeouts and errors', () => {
  it('gives up on probes that never answer at their deadline (a relay-only connection with nothing stays new for ever)', async () => {
    setup();
    const { step, elapsedMs } = await check({ ...OPEN, tcp: { kind: 'silent' }, tls: { kind: 'silent' } }, CONFIG, {
      timeouts: { turnMs: 2_000, tlsMs: 3_000 },
    });
    expect(step('turn-udp').status).toBe('passed');
    expect(step('turn-tcp')).toMatchObject({ status: 'failed', blocked: true, ms: 2_000 });
    expect(step('turn-tcp').detail).toBe('turn:turn.example.com:3478?transport=tcp: no relay candidate and no error within 2 s');
    expect(step('turn-tls')).toMatchObject({ status: 'failed', blocked: true, ms: 3_000 });
    expect(step('loopback').status).toBe('skipped');
    expect(elapsedMs).toBeGreaterThanOrEqual(3_000);
    expect(elapsedMs).toBeLessThan(3_200);
  });

  it('fails fast on an error: 701 (refused) is blocked, 401 is a credential problem, not the network', async () => {
    setup();
    const { step, result } = await check({ ...OPEN, tcp: { kind: 'error', code: 701, ms: 120 }, udp: { kind: 'error', code: 401, ms: 30 } });
    expect(step('turn-tcp')).toMatchObject({ status: 'failed', blocked: true, ms: 120 });
    expect(step('turn-tcp').verdict).toBe('Blocked — the TURN server (turn.example.com on TCP 3478) cannot be reached.');
    expect(step('turn-udp')).toMatchObject({ status: 'failed', blocked: false, ms: 30 });
    expect(step('turn-udp').verdict).toMatch(/refused this app’s credentials \(error 401\)/);
    expect(statusText(step('turn-udp'))).toBe('Failed');
    // TLS still works: the calls go that way.
    expect(result.summary!.policy).toBe('relay-tls');
  });

  it('fails the test call when it does not connect, and then does not count TLS as working', async () => {
    setup();
    const { step, result } = await check({ ...UDP_BLOCKED, loopback: { kind: 'fails', ms: 400 } });
    expect(step('turn-tls').status).toBe('passed');
    expect(step('loopback')).toMatchObject({ status: 'failed', ms: 400 });
    expect(result.summary).toMatchObject({ outcome: 'blocked', policy: null });
  });

  it('stops when asked: probes closed, the rest skipped, no summary', async () => {
    setup();
    const abort = new AbortController();
    net = UDP_BLOCKED;
    const run = runNetworkCheck(CONFIG, deps({ signal: abort.signal }));
    clock.setTimeout(() => abort.abort(), 1_000);
    const { value, elapsedMs } = await drive(run);
    expect(elapsedMs).toBeLessThan(1_100);
    expect(value.result.summary).toBeNull();
    expect(value.result.steps.filter((s) => s.status === 'skipped').map((s) => s.id)).toEqual(['stun', 'turn-udp', 'turn-tcp', 'loopback']);
  });

  it('reports a probe that cannot even start (the browser refuses its configuration) as failed, not blocked', async () => {
    setup();
    class Refusing extends FakePeerConnection {
      constructor(config: RTCConfiguration) {
        const urls = config.iceServers![0]!.urls;
        if (String(urls).startsWith('turns:')) throw new DOMException('bad URL', 'SyntaxError');
        super(config);
      }
    }
    const { step } = await check(OPEN, CONFIG, { RTCPeerConnection: Refusing as unknown as NetworkCheckDeps['RTCPeerConnection'] });
    expect(step('turn-tls')).toMatchObject({ status: 'failed', blocked: false, verdict: 'This app could not run this step.', detail: 'SyntaxError: bad URL' });
    expect(step('turn-udp').status).toBe('passed');
    expect(step('loopback').status).toBe('skipped');
  });

  it('skips what the server does not offer', async () => {
    setup();
    const onlyStunAndUdp: NetworkCheckConfig = {
      ...CONFIG,
      iceServers: [{ urls: 'stun:turn.example.com:3478' }, { urls: 'turn:turn.example.com:3478?transport=udp', username: 'u', credential: 'c' }],
    };
    const { step, result } = await check(OPEN, onlyStunAndUdp);
    expect(step('turn-tcp').status).toBe('skipped');
    expect(step('turn-tls').verdict).toBe('Skipped — the server offers no TURN over TLS.');
    expect(step('loopback').status).toBe('skipped');
    expect(result.summary).toMatchObject({ outcome: 'good', policy: 'auto', advice: null });
  });
});

describe('summary and words', () => {
  const steps = (statuses: Partial<Record<CheckStep['id'], CheckStep['status']>>): CheckStep[] =>
    (['https', 'wss', 'stun', 'turn-udp', 'turn-tcp', 'turn-tls', 'loopback'] as const).map((id) => ({
      id,
      label: id,
      status: statuses[id] ?? 'passed',
      ms: 1,
      detail: null,
      verdict: '',
      blocked: false,
      rttMs: null,
      kbitPerSecond: null,
    }));

  it('names the TLS host when it differs from the TURN host', () => {
    const config: NetworkCheckConfig = {
      ...CONFIG,
      iceServers: [
        { urls: ['turn:198.51.100.1:3478?transport=udp', 'turns:turn.example.com:443?transport=tcp'], username: 'u', credential: 'c' },
      ],
    };
    const summary = summarize(steps({ 'turn-udp': 'failed', 'turn-tcp': 'skipped', 'turn-tls': 'failed', loopback: 'skipped' }), config);
    expect(summary.advice).toBe('Ask your network administrator to allow UDP 3478 and UDP 49152–65535 to 198.51.100.1, or TCP 443 to turn.example.com.');
  });

  it('mentions a failing TLS path even when UDP works', () => {
    const summary = summarize(steps({ 'turn-tls': 'failed', loopback: 'skipped' }), CONFIG);
    expect(summary.outcome).toBe('good');
    expect(summary.advice).toMatch(/TURN over TLS 443 did not.*TCP 443 to turn\.example\.com/);
  });

  it('masks addresses', () => {
    expect(maskAddress('203.0.113.57')).toBe('203.0.x.x');
    expect(maskAddress('2001:db8:1234:5678::1')).toBe('2001:db8:…');
  });
});

describe('network check in the store', () => {
  function harness(state: Partial<DesktopState> = {}) {
    const calls: [string, unknown[]][] = [];
    let desktopState: DesktopState = {
      server: null,
      user: { sub: 'alice', name: 'Alice Anders', email: null, username: 'alice' },
      signingIn: false,
      tokenStorage: 'memory',
      tokenStorageNote: null,
      knownServers: [],
      networkPolicy: 'auto',
      restrictiveNetwork: false,
      ...state,
    };
    const api = {
      networkCheckConfig: async () => (calls.push(['networkCheckConfig', []]), { ok: true, value: CONFIG }),
      rememberNetwork: async (restrictive: boolean) => {
        calls.push(['rememberNetwork', [restrictive]]);
        desktopState = { ...desktopState, restrictiveNetwork: restrictive };
        return { ok: true, value: desktopState };
      },
    } as unknown as DesktopApi;
    const store = createAppStore(api);
    store.setState((s) => ({ session: { ...s.session, startup: 'ready', desktop: desktopState } }));
    const controller = new NetworkCheckController({
      store,
      desktop: createDesktopClient(api),
      RTCPeerConnection: FakePeerConnection as unknown as NetworkCheckDeps['RTCPeerConnection'],
      WebSocket: FakeSocket as unknown as NetworkCheckDeps['WebSocket'],
      fetch: fakeFetch,
      clock: { now: clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
    });
    return { store, controller, calls };
  }

  it('keeps the finished run as latest (without the public address) and remembers a TLS-only network', async () => {
    setup();
    net = UDP_BLOCKED;
    const { store, controller, calls } = harness();
    const updates: string[] = [];
    store.subscribe((s) => updates.push(s.networkCheck.status));
    await drive(controller.run());
    expect(updates).toContain('running');
    expect(store.getState().networkCheck.current?.steps.every((s) => s.status !== 'running')).toBe(true);
    const { networkCheck, session } = store.getState();
    expect(networkCheck.status).toBe('done');
    expect(networkCheck.latest?.summary?.policy).toBe('relay-tls');
    expect(calls).toContainEqual(['rememberNetwork', [true]]);
    expect(session.desktop?.restrictiveNetwork).toBe(true);
    expect(networkCheck.publicAddress).toBeNull();
  });

  it('keeps the public address apart from latest, and Back (stop) mid-run puts the last finished run back', async () => {
    setup();
    net = OPEN;
    const { store, controller, calls } = harness();
    await drive(controller.run());
    const first = store.getState().networkCheck;
    expect(first.publicAddress).toBe(PUBLIC_ADDRESS);
    expect(JSON.stringify(first.latest)).not.toContain(PUBLIC_ADDRESS);
    // UDP works and the network was not restrictive: nothing to remember.
    expect(calls.filter(([n]) => n === 'rememberNetwork')).toEqual([]);

    const again = controller.run();
    await drive(new Promise((r) => clock.setTimeout(() => r(null), 500)));
    expect(store.getState().networkCheck.status).toBe('running');
    controller.stop();
    await drive(again);
    expect(store.getState().networkCheck).toMatchObject({ status: 'done', current: first.latest, latest: first.latest });
  });

  it('routes to the check from Home and from a joined room (pre-join), and Back returns there', () => {
    setup();
    const { store } = harness({ server: { origin: CONFIG.server, config: {} as never } });
    expect(selectScreen(store.getState())).toBe('home');
    store.getState().navigate('network-check');
    expect(selectScreen(store.getState())).toBe('network-check');
    store.setState((s) => ({ room: { ...s.room, status: 'joined' } }));
    expect(selectScreen(store.getState())).toBe('network-check');
    store.getState().navigate('main');
    expect(selectScreen(store.getState())).toBe('room');
  });

  it('shows why the check could not start', async () => {
    setup();
    const { store } = harness();
    const failing = new NetworkCheckController({
      store,
      desktop: createDesktopClient({
        networkCheckConfig: async () => ({ ok: false, error: { code: 'rate-limited', message: 'too many network checks; try again in a minute' } }),
      } as unknown as DesktopApi),
      RTCPeerConnection: FakePeerConnection as unknown as NetworkCheckDeps['RTCPeerConnection'],
      WebSocket: FakeSocket as unknown as NetworkCheckDeps['WebSocket'],
      fetch: fakeFetch,
    });
    await failing.run();
    expect(store.getState().networkCheck).toMatchObject({
      status: 'failed',
      error: { code: 'rate-limited', message: 'The network check could not start: too many network checks; try again in a minute' },
    });
  });
});
