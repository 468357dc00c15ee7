/**
 * A load generator process. The orchestrator (main.ts) sends it commands over IPC; it opens
 * connections through the server's adapter and drives them open-loop: every message and join has an
 * intended start time on a fixed schedule, and latency is counted from that time, so a slow server
 * cannot hide behind a generator that waits for it.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { importJWK, SignJWT, type JWK } from 'jose';
import { adapters, type Adapter, type Joined, type ServerKind } from './adapters.js';
import { CYCLE, frameTemplate, seqOf, stamp, type FrameTemplate } from './messages.js';
import { clientFrame, type Endpoint } from './rawWs.js';

export interface IdpKeys {
  jwk: JWK;
  issuer: string;
  audience: string;
}

export type Command =
  /** `endpoints`: the nodes of a deployment (joins spread over them); `endpoint` alone: one server. */
  | { cmd: 'setup'; server: ServerKind; endpoint: Endpoint; endpoints?: Endpoint[]; worker: number; idp: IdpKeys }
  | { cmd: 'prepare'; tokens: number }
  | { cmd: 'hold'; count: number; rate: number }
  | { cmd: 'release' }
  | { cmd: 'joinStep'; rate: number; seconds: number }
  /** `cross`: the two peers of each pair on different nodes (with several nodes). */
  | { cmd: 'relaySetup'; pairs: number; cross?: boolean }
  | { cmd: 'relayRun'; rate: number; seconds: number }
  | { cmd: 'abuse'; kind: AbuseKind; rate: number; seconds: number; bytes: number }
  | { cmd: 'exit' };

export type AbuseKind = 'flood' | 'oversize' | 'absent';

export interface JoinReport {
  ok: number;
  failed: number;
  errors: string[];
  /** ms from each join's intended start to its welcome. */
  latencies: number[];
  /** ms from the first intended start to the last welcome. */
  elapsedMs: number;
}

export interface RelayReport {
  sent: number;
  received: number;
  errors: number;
  /** Per sequence number: ms from intended send to delivery (null: lost). */
  latencies: (number | null)[];
  /** ms from the actual send (not the intended one) to delivery, for delivered messages. */
  fromSend: number[];
  /** The generator's own event-loop delay during the run (ms): how much of the latency is its own. */
  loopDelay: { p99: number; max: number };
}

export interface AbuseReport {
  sent: number;
  joins: number;
  refusedJoins: number;
  disconnects: number;
}

let adapter: Adapter;
let endpoint: Endpoint;
let endpoints: Endpoint[] = [];
let workerIndex = 0;
let idp: IdpKeys;
let tokens: string[] = [];
let nextToken = 0;
let clientIndex = 0;

/** A distinct loopback address per client (127.x.y.z all reach lo), so per-address limits see distinct clients. */
function localAddress(i: number): string {
  return `127.${20 + workerIndex}.${Math.floor(i / 254) % 256}.${1 + (i % 254)}`;
}

async function mintTokens(n: number): Promise<string[]> {
  const key = await importJWK(idp.jwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const sub = `bench-${workerIndex}-${Date.now().toString(36)}-${i}`;
    // The claims the embedded IdP puts in its access tokens.
    out.push(
      await new SignJWT({ client_id: 'zerorange-desktop', scope: 'openid profile email signaling', name: `Bench user ${i}`, email: `${sub}@bench.example`, email_verified: true })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: idp.jwk.kid! })
        .setIssuer(idp.issuer)
        .setAudience(idp.audience)
        .setSubject(sub)
        .setJti(`${sub}-jti`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(key),
    );
  }
  return out;
}

/** Joins through `node` (index into the deployment's nodes), or spreads clients over the nodes in turn. */
function joinOne(room: string, node?: number): Promise<Joined> {
  const i = clientIndex++;
  const ep = endpoints.length > 0 ? endpoints[(node ?? i) % endpoints.length]! : endpoint;
  return adapter.join(ep, {
    accessToken: tokens[nextToken++ % Math.max(1, tokens.length)],
    room,
    peerId: `bench${workerIndex}x${i.toString(36)}${Date.now().toString(36)}`,
    localAddress: localAddress(i),
  });
}

const roomOf = (n: number) => `bench-${workerIndex}-${Math.floor(n / 2)}-${Date.now().toString(36).slice(-4)}`;

/**
 * Runs `count` joins on an open-loop schedule at `rate`/s (in pairs: two clients a room), at most
 * `maxInFlight` at once. Resolves with each join's latency from its intended start.
 */
