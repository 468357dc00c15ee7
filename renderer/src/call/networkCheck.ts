import type { NetworkCheckConfig, NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { IceServer } from '../../../shared/protocol/index.js';
import { parseIceUrl, type IceUrl, type RelayTransport } from './iceUrl.js';
import { NETWORK_POLICY_LABELS } from './networkPolicy.js';
import { clockFrom, type Clock } from './timers.js';

/**
 * "Check my network": the paths a call needs, one at a time, in words a user and their network
 * administrator can act on. Everything outside (RTCPeerConnection, WebSocket, fetch, the clock) is
 * injected, so the logic runs against fakes in unit tests and against the real stack in the browser.
 *
 * What the machine facts say the probes must live with (Chromium): a relay-only connection that
 * gathers nothing stays `new` for ever, a dropped UDP TURN reports 701 only after ~40 s and a dropped
 * TCP SYN reports nothing at all, so every probe has a deadline and no answer by then is "blocked".
 * A TLS relay candidate arrives in ~70 ms when 443 is open.
 */

export type CheckStepId = 'https' | 'wss' | 'stun' | 'turn-udp' | 'turn-tcp' | 'turn-tls' | 'loopback';
export type CheckStatus = 'pending' | 'running' | 'passed' | 'failed' | 'skipped';

export interface CheckStep {
  id: CheckStepId;
  label: string;
  status: CheckStatus;
  /**
   * The step's time in ms, null until it ends: the round trip for HTTPS and the socket, the time to a
   * candidate for STUN and TURN, the time to an encrypted connection for the test call, and the time
   * until it gave up for a failed step.
   */
  ms: number | null;
  /** Technical detail for diagnostics (URLs, error codes, relay addresses). Never the user's public address. */
  detail: string | null;
  /** What the result means, in plain words. */
  verdict: string;
  /** Failed because nothing answered or the connection was refused: a firewall, not an error of ours. */
  blocked: boolean;
  /** The test call's round trip (candidate pair currentRoundTripTime), in ms. */
  rttMs: number | null;
  /** The test call's data channel throughput, in kbit/s. */
  kbitPerSecond: number | null;
}

export type CheckOutcome = 'good' | 'limited' | 'blocked';

export interface CheckPath {
  name: string;
  works: boolean;
}

export interface NetworkCheckSummary {
  outcome: CheckOutcome;
  /** The network setting calls will use here; null when nothing gets through. */
  policy: NetworkPolicy | null;
  headline: string;
  /** Each path a call may take, and whether it works from here. */
  paths: CheckPath[];
  /** Which setting ZeroRange uses, in words. */
  policyText: string;
  /** What to ask a network administrator for (host and ports), or null when nothing needs doing. */
  advice: string | null;
}

export interface NetworkCheckResult {
  /** The server checked (origin). */
  server: string;
  startedAt: string;
  finishedAt: string | null;
  steps: CheckStep[];
  /** Null while the check runs (and when it was stopped). */
  summary: NetworkCheckSummary | null;
}

export interface NetworkCheckTimeouts {
  /** Each HTTPS request. */
  httpMs: number;
  /** Opening the signaling socket and its ping. */
  socketMs: number;
  /** A server-reflexive candidate (or STUN's answer). */
  stunMs: number;
  /** A relay candidate over UDP or TCP 3478 (errors may never come). */
  turnMs: number;
  /** A relay candidate over TLS. */
  tlsMs: number;
  /** The test call, up to DTLS connected and the data channel open. */
  loopbackConnectMs: number;
  /** How long the test call sends data to measure throughput. */
  throughputMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<NetworkCheckTimeouts> = {
  httpMs: 5_000,
  socketMs: 5_000,
  stunMs: 5_000,
  turnMs: 5_000,
  tlsMs: 5_000,
  loopbackConnectMs: 8_000,
  throughputMs: 3_000,
};

/** The relay port range of our coturn template (min-port/max-port): where relayed media arrives. */
export const RELAY_PORT_RANGE = '49152–65535';

export interface NetworkCheckDeps extends Partial<Clock> {
  RTCPeerConnection: new (config?: RTCConfiguration) => RTCPeerConnection;
  WebSocket: new (url: string) => WebSocket;
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  /** Wall-clock time for startedAt/finishedAt; Date.now by default. */
  wallNow?: () => number;
  timeouts?: Partial<NetworkCheckTimeouts>;
  /** Called with a fresh snapshot whenever a step starts or ends. */
  onUpdate?: (result: NetworkCheckResult) => void;
  /** Stops the check: steps still to run are skipped, probes under way are closed. */
  signal?: AbortSignal;
}

export interface NetworkCheckRun {
  result: NetworkCheckResult;
  /** The user's public address as the STUN server saw it: for the user's eyes only, never in the result. */
  publicAddress: string | null;
}

// --- Plain words --------------------------------------------------------------------------------

const STATUS_WORDS: Readonly<Record<CheckStatus, string>> = {
  pending: 'Not run yet',
  running: 'Checking…',
  passed: 'Works',
  failed: 'Failed',
  skipped: 'Skipped',
};

/** A step's status in words (never colour alone). */
export function statusText(step: Pick<CheckStep, 'status' | 'blocked'>): string {
  return step.status === 'failed' && step.blocked ? 'Blocked' : STATUS_WORDS[step.status];
}

/** `12 ms`, `4.2 s`, or `—`. */
export function formatMs(ms: number | null): string {
  if (ms == null) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** Hides most of an address (IPv4: the last two parts; IPv6: all but the first two groups). */
export function maskAddress(address: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(address);
  if (v4) return `${v4[1]}.${v4[2]}.x.x`;
  if (address.includes(':')) {
    const groups = address.replace(/^\[|\]$/g, '').split(':').filter(Boolean);
    return `${groups.slice(0, 2).join(':')}:…`;
  }
  return '(hidden)';
}

// --- Which URL each step uses ---------------------------------------------------------------------

interface Target {
  url: string;
  parsed: IceUrl;
  username?: string;
  credential?: string;
}

function targets(servers: IceServer[]): Target[] {
  const out: Target[] = [];
  for (const server of servers) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      const parsed = parseIceUrl(url);
      if (!parsed) continue;
      out.push({
        url,
        parsed,
        ...(server.username !== undefined && { username: server.username }),
        ...(server.credential !== undefined && { credential: server.credential }),
      });
    }
  }
  return out;
}

const stunTarget = (servers: IceServer[]) => targets(servers).find((t) => t.parsed.scheme === 'stun');
const relayTarget = (servers: IceServer[], relay: RelayTransport) =>
  targets(servers).find((t) => t.parsed.relay === relay && (relay !== 'tls' || t.parsed.scheme === 'turns'));

const RELAY_NAMES: Readonly<Record<RelayTransport, string>> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };
const DEFAULT_PORTS: Readonly<Record<RelayTransport, number>> = { udp: 3478, tcp: 3478, tls: 443 };

