import type { NetworkCheckConfig } from '../../../../shared/ipc/desktopApi.js';
import type { Clock } from '../timers.js';
import { safeClose, withDeadline } from './deadline.js';
import { relayTarget } from './targets.js';
import type { NetworkCheckDeps, NetworkCheckTimeouts, StepResult } from './types.js';
import { formatMs, seconds } from './words.js';

// The test call through TURN over TLS, and what its stats say about it.

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
export async function checkLoopback(config: NetworkCheckConfig, clock: Clock, deps: NetworkCheckDeps, timeouts: NetworkCheckTimeouts): Promise<StepResult> {
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