async function scheduledJoins(count: number, rate: number, onJoined: (j: Joined, n: number) => void, maxInFlight = 4000): Promise<JoinReport> {
  const report: JoinReport = { ok: 0, failed: 0, errors: [], latencies: [], elapsedMs: 0 };
  const t0 = performance.now();
  let started = 0;
  let inFlight = 0;
  let lastDone = t0;
  const rooms: string[] = [];
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      while (started < due && inFlight < maxInFlight) {
        const n = started++;
        const intended = t0 + (n * 1000) / rate;
        inFlight++;
        const room = (rooms[n >> 1] ??= roomOf(n));
        joinOne(room).then(
          (j) => {
            const now = performance.now();
            report.latencies.push(now - intended);
            report.ok++;
            lastDone = now;
            onJoined(j, n);
          },
          (err: Error) => {
            report.failed++;
            if (report.errors.length < 5) report.errors.push(err.message);
          },
        ).finally(() => {
          inFlight--;
          if (started === count && inFlight === 0) resolve();
        });
      }
      if (started < count) setTimeout(tick, 1);
    };
    tick();
  });
  report.elapsedMs = lastDone - t0;
  return report;
}

// Held connections (hold phase), with heartbeats as the real clients send them (every 5 s).
let held: Joined[] = [];
let heartbeat: NodeJS.Timeout | undefined;

function startHeartbeats(): void {
  let slot = 0;
  let n = 0;
  // 50 slots of 100 ms: each client beats once every 5 s, spread evenly.
  heartbeat = setInterval(() => {
    const frame = adapter.heartbeat(n++);
    for (let i = slot; i < held.length; i += 50) held[i]!.ws.send(frame);
    slot = (slot + 1) % 50;
  }, 100);
}

async function closeAll(list: Joined[]): Promise<void> {
  await Promise.all(
    list.map(
      (j) => new Promise<void>((resolve) => {
        if (j.ws.closed) return resolve();
        j.ws.socket.once('close', () => resolve());
        j.ws.destroy();
      }),
    ),
  );
}

// Relay pairs.
interface Pair {
  a: Joined;
  b: Joined;
  /** Templates in CYCLE order. */
  frames: FrameTemplate[];
}
let pairs: Pair[] = [];
/** Per sequence number: when the message actually left (the generator may run late on its schedule), and when it arrived (NaN: not yet). */
let relaySentAt: Float64Array = new Float64Array(0);
let relayArrivedAt: Float64Array = new Float64Array(0);
let relayT0 = 0;
let relayRate = 1;
let relayErrors = 0;

const ERROR_MARK = Buffer.from('"type":"error"');

function onRelayed(payload: Buffer): void {
  const seq = seqOf(payload);
  if (seq < 0) {
    if (payload.includes(ERROR_MARK)) relayErrors++;
    return;
  }
  if (seq < relayArrivedAt.length) relayArrivedAt[seq] = performance.now();
}

async function relaySetup(count: number, cross: boolean): Promise<{ pairs: number; failed: number; errors: string[] }> {
  await closeAll(pairs.flatMap((p) => [p.a, p.b]));
  pairs = [];
  const errors: string[] = [];
  let failed = 0;
  // Pairs join a few at a time: setup is not what this phase measures.
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(50, count - i) }, async (_, k) => {
        const room = roomOf(2 * (i + k));
        // Pairs are spread over the nodes; a cross pair has its second peer on the next node.
        const a = await joinOne(room, i + k);
        const b = await joinOne(room, i + k + (cross ? 1 : 0));
        const frames = CYCLE.map((c, pos) => frameTemplate(adapter, c.fromA ? b.peerId : a.peerId, c.kind, (i + k) * 16 + pos));
        a.ws.onMessage = onRelayed;
        b.ws.onMessage = onRelayed;
        return { a, b, frames };
      }),
    );
    for (const r of batch) {
      if (r.status === 'fulfilled') pairs.push(r.value);
      else {
        failed++;
        if (errors.length < 5) errors.push((r.reason as Error).message);
      }
    }
  }
  return { pairs: pairs.length, failed, errors };
}

async function relayRun(rate: number, seconds: number): Promise<RelayReport> {
  const total = Math.round(rate * seconds);
  relaySentAt = new Float64Array(total);
  relayArrivedAt = new Float64Array(total).fill(NaN);
  relayRate = rate;
  relayErrors = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  relayT0 = performance.now();
  let sent = 0;
  const p = pairs.length;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - relayT0) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const pair = pairs[sent % p]!;
        const pos = Math.floor(sent / p) % CYCLE.length;
        relaySentAt[sent] = performance.now();
        (CYCLE[pos]!.fromA ? pair.a : pair.b).ws.send(stamp(pair.frames[pos]!, sent));
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  loop.disable();
  // Stragglers get a second to arrive; later than that counts as lost.
  await new Promise((r) => setTimeout(r, 1000));
  let received = 0;
  const latencies: (number | null)[] = new Array(total);
  const fromSend: number[] = [];
  for (let i = 0; i < total; i++) {
    const arrived = relayArrivedAt[i]!;
    latencies[i] = Number.isNaN(arrived) ? null : arrived - (relayT0 + (i * 1000) / relayRate);
    if (!Number.isNaN(arrived)) {
      received++;
      fromSend.push(arrived - relaySentAt[i]!);
    }
  }
  return { sent, received, errors: relayErrors, latencies, fromSend, loopDelay: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 } };
}

