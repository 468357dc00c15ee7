/**
 * The reducer against RTCStatsReports recorded from Chromium 156 in the network-namespace harness
 * (test/fixtures/stats: each file's `description` says how), plus counter resets made from them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyPath, selectedPair } from '../../renderer/src/call/stats/path.js';
import { scoreOf } from '../../renderer/src/call/stats/StatsSampler.js';
import { reduceStats, type PeerStatsSnapshot, type StatsSample } from '../../renderer/src/call/stats/statsReducer.js';

type Entry = Record<string, unknown> & { id: string; type: string; timestamp: number };
interface Fixture {
  scenario: string;
  chromium: string;
  candidateErrors?: { errorCode: number; url: string }[];
  samples: { at: number; stats: Entry[] }[];
}

const load = (name: string): Fixture => JSON.parse(readFileSync(path.join(import.meta.dirname, '../fixtures/stats', `${name}.json`), 'utf8')) as Fixture;
const report = (stats: Entry[]) => new Map(stats.map((e) => [e.id, e]));

/** Reduces a run of samples in order, each against the one before. */
function reduceAll(samples: { at: number; stats: Entry[] }[]): StatsSample[] {
  const out: StatsSample[] = [];
  for (const s of samples) out.push(reduceStats(report(s.stats), out.at(-1) ?? null, s.at));
  return out;
}