function hostPort(url: string): { host: string; port: string; scheme: string } {
  try {
    const u = new URL(url);
    const scheme = u.protocol.replace(':', '');
    const port = u.port || (scheme === 'https' || scheme === 'wss' ? '443' : '80');
    return { host: u.hostname, port, scheme };
  } catch {
    return { host: url, port: '?', scheme: '?' };
  }
}

function initialSteps(config: NetworkCheckConfig): CheckStep[] {
  const http = hostPort(config.healthUrl).scheme.toUpperCase();
  const socket = hostPort(config.signalingUrl).scheme.toUpperCase();
  const port = (relay: RelayTransport) => relayTarget(config.iceServers, relay)?.parsed.port ?? DEFAULT_PORTS[relay];
  const stunPort = stunTarget(config.iceServers)?.parsed.port ?? 3478;
  const step = (id: CheckStepId, label: string): CheckStep => ({
    id,
    label,
    status: 'pending',
    ms: null,
    detail: null,
    verdict: '',
    blocked: false,
    rttMs: null,
    kbitPerSecond: null,
  });
  return [
    step('https', `Signaling server over ${http}`),
    step('wss', `Signaling socket (${socket})`),
    step('stun', `STUN (UDP ${stunPort})`),
    step('turn-udp', `TURN over UDP ${port('udp')}`),
    step('turn-tcp', `TURN over TCP ${port('tcp')}`),
    step('turn-tls', `TURN over TLS ${port('tls')}`),
    step('loopback', `Test call through TURN over TLS ${port('tls')}`),
  ];
}

type StepResult = Partial<Omit<CheckStep, 'id' | 'label'>> & Pick<CheckStep, 'status' | 'verdict'>;

// --- Waiting with a deadline ----------------------------------------------------------------------

/**
 * Resolves with what `start` hands to `done`, or with `onTimeout()` after `ms`, or with `onTimeout()`
 * when `signal` aborts; `start` returns its cleanup, which runs exactly once, whichever came first.
 * Rejects when `start` throws (a constructor refusing its configuration, no WebRTC).
 */
