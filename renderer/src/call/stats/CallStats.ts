import type { PeerView } from '../events.js';
import { EventTimeline } from './EventTimeline.js';
import { encryptionLabel } from './path.js';
import type { QualityScore } from './qualityScore.js';
import type { StatsHistory } from './StatsHistory.js';
import { StatsSampler, type StatsSource } from './StatsSampler.js';
import type { PeerStatsSnapshot } from './statsReducer.js';

/** What one statistics sample changes in a peer's view. */
export type PeerStatsPatch = Pick<PeerView, 'path' | 'encryption' | 'stats' | 'quality'>;

export interface CallStatsOptions {
  intervalMs?: number;
  onPeerStats(peerId: string, patch: PeerStatsPatch): void;
}

/**
 * A call's record: statistics sampled per peer connection, the selected pair's changes, and the
 * timeline of what happened, for the stats panel and diagnostics. Each sample's path was classified
 * once when it was reduced; here it is only passed on and its changes recorded.
 */
export class CallStats {
  readonly timeline = new EventTimeline();
  /** Selected candidate pair changes per peer (time, types, protocols). */
  readonly selectedPairs = new Map<string, { at: number; snapshot: PeerStatsSnapshot['path'] }[]>();
  private readonly sampler: StatsSampler;

  constructor(private readonly opts: CallStatsOptions) {
    this.sampler = new StatsSampler({
      intervalMs: opts.intervalMs ?? 1000,
      onSample: (peerId, snapshot, score) => this.onSample(peerId, snapshot, score),
    });
  }

  track(peerId: string, pc: StatsSource): void {
    this.sampler.track(peerId, pc);
  }

  untrack(peerId: string): void {
    this.sampler.untrack(peerId);
  }

  /** Recent statistics of one peer, for the panel's charts. */
  history(peerId: string): StatsHistory | null {
    return this.sampler.history(peerId);
  }

  dispose(): void {
    this.sampler.dispose();
  }

  private onSample(peerId: string, snapshot: PeerStatsSnapshot, score: QualityScore | null): void {
    const p = snapshot.path;
    const history = this.selectedPairs.get(peerId) ?? [];
    if (p.pairId && history.at(-1)?.snapshot.pairId !== p.pairId) {
      history.push({ at: snapshot.at, snapshot: p });
      this.selectedPairs.set(peerId, history);
      this.timeline.record('selected-pair', peerId, { local: p.localCandidateType, remote: p.remoteCandidateType, protocol: p.protocol, relayProtocol: p.relayProtocol, label: p.label });
    }
    const quality = score ? { score: score.score, reasons: score.reasons } : null;
    this.opts.onPeerStats(peerId, { path: p, encryption: encryptionLabel(snapshot.transport), stats: snapshot, quality });
  }
}
