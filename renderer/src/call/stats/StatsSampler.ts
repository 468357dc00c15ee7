import type { StatsReportLike } from './path.js';
import { qualityScore, type QualityScore } from './qualityScore.js';
import { StatsHistory } from './StatsHistory.js';
import { reduceStats, type PeerStatsSnapshot, type StatsSample } from './statsReducer.js';

export interface StatsSource {
  getStats(): Promise<StatsReportLike>;
}

export type SampleListener = (peerId: string, snapshot: PeerStatsSnapshot, score: QualityScore | null) => void;

export interface StatsSamplerOptions {
  intervalMs?: number;
  /** History kept per peer; default 10 min. */
  historyMs?: number;
  /** Sample timestamps; default Date.now (snapshots are exported and compared across machines). */
  now?: () => number;
  /** For the CPU cost measurement; default performance.now. */
  cpuClock?: () => number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
  onSample: SampleListener;
}

interface Tracked {
  pc: StatsSource;
  previous: StatsSample | null;
  history: StatsHistory;
  inFlight: boolean;
  costMs: number | null;
}

/**
 * The score of a snapshot, or null while nothing is known (no pair, no RTP yet): a call that is
 * still connecting has no quality, and showing 5 bars for it would be a lie.
 */
export function scoreOf(snapshot: PeerStatsSnapshot): QualityScore | null {
  const q = snapshot.quality;
  const losses = [q.lossInPercent, q.lossOutPercent].filter((v): v is number => v !== null);
  if (q.rttMs === null && q.jitterMs === null && losses.length === 0) return null;
  // Either direction's loss hurts the conversation: take the worse.
  return qualityScore({ rttMs: q.rttMs, jitterMs: q.jitterMs, lossPercent: losses.length ? Math.max(...losses) : null });
}

/**
 * Samples each tracked peer connection once per interval on one shared timer, reduces the report to a
 * snapshot, keeps a bounded history and reports every sample. A pc whose getStats() is still
 * pending when the timer fires is skipped, never sampled twice at once.
 */
export class StatsSampler {
  private readonly peers = new Map<string, Tracked>();
  private readonly intervalMs: number;
  private readonly historyMs: number;
  private readonly now: () => number;
  private readonly cpuClock: () => number;
  private readonly clear: (handle: unknown) => void;
  private readonly timer: unknown;
  private disposed = false;

  constructor(private readonly opts: StatsSamplerOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.historyMs = opts.historyMs ?? 600_000;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be positive (got ${this.intervalMs})`);
    this.now = opts.now ?? (() => Date.now());
    this.cpuClock = opts.cpuClock ?? (() => performance.now());
    this.clear = opts.clearInterval ?? ((h) => globalThis.clearInterval(h as number | undefined));
    const set = opts.setInterval ?? ((fn, ms) => globalThis.setInterval(fn, ms));
    this.timer = set(() => this.tick(), this.intervalMs);
  }

  /** Starts sampling `pc` from the next tick; tracking a known peer again starts it afresh (new pc, new history). */
  track(peerId: string, pc: StatsSource): void {
    if (this.disposed) return;
    this.peers.set(peerId, {
      pc,
      previous: null,
      history: new StatsHistory({ durationMs: this.historyMs, intervalMs: this.intervalMs }),
      inFlight: false,
      costMs: null,
    });
  }

  untrack(peerId: string): void {
    this.peers.delete(peerId);
  }

  history(peerId: string): StatsHistory | null {
    return this.peers.get(peerId)?.history ?? null;
  }

  /** The latest snapshot of each tracked peer that has one. */
  snapshots(): Map<string, PeerStatsSnapshot> {
    const out = new Map<string, PeerStatsSnapshot>();
    for (const [peerId, t] of this.peers) if (t.previous) out.set(peerId, t.previous.snapshot);
    return out;
  }

  /**
   * Milliseconds of main-thread work the last sample of this peer cost (reduce, score, history),
   * without getStats() itself, which runs in the browser's WebRTC thread. For benchmarks.
   */
  lastSampleCostMs(peerId: string): number | null {
    return this.peers.get(peerId)?.costMs ?? null;
  }

  /** Samples every idle tracked peer now (the timer calls this). */
  tick(): Promise<void> {
    return Promise.all([...this.peers].map(([peerId, t]) => this.sample(peerId, t))).then(() => undefined);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clear(this.timer);
    this.peers.clear();
  }

  private async sample(peerId: string, t: Tracked): Promise<void> {
    if (t.inFlight || this.disposed) return;
    t.inFlight = true;
    let report: StatsReportLike;
    try {
      report = await t.pc.getStats();
    } catch {
      // A closing pc rejects; the owner untracks it, so just try again next tick.
      return;
    } finally {
      t.inFlight = false;
    }
    // Untracked, re-tracked or disposed while waiting: this report belongs to no one now.
    if (this.disposed || this.peers.get(peerId) !== t) return;
    const started = this.cpuClock();
    const sample = reduceStats(report, t.previous, this.now());
    const score = scoreOf(sample.snapshot);
    t.previous = sample;
    t.history.push(sample.snapshot);
    t.costMs = this.cpuClock() - started;
    this.opts.onSample(peerId, sample.snapshot, score);
  }
}
