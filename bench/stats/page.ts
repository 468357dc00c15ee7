/**
 * Runs in the benchmark page (bundled with esbuild, with the renderer's real StatsSampler): N peer
 * connections carrying fake camera and microphone both ways, each with its far end in the same page
 * (descriptions handed over directly), and the sampler over the N near ends as a call would run it.
 */
import { StatsSampler } from '../../renderer/src/call/stats/StatsSampler.js';
import type { StatsReportLike } from '../../renderer/src/call/stats/path.js';

export interface VideoConstraints {
  width: number;
  height: number;
  frameRate: number;
}

export interface SampleRecord {
  peer: number;
  /** Synchronous part of pc.getStats() (until it returns its promise). */
  callMs: number;
  /** From the call until the report is in hand (the WebRTC thread collects it meanwhile). */
  latencyMs: number;
  /** StatsSampler.lastSampleCostMs: reduce, score and history, on the main thread. */
  reduceMs: number;
  entries: number;
}

export interface WindowResult {
  ms: number;
  samples: SampleRecord[];
  /** getStats() calls whose sample never came (rejected or still pending at the end). */
  lost: number;
  /** What the app would show for the first peer at the end: proof the media flowed. */
  snapshot: {
    path: string;
    localAddress: string | null;
    videoInBitrate: number | null;
    videoInFps: number | null;
    videoOutBitrate: number | null;
    audioInBitrate: number | null;
  } | null;
}

interface Pair {
  near: RTCPeerConnection;
  far: RTCPeerConnection;
}

let pairs: Pair[] = [];
let camera: MediaStream | null = null;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function gathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ICE gathering did not complete')), timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(timer);
      resolve();
    });
  });
}

function connected(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection (state ${pc.connectionState})`)), timeoutMs);
    const check = () => {
      if (pc.connectionState === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (pc.connectionState === 'failed') {
        clearTimeout(timer);
        reject(new Error('connection failed'));
      }
    };
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}

/** Non-trickle: each side's description already holds its host candidate on the dummy interface. */
async function connectPair(stream: MediaStream, timeoutMs: number): Promise<Pair> {
  const near = new RTCPeerConnection();
  const far = new RTCPeerConnection();
  for (const track of stream.getTracks()) {
    near.addTrack(track, stream);
    far.addTrack(track, stream);
  }
  await near.setLocalDescription(await near.createOffer());
  await gathered(near, timeoutMs);
  await far.setRemoteDescription(near.localDescription!);
  await far.setLocalDescription(await far.createAnswer());
  await gathered(far, timeoutMs);
  await near.setRemoteDescription(far.localDescription!);
  await Promise.all([connected(near, timeoutMs), connected(far, timeoutMs)]);
  return { near, far };
}

function close(): void {
  for (const p of pairs) {
    p.near.close();
    p.far.close();
  }
  pairs = [];
}

/** Replaces the current pairs with `n` connected ones; resolves with the ms it took. */
async function connect(n: number, video: VideoConstraints, timeoutMs: number): Promise<number> {
  close();
  camera ??= await navigator.mediaDevices.getUserMedia({ audio: true, video });
  const started = performance.now();
  pairs = await Promise.all(Array.from({ length: n }, () => connectPair(camera!, timeoutMs)));
  return performance.now() - started;
}

/** Waits until every near end decodes video from its far end. */
async function mediaFlowing(timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const decoding = await Promise.all(
      pairs.map(async ({ near }) => {
        let frames = 0;
        (await near.getStats()).forEach((e: { type?: string; kind?: string; framesDecoded?: number }) => {
          if (e.type === 'inbound-rtp' && e.kind === 'video') frames += e.framesDecoded ?? 0;
        });
        return frames > 0;
      }),
    );
    if (decoding.every(Boolean)) return;
    if (performance.now() > deadline) throw new Error(`no decoded video on ${decoding.filter((d) => !d).length} of ${pairs.length} peers`);
    await sleep(100);
  }
}

/**
 * One window of `ms`: with `sampling`, the real StatsSampler at `intervalMs` over every near end,
 * each getStats() timed from outside and each sample's own cost read back; without, nothing runs
 * (the baseline the process CPU is compared with).
 */
async function window_(ms: number, intervalMs: number, sampling: boolean): Promise<WindowResult> {
  // Half an interval more, so the sample of the last tick (at `ms`) completes inside the window.
  const length = ms + intervalMs / 2;
  if (!sampling) {
    await sleep(length);
    return { ms: length, samples: [], lost: 0, snapshot: null };
  }
  const samples: SampleRecord[] = [];
  const pending = new Map<string, Omit<SampleRecord, 'reduceMs'>>();
  let calls = 0;
  const sampler: StatsSampler = new StatsSampler({
    intervalMs,
    onSample: (peerId) => {
      const got = pending.get(peerId);
      const reduceMs = sampler.lastSampleCostMs(peerId);
      pending.delete(peerId);
      if (got && reduceMs !== null) samples.push({ ...got, reduceMs });
    },
  });
  pairs.forEach(({ near }, peer) => {
    const peerId = `peer-${peer}`;
    sampler.track(peerId, {
      async getStats(): Promise<StatsReportLike> {
        calls++;
        const t0 = performance.now();
        const promise = near.getStats();
        const callMs = performance.now() - t0;
        const report = await promise;
        pending.set(peerId, { peer, callMs, latencyMs: performance.now() - t0, entries: report.size });
        return report;
      },
    });
  });
  await sleep(length);
  const last = sampler.snapshots().get('peer-0') ?? null;
  sampler.dispose();
  const q = last?.quality;
  return {
    ms: length,
    samples,
    lost: calls - samples.length,
    snapshot: last && q ? {
      path: last.path.label,
      localAddress: last.path.localAddress,
      videoInBitrate: q.videoIn.bitrate,
      videoInFps: q.videoIn.fps,
      videoOutBitrate: q.videoOut.bitrate,
      audioInBitrate: q.audioIn.bitrate,
    } : null,
  };
}

/** ms of one forEach over a live report, per report: what reading a report costs before any reduction. */
async function iterationMs(repeats: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    for (const { near } of pairs) {
      const report = await near.getStats();
      const t0 = performance.now();
      let n = 0;
      report.forEach(() => {
        n++;
      });
      if (n > 0) out.push(performance.now() - t0);
    }
  }
  return out;
}

/** performance.now() is coarsened to 100 µs unless the page is cross-origin isolated (then 5 µs). */
const isolated = () => globalThis.crossOriginIsolated;

const api = { connect, mediaFlowing, window: window_, iterationMs, close, isolated };
export type StatsBenchPage = typeof api;

declare global {
  interface Window {
    zrStatsBench: StatsBenchPage;
  }
}
window.zrStatsBench = api;