const find = (stats: Entry[], type: string, kind?: string) => stats.filter((e) => e.type === type && (kind === undefined || e.kind === kind));
const one = (stats: Entry[], type: string, kind?: string) => {
  const found = find(stats, type, kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};
/** bits/s between two entries of one stream, by their own timestamps. */
const bps = (a: Entry, b: Entry, key: string) => Math.round((((b[key] as number) - (a[key] as number)) * 8) / ((b.timestamp - a.timestamp) / 1000));

function rates(s: PeerStatsSnapshot) {
  const q = s.quality;
  return [q.audioIn.bitrate, q.audioOut.bitrate, q.videoIn.bitrate, q.videoOut.bitrate];
}

/** No negative, absurd or non-finite numbers anywhere in a snapshot. */
function expectSane(s: PeerStatsSnapshot) {
  for (const r of rates(s)) if (r !== null) expect(r).toSatisfy((v: number) => Number.isFinite(v) && v >= 0 && v < 50e6);
  for (const l of [s.quality.lossInPercent, s.quality.lossOutPercent]) if (l !== null) expect(l).toSatisfy((v: number) => v >= 0 && v <= 100);
  for (const v of [s.quality.rttMs, s.quality.jitterMs, s.quality.videoIn.fps, s.quality.videoOut.fps, s.quality.videoIn.jitterBufferDelayMs]) {
    if (v !== null) expect(v).toBeGreaterThanOrEqual(0);
  }
  expect(JSON.parse(JSON.stringify(s))).toEqual(s);
}

describe('reduceStats: relay over TLS 443 (recorded)', () => {
  const fx = load('relay-tls');
  const [first, second, third] = reduceAll(fx.samples).map((s) => s.snapshot);

  it('describes the selected pair, its transport and its encryption', () => {
    const stats = fx.samples[0]!.stats;
    const transport = one(stats, 'transport');
    const pair = stats.find((e) => e.id === transport.selectedCandidatePairId)!;
    expect(first!.path).toEqual({
      label: 'Relay TLS 443',
      kind: 'relay-tls',
      pairId: pair.id,
      localCandidateId: pair.localCandidateId,
      remoteCandidateId: pair.remoteCandidateId,
      localCandidateType: 'relay',
      remoteCandidateType: 'relay',
      protocol: 'udp',
      relayProtocol: 'tls',
      turnUrl: 'turns:10.77.0.1:443?transport=tcp',
      turnPort: 443,
      localAddress: '10.77.0.1',
      localPort: one(stats, 'local-candidate').port,
      remoteAddress: '10.77.0.1',
      remotePort: one(stats, 'remote-candidate').port,
      candidates: { local: { host: 0, srflx: 0, prflx: 0, relay: 1 }, remote: { host: 0, srflx: 0, prflx: 0, relay: 1 } },
    });
    expect(first!.path.label).toBe(classifyPath(selectedPair(report(stats))).label);
    expect(first!.transport).toEqual({
      iceState: 'connected',
      dtlsState: 'connected',
      dtlsRole: 'server',
      tlsVersion: 'FEFC',
      dtlsCipher: 'TLS_AES_128_GCM_SHA256',
      srtpCipher: 'SRTP_AES128_CM_HMAC_SHA1_80',
      selectedCandidatePairChanges: 1,
    });
  });

  it('has no rates on the first sample (no baseline), but codecs, resolution and RTT', () => {
    expect(rates(first!)).toEqual([null, null, null, null]);
    expect(first!.quality).toMatchObject({
      rttMs: 1,
      lossInPercent: null,
      lossOutPercent: 0,
      availableOutgoingBitrate: one(fx.samples[0]!.stats, 'candidate-pair').availableOutgoingBitrate,
      audioIn: { codec: 'audio/opus' },
      audioOut: { codec: 'audio/opus' },
      videoIn: { codec: 'video/VP8', width: 320, height: 240, fps: 20, framesDropped: 0 },
      videoOut: { codec: 'video/VP8', width: 320, height: 240, fps: 20, qualityLimitationReason: 'none' },
    });
  });

  it('takes bitrates per kind and direction from byte deltas over the stats timestamps', () => {
    const [a, b] = [fx.samples[0]!.stats, fx.samples[1]!.stats];
    const q = second!.quality;
    expect(q.audioIn.bitrate).toBe(bps(one(a, 'inbound-rtp', 'audio'), one(b, 'inbound-rtp', 'audio'), 'bytesReceived'));
    expect(q.videoIn.bitrate).toBe(bps(one(a, 'inbound-rtp', 'video'), one(b, 'inbound-rtp', 'video'), 'bytesReceived'));
    expect(q.audioOut.bitrate).toBe(bps(one(a, 'outbound-rtp', 'audio'), one(b, 'outbound-rtp', 'audio'), 'bytesSent'));
    expect(q.videoOut.bitrate).toBe(bps(one(a, 'outbound-rtp', 'video'), one(b, 'outbound-rtp', 'video'), 'bytesSent'));
    // What Opus and a 320x240 VP8 fake camera really send.
    expect(q.audioOut.bitrate).toBeGreaterThan(15_000);
    expect(q.audioOut.bitrate).toBeLessThan(64_000);
    expect(q.videoOut.bitrate).toBeGreaterThan(100_000);
    expect(q.videoOut.bitrate).toBeLessThan(1_000_000);
    expect(q.lossInPercent).toBe(0);
  });

  it('takes the jitter-buffer delay per emitted sample from deltas', () => {
    const [a, b] = [one(fx.samples[0]!.stats, 'inbound-rtp', 'video'), one(fx.samples[1]!.stats, 'inbound-rtp', 'video')];
    const expected = (((b.jitterBufferDelay as number) - (a.jitterBufferDelay as number)) / ((b.jitterBufferEmittedCount as number) - (a.jitterBufferEmittedCount as number))) * 1000;
    expect(second!.quality.videoIn.jitterBufferDelayMs).toBeCloseTo(expected, 9);
    // The bare peers play no audio: Chromium's audio jitter buffer emitted nothing, so there is no value.
    expect(second!.quality.audioIn.jitterBufferDelayMs).toBeNull();
  });

  it('computes the audio jitter-buffer delay the same way', () => {
    const withAudio = fx.samples.slice(0, 2).map((s, i) => ({
      at: s.at,
      stats: s.stats.map((e) => (e.type === 'inbound-rtp' && e.kind === 'audio' ? { ...e, jitterBufferDelay: [1920, 2880][i], jitterBufferEmittedCount: [96_000, 144_000][i] } : e)),
    }));
    // jitterBufferDelay sums each sample's wait: 960 s over 48 000 samples is 20 ms each.
    expect(reduceAll(withAudio)[1]!.snapshot.quality.audioIn.jitterBufferDelayMs).toBeCloseTo(20, 9);
  });

  it('scores the link and keeps every snapshot sane', () => {
    for (const s of [first!, second!, third!]) expectSane(s);
    expect(scoreOf(third!)).toEqual({ score: 5, mos: 4.4, reasons: [] });
  });
});

describe('reduceStats: a call that fails, with candidate errors (recorded)', () => {
  const fx = load('failed-candidate-errors');
  const snaps = reduceAll(fx.samples).map((s) => s.snapshot);

  it('was recorded with candidate errors and no selected pair', () => {
    expect(fx.candidateErrors!.map((e) => e.errorCode)).toEqual([701, 701]);
    // Before the answer there are two transports (BUNDLE not yet agreed), after it one; none has a pair.
    expect(fx.samples.map((s) => find(s.stats, 'transport').length)).toEqual([2, 1, 1, 1, 1]);
    for (const s of fx.samples) for (const t of find(s.stats, 'transport')) expect(t.selectedCandidatePairId).toBeUndefined();
  });

  it('reports no path, the ICE states it went through, and no encryption yet', () => {
    for (const s of snaps) {
      expect(s.path).toMatchObject({ label: 'Connecting…', kind: 'unknown', pairId: null, localCandidateType: null, remoteCandidateType: null, turnUrl: null, localAddress: null });
      expect(s.transport).toMatchObject({ dtlsState: 'new', tlsVersion: null, dtlsCipher: null, srtpCipher: null, selectedCandidatePairChanges: 0 });
      expectSane(s);
    }
    expect(snaps.map((s) => s.transport.iceState)).toEqual(['new', 'checking', 'failed', 'failed', 'failed']);
  });

  it('counts the candidates it gathered and was given', () => {
    expect(snaps[1]!.path.candidates).toEqual({ local: { host: 2, srflx: 0, prflx: 0, relay: 0 }, remote: { host: 1, srflx: 0, prflx: 0, relay: 3 } });
    expect(snaps[4]!.path.candidates.local).toEqual({ host: 2, srflx: 0, prflx: 0, relay: 0 });
  });

  it('has no quality to score, and sends nothing', () => {
    for (const s of snaps) {
      expect(s.quality).toMatchObject({ rttMs: null, jitterMs: null, lossInPercent: null, lossOutPercent: null, availableOutgoingBitrate: null });
      expect(scoreOf(s)).toBeNull();
    }
    expect(snaps[3]!.quality.audioOut).toEqual({ bitrate: 0, codec: 'audio/opus' });
    expect(snaps[3]!.quality.videoOut.bitrate).toBe(0);
  });
});

describe('reduceStats: ICE restart and a new SSRC (recorded)', () => {
  const fx = load('ice-restart');
  const samples = reduceAll(fx.samples);
  const snaps = samples.map((s) => s.snapshot);

  it('keeps every snapshot sane through the outage, the restart and the new stream', () => {
    for (const s of snaps) expectSane(s);
  });

  it('follows the path from direct to a new relay pair', () => {
    expect(snaps.map((s) => s.path.label)).toEqual(['Direct', 'Direct', 'Direct', 'Relay TCP', 'Relay TCP', 'Relay TCP', 'Relay TCP', 'Relay TCP']);
    expect(snaps[2]!.transport.iceState).toBe('disconnected');
    expect(snaps[3]!.path.pairId).not.toBe(snaps[2]!.path.pairId);
    expect(snaps[3]!.transport.selectedCandidatePairChanges).toBe(2);
    expect(snaps[3]!.path).toMatchObject({ localCandidateType: 'relay', remoteCandidateType: 'host', relayProtocol: 'tcp', turnUrl: 'turn:10.77.0.1:3478?transport=tcp', remoteAddress: '10.77.0.12' });
    expect(snaps[3]!.path.candidates.local.relay).toBe(2);
  });

  it('keeps RTP rates across the restart (same SSRCs) and shows the loss of the outage', () => {
    const [a, b] = [fx.samples[2]!.stats, fx.samples[3]!.stats];
    expect(snaps[3]!.quality.videoIn.bitrate).toBe(bps(one(a, 'inbound-rtp', 'video'), one(b, 'inbound-rtp', 'video'), 'bytesReceived'));
    let lost = 0;
    let received = 0;
    for (const kind of ['audio', 'video']) {
      const [x, y] = [one(a, 'inbound-rtp', kind), one(b, 'inbound-rtp', kind)];
      lost += (y.packetsLost as number) - (x.packetsLost as number);
      received += (y.packetsReceived as number) - (x.packetsReceived as number);
    }
    expect(lost).toBeGreaterThan(0);
    expect(snaps[3]!.quality.lossInPercent).toBeCloseTo((lost / (lost + received)) * 100, 9);
    expect(scoreOf(snaps[3]!)!.score).toBe(1);
    expect(snaps[4]!.quality.lossInPercent).toBe(0);
  });

  it('starts a new video SSRC from a fresh baseline, then rates it from its own deltas', () => {
    const before = new Set(find(fx.samples[5]!.stats, 'outbound-rtp', 'video').map((e) => e.id));
    const added = find(fx.samples[6]!.stats, 'outbound-rtp', 'video').find((e) => !before.has(e.id))!;
    expect(added).toBeDefined();
    expect(snaps[6]!.quality.videoOut.bitrate).toBeNull();
    expect(snaps[6]!.quality.videoOut.fps).toBe(added.framesPerSecond);
    expect(snaps[6]!.quality.audioOut.bitrate).not.toBeNull();
    const later = fx.samples[7]!.stats.find((e) => e.id === added.id)!;
    // The old stream is still listed but frozen: it adds nothing.
    expect(snaps[7]!.quality.videoOut.bitrate).toBe(bps(added, later, 'bytesSent'));
  });

  it('treats counters that went down under the same ids as a fresh baseline', () => {
    const late = samples[5]!;
    const rewound = fx.samples[1]!.stats.map((e) => ({ ...e, timestamp: e.timestamp + 20_000 }));
    const s = reduceStats(report(rewound), late, late.at + 1000).snapshot;
    expect(rates(s)).toEqual([null, null, null, null]);
    expect(s.quality.lossInPercent).toBeNull();
    expectSane(s);
  });

  it('treats a new SSRC behind the same id, or a report that did not move on, as a fresh baseline', () => {
    const prev = samples[4]!;
    const stats = fx.samples[5]!.stats.map((e) => (e.type === 'outbound-rtp' && e.kind === 'audio' ? { ...e, ssrc: 1234 } : e));
    expect(reduceStats(report(stats), prev, prev.at + 1000).snapshot.quality.audioOut.bitrate).toBeNull();
    expect(rates(reduceStats(report(fx.samples[4]!.stats), prev, prev.at + 1000).snapshot)).toEqual([null, null, null, null]);
  });

  it('does not restart on packetsLost going down (duplicates), and counts no negative loss', () => {
    const prev = samples[3]!;
    const stats = fx.samples[4]!.stats.map((e) => (e.type === 'inbound-rtp' ? { ...e, packetsLost: 0 } : e));
    const s = reduceStats(report(stats), prev, fx.samples[4]!.at).snapshot;
    expect(s.quality.lossInPercent).toBe(0);
    expect(s.quality.videoIn.bitrate).toBe(snaps[4]!.quality.videoIn.bitrate);
  });
});