/** One misbehaving client (with a partner where it needs one), rejoining whenever it is cut off. */
async function abuse(kind: AbuseKind, rate: number, seconds: number, bytes: number): Promise<AbuseReport> {
  const report: AbuseReport = { sent: 0, joins: 0, refusedJoins: 0, disconnects: 0 };
  const room = roomOf(clientIndex + 2);
  const token = tokens[nextToken++ % tokens.length];
  const attacker = { token, id: `abuser${workerIndex}${kind}${Date.now().toString(36)}` };
  const join = () =>
    adapter.join(endpoint, { accessToken: attacker.token, room, peerId: attacker.id, localAddress: localAddress(clientIndex++) });
  const partner = await joinOne(room);
  partner.ws.onMessage = () => {};
  const end = performance.now() + seconds * 1000;
  let current: Joined | undefined;
  let frame: Buffer;
  const big = JSON.stringify('v=0\r\n' + 'a=x'.repeat(Math.ceil(bytes / 3)));
  const t0 = performance.now();
  while (performance.now() < end) {
    if (!current || current.ws.closed) {
      if (current) report.disconnects++;
      try {
        current = await join();
        current.ws.onMessage = () => {};
        report.joins++;
      } catch {
        report.refusedJoins++;
        current = undefined;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      frame =
        kind === 'oversize'
          ? clientFrame(Buffer.from(adapter.signal(partner.peerId, 'offer', big)))
          : kind === 'absent'
            ? frameTemplate(adapter, 'nobodyHere0000000000', 'candidate', 1).frame
            : frameTemplate(adapter, partner.peerId, 'candidate', 2).frame;
    }
    const due = Math.floor(((performance.now() - t0) * rate) / 1000);
    for (; report.sent < due && !current.ws.closed; report.sent++) {
      if (kind === 'absent') current.ws.send(adapter.kind === 'peerjs' ? clientFrame(Buffer.from(adapter.signal(`absent${report.sent}`, 'candidate', '{"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}'))) : frame!);
      else current.ws.send(frame!);
    }
    // Bursts of about 50 messages: the abuser's own wake-ups should not be what slows the others down.
    await new Promise((r) => setTimeout(r, rate > 0 ? Math.min(50, Math.max(1, (50 * 1000) / rate)) : Math.max(0, end - performance.now())));
  }
  await closeAll([partner, ...(current ? [current] : [])]);
  return report;
}

async function handle(msg: Command): Promise<unknown> {
  switch (msg.cmd) {
    case 'setup':
      adapter = adapters[msg.server];
      endpoint = msg.endpoint;
      endpoints = msg.endpoints ?? [];
      workerIndex = msg.worker;
      idp = msg.idp;
      return {};
    case 'prepare':
      tokens = adapter.kind === 'zerorange' ? await mintTokens(msg.tokens) : [];
      nextToken = 0;
      return { tokens: tokens.length };
    case 'hold': {
      const report = await scheduledJoins(msg.count, msg.rate, (j) => {
        j.ws.onMessage = () => {};
        held.push(j);
      });
      if (!heartbeat) startHeartbeats();
      return { ...report, latencies: [] };
    }
    case 'release':
      clearInterval(heartbeat);
      heartbeat = undefined;
      await closeAll(held);
      held = [];
      return {};
    case 'joinStep': {
      const joined: Joined[] = [];
      const report = await scheduledJoins(Math.round(msg.rate * msg.seconds), msg.rate, (j) => {
        j.ws.onMessage = () => {};
        joined.push(j);
      });
      await closeAll(joined);
      return report;
    }
    case 'relaySetup':
      return relaySetup(msg.pairs, msg.cross ?? false);
    case 'relayRun':
      return relayRun(msg.rate, msg.seconds);
    case 'abuse':
      return abuse(msg.kind, msg.rate, msg.seconds, msg.bytes);
    case 'exit':
      await closeAll([...held, ...pairs.flatMap((p) => [p.a, p.b])]);
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (msg: Command & { id: number }) => {
  handle(msg).then(
    (result) => process.send!({ id: msg.id, ok: true, result }),
    (err: Error) => process.send!({ id: msg.id, ok: false, error: err.stack ?? err.message }),
  );
});
process.on('disconnect', () => process.exit(0));