function withDeadline<T>(
  clock: Clock,
  ms: number,
  onTimeout: () => T,
  start: (done: (value: T) => void) => () => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let cleanup: (() => void) | null = null;
    const done = (value: T) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup?.();
      resolve(value);
    };
    const onAbort = () => done(onTimeout());
    const timer = clock.setTimeout(() => done(onTimeout()), ms);
    signal?.addEventListener('abort', onAbort);
    try {
      const c = start(done);
      if (settled) c();
      else cleanup = c;
    } catch (err) {
      settled = true;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (signal?.aborted) onAbort();
  });
}

function safeClose(pc: RTCPeerConnection): void {
  try {
    pc.close();
  } catch {
    // already closed
  }
}

function candidateAddress(c: RTCIceCandidate): { address: string | null; port: number | null } {
  if (c.address) return { address: c.address, port: c.port ?? null };
  // candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> …
  const parts = c.candidate.split(' ');
  return { address: parts[4] ?? null, port: parts[5] ? Number(parts[5]) : null };
}

// --- The steps ------------------------------------------------------------------------------------

async function checkHttps(url: string, clock: Clock, fetchImpl: NetworkCheckDeps['fetch'], timeoutMs: number, signal?: AbortSignal): Promise<StepResult> {
  const { host, port } = hostPort(url);
  const request = async (mode: RequestMode): Promise<{ ms: number; res: Response }> => {
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort);
    const timer = clock.setTimeout(() => abort.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
    const start = clock.now();
    try {
      const res = await fetchImpl(url, { method: 'GET', mode, cache: 'no-store', credentials: 'omit', signal: abort.signal });
      return { ms: clock.now() - start, res };
    } finally {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  };
  const started = clock.now();
  let mode: RequestMode = 'cors';
  let first: { ms: number; res: Response };
  try {
    try {
      first = await request(mode);
    } catch (err) {
      // A server that does not allow reading /healthz from our origin: reachability is still measurable.
      if (!(err instanceof TypeError) || signal?.aborted) throw err;
      mode = 'no-cors';
      first = await request(mode);
    }
  } catch (err) {
    const ms = clock.now() - started;
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return {
      status: 'failed',
      ms,
      blocked: true,
      detail: `GET ${url}: ${timedOut ? `no answer within ${seconds(timeoutMs)}` : err instanceof Error ? err.message : String(err)}`,
      verdict: timedOut
        ? `Blocked — no answer from ${host} on TCP ${port} within ${seconds(timeoutMs)}.`
        : `Blocked — cannot connect to ${host} on TCP ${port} (refused, blocked by a firewall or proxy, or the server is down).`,
    };
  }
  const opaque = first.res.type === 'opaque';
  if (!opaque && !first.res.ok) {
    return {
      status: 'failed',
      ms: first.ms,
      detail: `GET ${url}: HTTP ${first.res.status}`,
      verdict: `The server answered, but with an error (HTTP ${first.res.status}): it may be restarting or misconfigured.`,
    };
  }
  // The second request reuses the connection: its time is close to one round trip.
  let rtt = first.ms;
  try {
    rtt = Math.min(rtt, (await request(mode)).ms);
  } catch {
    // the first one answered: that is enough
  }
  return {
    status: 'passed',
    ms: rtt,
    detail: `GET ${url}: ${opaque ? 'answered (status not readable from the app)' : `HTTP ${first.res.status}`}; ${Math.round(first.ms)} ms with connection set-up, then ${Math.round(rtt)} ms`,
    verdict: `Works — the server answers in ${formatMs(rtt)}.`,
  };
}

async function checkSocket(url: string, clock: Clock, WebSocketImpl: NetworkCheckDeps['WebSocket'], timeoutMs: number, signal?: AbortSignal): Promise<StepResult> {
  const { host, port } = hostPort(url);
  const started = clock.now();
  let openedAt: number | null = null;
  const pingId = Math.floor(Math.random() * 1e9);
  const failed = (how: string): StepResult => ({
    status: 'failed',
    ms: clock.now() - started,
    blocked: true,
    detail: `${url}: ${how}`,
    verdict: `Blocked — cannot open a WebSocket to ${host} on TCP ${port} (a firewall or proxy may not allow WebSockets).`,
  });
  return withDeadline<StepResult>(
    clock,
    timeoutMs,
    () =>
      openedAt === null
        ? failed(`not open within ${seconds(timeoutMs)}`)
        : {
            status: 'passed',
            ms: openedAt - started,
            detail: `${url}: open in ${Math.round(openedAt - started)} ms; no answer to ping within ${seconds(timeoutMs)}`,
            verdict: 'Works — the socket opens, though the server was slow to answer.',
          },
    (done) => {
      const ws = new WebSocketImpl(url);
      ws.addEventListener('open', () => {
        openedAt = clock.now();
        ws.send(JSON.stringify({ type: 'ping', id: pingId }));
      });
      ws.addEventListener('message', (event: MessageEvent) => {
        let msg: unknown;
        try {
          msg = JSON.parse(String(event.data));
        } catch {
          return;
        }
        const m = msg as { type?: unknown; id?: unknown };
        if (m.type !== 'pong' || m.id !== pingId || openedAt === null) return;
        const rtt = clock.now() - openedAt;
        done({
          status: 'passed',
          ms: rtt,
          detail: `${url}: open in ${Math.round(openedAt - started)} ms; ping answered in ${Math.round(rtt)} ms`,
          verdict: `Works — the socket opens and answers in ${formatMs(rtt)}.`,
        });
      });
      ws.addEventListener('error', () => {
        if (openedAt === null) done(failed('the connection failed'));
      });
      ws.addEventListener('close', (event: CloseEvent) => {
        if (openedAt === null) done(failed(`closed before it opened (code ${event.code})`));
      });
      return () => {
        try {
          ws.close(1000, 'network check');
        } catch {
          // closing a socket that never opened
        }
      };
    },
    signal,
  );
}

interface StunResult {
  step: StepResult;
  publicAddress: string | null;
}

async function checkStun(config: NetworkCheckConfig, clock: Clock, deps: NetworkCheckDeps, timeoutMs: number): Promise<StunResult> {
  const target = stunTarget(config.iceServers);
  if (!target) return { step: { status: 'skipped', verdict: 'Skipped — the server offers no STUN server.' }, publicAddress: null };
  const where = `${target.parsed.host} on UDP ${target.parsed.port}`;
  const started = clock.now();
  let hosts = 0;
  return withDeadline<StunResult>(
    clock,
    timeoutMs,
    () => ({
      step: {
        status: 'failed',
        ms: clock.now() - started,
        blocked: true,
        detail: `${target.url}: no server-reflexive candidate within ${seconds(timeoutMs)}`,
        verdict: `Blocked — no answer from the STUN server (${where}) within ${seconds(timeoutMs)}.`,
      },
      publicAddress: null,
    }),
    (done) => {
      const pc = new deps.RTCPeerConnection({ iceServers: [{ urls: target.url }], iceTransportPolicy: 'all' });
      pc.addEventListener('icecandidate', (event: RTCPeerConnectionIceEvent) => {
        const c = event.candidate;
        if (c === null) {
          // Chromium drops a server-reflexive candidate equal to a host one (no NAT, addresses not
          // hidden): gathering then completes as soon as STUN has answered, with no error.
          if (hosts > 0) {
            done({
              step: {
                status: 'passed',
                ms: clock.now() - started,
                detail: `${target.url}: answered; the address it saw is this computer's own (no NAT)`,
                verdict: 'Works — the STUN server answers; your computer’s address is not translated (no NAT).',
              },
              publicAddress: null,
            });
          }
          return;
        }
        if (c.type === 'host') hosts += 1;
        if (c.type !== 'srflx') return;
        const { address } = candidateAddress(c);
        done({
          step: {
            status: 'passed',
            ms: clock.now() - started,
            detail: `${target.url}: server-reflexive candidate ${address ? maskAddress(address) : '(no address)'}`,
            verdict: `Works — the STUN server sees you as ${address ? maskAddress(address) : 'an address it did not tell'}.`,
          },
          publicAddress: address,
        });
      });
      pc.addEventListener('icecandidateerror', (event: Event) => {
        const e = event as RTCPeerConnectionIceErrorEvent;
        done({
          step: {
            status: 'failed',
            ms: clock.now() - started,
            blocked: e.errorCode === 701,
            detail: `${e.url || target.url}: error ${e.errorCode} ${e.errorText}`.trim(),
            verdict: e.errorCode === 701 ? `Blocked — the STUN server (${where}) cannot be reached.` : `The STUN server answered with error ${e.errorCode}.`,
          },
          publicAddress: null,
        });
      });
      pc.createDataChannel('zr-network-check');
      pc.createOffer()
        .then((offer) => pc.setLocalDescription(offer))
        .catch((err: unknown) =>
          done({ step: { status: 'failed', ms: clock.now() - started, detail: String(err), verdict: 'This app could not start the STUN check.' }, publicAddress: null }),
        );
      return () => safeClose(pc);
    },
    deps.signal,
  );
}

async function checkRelay(config: NetworkCheckConfig, relay: RelayTransport, clock: Clock, deps: NetworkCheckDeps, timeoutMs: number): Promise<StepResult> {
  const name = RELAY_NAMES[relay];
  const target = relayTarget(config.iceServers, relay);
  if (!target) return { status: 'skipped', verdict: `Skipped — the server offers no TURN over ${name}.` };
  const where = `${target.parsed.host} on ${relay === 'udp' ? 'UDP' : 'TCP'} ${target.parsed.port}`;
  const started = clock.now();
  return withDeadline<StepResult>(
    clock,
    timeoutMs,
    () => ({
      status: 'failed',
      ms: clock.now() - started,
      blocked: true,
      detail: `${target.url}: no relay candidate and no error within ${seconds(timeoutMs)}`,
      verdict: `Blocked — no answer from the TURN server (${where}) within ${seconds(timeoutMs)}.`,
    }),
    (done) => {
      const pc = new deps.RTCPeerConnection({
        iceServers: [{ urls: [target.url], username: target.username ?? '', credential: target.credential ?? '' }],
        iceTransportPolicy: 'relay',
      });
      pc.addEventListener('icecandidate', (event: RTCPeerConnectionIceEvent) => {
        const c = event.candidate;
        if (c === null) {
          done({
            status: 'failed',
            ms: clock.now() - started,
            detail: `${target.url}: gathering completed without a relay candidate`,
            verdict: `The TURN server (${where}) gave no relay address.`,
          });
          return;
        }
        if (c.type !== 'relay') return;
        const { address, port } = candidateAddress(c);
        // Only this one URL was offered, so a relay candidate is this transport's; Chromium reports
        // relayProtocol for TCP and TLS (null for UDP).
        const reported = (c as RTCIceCandidate & { relayProtocol?: string | null }).relayProtocol ?? null;
        done({
          status: 'passed',
          ms: clock.now() - started,
          detail: `${target.url}: relay candidate ${address ?? '?'}:${port ?? '?'}${reported ? ` (relayProtocol ${reported})` : ''}`,
          verdict: `Works — the TURN server relays over ${name} (${formatMs(clock.now() - started)}).`,
        });
      });
      pc.addEventListener('icecandidateerror', (event: Event) => {
        const e = event as RTCPeerConnectionIceErrorEvent;
        const detail = `${e.url || target.url}: error ${e.errorCode} ${e.errorText}`.trim();
        const base = { status: 'failed' as const, ms: clock.now() - started, detail };
        if (e.errorCode === 701) {
          done({
            ...base,
            blocked: true,
            verdict:
              relay === 'tls'
                ? `Blocked — the TLS connection to ${where} failed (blocked, or its certificate was not accepted).`
                : `Blocked — the TURN server (${where}) cannot be reached.`,
          });
        } else if (e.errorCode === 401 || e.errorCode === 403 || e.errorCode === 437 || e.errorCode === 438) {
          done({ ...base, verdict: `The TURN server (${where}) refused this app’s credentials (error ${e.errorCode}).` });
        } else {
          done({ ...base, verdict: `The TURN server (${where}) answered with error ${e.errorCode}.` });
        }
      });
      pc.createDataChannel('zr-network-check');
      pc.createOffer()
        .then((offer) => pc.setLocalDescription(offer))
        .catch((err: unknown) => done({ status: 'failed', ms: clock.now() - started, detail: String(err), verdict: 'This app could not start the TURN check.' }));
      return () => safeClose(pc);
    },
    deps.signal,
  );
}

type StatsEntry = Record<string, unknown>;

function statsEntries(report: RTCStatsReport): StatsEntry[] {
  const out: StatsEntry[] = [];
  report.forEach((v: unknown) => {
    if (v !== null && typeof v === 'object') out.push(v as StatsEntry);
  });
  return out;
}

/** DTLS state, cipher and the selected pair's round trip, from a peer connection's stats. */
async function transportFacts(pc: RTCPeerConnection): Promise<{ dtls: string | null; cipher: string | null; tlsVersion: string | null; rttMs: number | null }> {
  const entries = statsEntries(await pc.getStats());
  const transport = entries.find((e) => e.type === 'transport' && e.dtlsState === 'connected') ?? entries.find((e) => e.type === 'transport');
  const pair =
    entries.find((e) => e.type === 'candidate-pair' && e.id === transport?.selectedCandidatePairId) ??
    entries.find((e) => e.type === 'candidate-pair' && e.nominated === true && e.state === 'succeeded');
  const rtt = typeof pair?.currentRoundTripTime === 'number' ? pair.currentRoundTripTime * 1000 : null;
  return {
    dtls: typeof transport?.dtlsState === 'string' ? transport.dtlsState : null,
    cipher: typeof transport?.dtlsCipher === 'string' ? transport.dtlsCipher : null,
    tlsVersion: typeof transport?.tlsVersion === 'string' ? transport.tlsVersion : null,
    rttMs: rtt,
  };
}

const CHUNK_BYTES = 16 * 1024;
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/**
 * Two peer connections in this page, relay-only through TURN over TLS only, exchanging descriptions
 * and candidates directly: proves a whole call path (allocation, permissions, ICE, DTLS) and measures it.
 */
async function checkLoopback(config: NetworkCheckConfig, clock: Clock, deps: NetworkCheckDeps, timeouts: NetworkCheckTimeouts): Promise<StepResult> {
  const target = relayTarget(config.iceServers, 'tls');
  if (!target) return { status: 'skipped', verdict: 'Skipped — the server offers no TURN over TLS.' };
  const rtcConfig: RTCConfiguration = {
    iceServers: [{ urls: [target.url], username: target.username ?? '', credential: target.credential ?? '' }],
    iceTransportPolicy: 'relay',
  };
  const started = clock.now();
  const pcs: RTCPeerConnection[] = [];
  let received = 0;
  try {
    const connected = await withDeadline<{ ok: true; channel: RTCDataChannel; a: RTCPeerConnection } | { ok: false; why: string }>(
      clock,
      timeouts.loopbackConnectMs,
      () => ({ ok: false, why: `not connected within ${seconds(timeouts.loopbackConnectMs)}` }),
      (done) => {
        const a = new deps.RTCPeerConnection(rtcConfig);
        const b = new deps.RTCPeerConnection(rtcConfig);
        pcs.push(a, b);
        // Candidates wait until the other side has its remote description.
        const wire = (from: RTCPeerConnection, to: RTCPeerConnection) => {
          const held: RTCIceCandidate[] = [];
          from.addEventListener('icecandidate', (event: RTCPeerConnectionIceEvent) => {
            if (!event.candidate) return;
            if (to.remoteDescription) void to.addIceCandidate(event.candidate).catch(() => undefined);
            else held.push(event.candidate);
          });
          return () => {
            for (const c of held.splice(0)) void to.addIceCandidate(c).catch(() => undefined);
          };
        };
        const flushToB = wire(a, b);
        const flushToA = wire(b, a);
        const channel = a.createDataChannel('zr-network-check', { ordered: true });
        channel.binaryType = 'arraybuffer';
        b.addEventListener('datachannel', (event: RTCDataChannelEvent) => {
          event.channel.binaryType = 'arraybuffer';
          event.channel.addEventListener('message', (m: MessageEvent) => {
            const data: unknown = m.data;
            received += data instanceof ArrayBuffer ? data.byteLength : typeof data === 'string' ? data.length : 0;
          });
        });
        const check = () => {
          if (a.connectionState === 'failed' || b.connectionState === 'failed') done({ ok: false, why: 'the connection failed' });
          else if (a.connectionState === 'connected' && channel.readyState === 'open') done({ ok: true, channel, a });
        };
        a.addEventListener('connectionstatechange', check);
        b.addEventListener('connectionstatechange', check);
        channel.addEventListener('open', check);
        void (async () => {
          await a.setLocalDescription(await a.createOffer());
          await b.setRemoteDescription(a.localDescription!);
          flushToB();
          await b.setLocalDescription(await b.createAnswer());
          await a.setRemoteDescription(b.localDescription!);
          flushToA();
        })().catch((err: unknown) => done({ ok: false, why: `could not exchange descriptions: ${String(err)}` }));
        return () => undefined;
      },
      deps.signal,
    );
    const where = `${target.parsed.host} on TCP ${target.parsed.port}`;
    if (!connected.ok) {
      return {
        status: 'failed',
        ms: clock.now() - started,
        blocked: false,
        detail: `${target.url}: ${connected.why}`,
        verdict: `A test call through the TURN server (${where}) did not connect.`,
      };
    }
    const connectMs = clock.now() - started;
    const facts = await transportFacts(connected.a);
    if (facts.dtls !== 'connected') {
      return {
        status: 'failed',
        ms: connectMs,
        detail: `${target.url}: ICE connected, DTLS ${facts.dtls ?? 'unknown'}`,
        verdict: 'The test call connected, but its encryption (DTLS) did not complete.',
      };
    }
    // Throughput: keep the channel's buffer between the water marks for the measuring time.
    const { channel } = connected;
    let sending = true;
    const chunk = new Uint8Array(CHUNK_BYTES);
    const fill = () => {
      try {
        while (sending && channel.readyState === 'open' && channel.bufferedAmount < HIGH_WATER) channel.send(chunk);
      } catch {
        sending = false;
      }
    };
    channel.bufferedAmountLowThreshold = LOW_WATER;
    channel.addEventListener('bufferedamountlow', fill);
    const before = received;
    const sendStart = clock.now();
    fill();
    await withDeadline<null>(clock, timeouts.throughputMs, () => null, () => () => undefined, deps.signal);
    sending = false;
    const elapsed = Math.max(1, clock.now() - sendStart);
    const kbit = Math.round(((received - before) * 8) / elapsed);
    const after = await transportFacts(connected.a).catch(() => facts);
    const rtt = after.rttMs ?? facts.rttMs;
    const rttText = rtt == null ? 'round trip not reported' : `round trip ${formatMs(rtt)}`;
    return {
      status: 'passed',
      ms: connectMs,
      rttMs: rtt,
      kbitPerSecond: kbit,
      detail: `${target.url}: ICE and DTLS connected in ${Math.round(connectMs)} ms (${facts.cipher ?? 'cipher not reported'}${facts.tlsVersion ? `, DTLS ${facts.tlsVersion}` : ''}); ${rttText}; ${kbit} kbit/s over ${seconds(elapsed)}`,
      verdict: `Works — an encrypted test call connected in ${formatMs(connectMs)}: ${rttText}, ${kbit.toLocaleString('en-US')} kbit/s.`,
    };
  } finally {
    for (const pc of pcs) safeClose(pc);
  }
}

// --- Summary --------------------------------------------------------------------------------------

const passed = (steps: CheckStep[], id: CheckStepId) => steps.find((s) => s.id === id)?.status === 'passed';

/** Which paths work, the setting calls will use, and what a network administrator should allow. */
export function summarize(steps: CheckStep[], config: NetworkCheckConfig): NetworkCheckSummary {
  const signaling = passed(steps, 'https') && passed(steps, 'wss');
  const stun = passed(steps, 'stun');
  const udp = passed(steps, 'turn-udp');
  const tcp = passed(steps, 'turn-tcp');
  const loopback = steps.find((s) => s.id === 'loopback');
  // TLS counts once a call through it connected (or when the test call could not be tried).
  const tls = passed(steps, 'turn-tls') && loopback?.status !== 'failed';

  const turnUrl = relayTarget(config.iceServers, 'udp') ?? relayTarget(config.iceServers, 'tcp');
  const tlsUrl = relayTarget(config.iceServers, 'tls');
  const turnHost = turnUrl?.parsed.host ?? stunTarget(config.iceServers)?.parsed.host ?? hostPort(config.server).host;
  const turnPort = turnUrl?.parsed.port ?? 3478;
  const tlsHost = tlsUrl?.parsed.host ?? turnHost;
  const tlsPort = tlsUrl?.parsed.port ?? 443;
  const signalingAt = hostPort(config.healthUrl);
  const udpRule = `UDP ${turnPort} and UDP ${RELAY_PORT_RANGE} to ${turnHost}`;
  const tlsRule = `TCP ${tlsPort} to ${tlsHost}`;

  const paths: CheckPath[] = [
    { name: `Signaling (TCP ${signalingAt.port} to ${signalingAt.host})`, works: signaling },
    { name: `STUN over UDP ${stunTarget(config.iceServers)?.parsed.port ?? turnPort}`, works: stun },
    { name: `TURN over UDP ${turnPort}`, works: udp },
    { name: `TURN over TCP ${relayTarget(config.iceServers, 'tcp')?.parsed.port ?? turnPort}`, works: tcp },
    { name: `TURN over TLS ${tlsPort}`, works: tls },
  ];

  if (!signaling) {
    const media = udp || tcp || tls ? '' : `, and ${udpRule}, or ${tlsRule}`;
    return {
      outcome: 'blocked',
      policy: null,
      headline: 'Calls cannot start from this network: ZeroRange cannot reach its server.',
      paths,
      policyText: 'No network setting helps until the server can be reached.',
      advice: `Ask your network administrator to allow HTTPS and WebSocket connections (TCP ${signalingAt.port}) to ${signalingAt.host}${media}.`,
    };
  }
  if (udp) {
    return {
      outcome: 'good',
      policy: 'auto',
      headline: 'Calls will work on this network.',
      paths,
      policyText: `ZeroRange will use: ${NETWORK_POLICY_LABELS.auto} (direct when possible, otherwise relayed over UDP).`,
      advice:
        tlsUrl && !tls
          ? `Calls work here. TURN over TLS ${tlsPort} did not: on networks that block UDP calls need ${tlsRule}; ask your network administrator to check it.`
          : null,
    };
  }
  if (tcp) {
    return {
      outcome: 'limited',
      policy: 'auto',
      headline: `Calls will work, relayed over TCP ${turnPort}: UDP is blocked on this network.`,
      paths,
      policyText: `ZeroRange will use: ${NETWORK_POLICY_LABELS.auto} (relayed over TCP).`,
      advice: `For better call quality, ask your network administrator to allow ${udpRule}.`,
    };
  }
  if (tls) {
    return {
      outcome: 'limited',
      policy: 'relay-tls',
      headline: `Calls will work only through TURN over TLS on port ${tlsPort}: UDP and TCP ${turnPort} are blocked on this network.`,
      paths,
      policyText: `ZeroRange will use: ${NETWORK_POLICY_LABELS['relay-tls']}.`,
      advice: `Calls work over TCP ${tlsPort}. For better call quality, ask your network administrator to allow ${udpRule}.`,
    };
  }
  return {
    outcome: 'blocked',
    policy: null,
    headline: 'Calls cannot connect from this network: every way to the relay server is blocked.',
    paths,
    policyText: 'No network setting can connect calls from here.',
    advice: `Ask your network administrator to allow ${udpRule}${tlsUrl ? `, or ${tlsRule}` : ''}.`,
  };
}

// --- The run --------------------------------------------------------------------------------------

/** Runs every step (the STUN and TURN probes side by side) and summarises; never rejects. */
export async function runNetworkCheck(config: NetworkCheckConfig, deps: NetworkCheckDeps): Promise<NetworkCheckRun> {
  const clock = clockFrom(deps);
  const timeouts: NetworkCheckTimeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const wallNow = deps.wallNow ?? Date.now;
  const steps = initialSteps(config);
  const result: NetworkCheckResult = { server: config.server, startedAt: new Date(wallNow()).toISOString(), finishedAt: null, steps, summary: null };
  const snapshot = (): NetworkCheckResult => ({ ...result, steps: steps.map((s) => ({ ...s })) });
  const emit = () => deps.onUpdate?.(snapshot());
  const stopped = () => deps.signal?.aborted === true;
  let publicAddress: string | null = null;

  const set = (id: CheckStepId, changes: Partial<CheckStep>) => {
    const i = steps.findIndex((s) => s.id === id);
    steps[i] = { ...steps[i]!, ...changes };
    emit();
  };
  const begin = (id: CheckStepId) => set(id, { status: 'running', verdict: 'Checking…' });
  const end = (id: CheckStepId, r: StepResult) => {
    if (stopped()) set(id, { status: 'skipped', verdict: 'Stopped.', ms: null, detail: null, blocked: false });
    else set(id, { ms: null, detail: null, blocked: false, rttMs: null, kbitPerSecond: null, ...r });
  };
  const step = async (id: CheckStepId, work: () => Promise<StepResult>) => {
    if (stopped()) return end(id, { status: 'skipped', verdict: 'Stopped.' });
    begin(id);
    let r: StepResult;
    try {
      r = await work();
    } catch (err) {
      r = { status: 'failed', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err), verdict: 'This app could not run this step.' };
    }
    end(id, r);
  };

  emit();
  await step('https', () => checkHttps(config.healthUrl, clock, deps.fetch, timeouts.httpMs, deps.signal));
  await step('wss', () => checkSocket(config.signalingUrl, clock, deps.WebSocket, timeouts.socketMs, deps.signal));
  // Independent probes, each on its own peer connection with one URL: side by side, so a blocked
  // network costs one deadline, not four.
  await Promise.all([
    step('stun', async () => {
      const r = await checkStun(config, clock, deps, timeouts.stunMs);
      publicAddress = r.publicAddress;
      return r.step;
    }),
    step('turn-udp', () => checkRelay(config, 'udp', clock, deps, timeouts.turnMs)),
    step('turn-tcp', () => checkRelay(config, 'tcp', clock, deps, timeouts.turnMs)),
    step('turn-tls', () => checkRelay(config, 'tls', clock, deps, timeouts.tlsMs)),
  ]);
  if (passed(steps, 'turn-tls')) {
    await step('loopback', () => checkLoopback(config, clock, deps, timeouts));
  } else {
    end('loopback', { status: 'skipped', verdict: 'Skipped — needs TURN over TLS, which did not work.' });
  }

  result.finishedAt = new Date(wallNow()).toISOString();
  result.summary = stopped() ? null : summarize(steps, config);
  emit();
  return { result: snapshot(), publicAddress: stopped() ? null : publicAddress };
}
