/**
 * Call quality from a simplified ITU-T G.107 E-model (the Cole–Rosenbluth reduction used by most
 * VoIP monitors). Voice-centred on purpose: it is what people notice first in a call.
 *
 *   effective latency d = rtt/2 + 2·jitter + 10 ms (jitter buffer and codec)
 *   Id      = 0.024·d + 0.11·(d − 177.3)·[d > 177.3]
 *   Ie-eff  = Ie + (95 − Ie)·loss / (loss + Bpl)      loss in %, Ie = 0, Bpl = 10 (Opus with PLC/FEC)
 *   R       = 93.2 − Id − Ie-eff
 *   MOS     = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R), clamped to 1…4.5
 *
 * Score buckets (MOS): ≥ 4.3 → 5, ≥ 4.0 → 4, ≥ 3.6 → 3, ≥ 3.1 → 2, else 1. A perfect link gives
 * R ≈ 93, MOS ≈ 4.40, score 5. Alone, a factor takes the score to 4 / 3 / 2 / 1 from about
 * loss 0.52 / 1.69 / 3.2 / 5.34 %, RTT 345 / 480 / 618 / 769 ms, jitter 87 / 120 / 155 / 193 ms.
 * Bpl = 10 is strict for Opus (1% loss already costs a bucket): tune it here, with the tests.
 */

export type Score = 1 | 2 | 3 | 4 | 5;

export interface QualityInput {
  /** Unknown values (null) cost nothing: a missing measurement is not evidence of a bad link. */
  rttMs: number | null;
  jitterMs: number | null;
  lossPercent: number | null;
}

export interface QualityScore {
  score: Score;
  mos: number;
  /** Plain words for what costs, worst first, e.g. "high packet loss 7%"; empty for a 5. */
  reasons: string[];
}

export const R0 = 93.2;
const IE = 0;
const BPL = 10;
/** A factor is named when it costs this much R (about the top bucket's width); a score below 5 always names one. */
export const REASON_MIN_COST_R = 5;

/** MOS from score bucket lower bounds, best first. */
export const SCORE_BUCKETS: readonly { score: Score; minMos: number }[] = [
  { score: 5, minMos: 4.3 },
  { score: 4, minMos: 4.0 },
  { score: 3, minMos: 3.6 },
  { score: 2, minMos: 3.1 },
  { score: 1, minMos: -Infinity },
];

const clean = (v: number | null) => (v === null || !Number.isFinite(v) || v < 0 ? 0 : v);

export function delayImpairment(rttMs: number, jitterMs: number): number {
  const d = rttMs / 2 + 2 * jitterMs + 10;
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

export function lossImpairment(lossPercent: number): number {
  const p = Math.min(100, lossPercent);
  return IE + ((95 - IE) * p) / (p + BPL);
}

export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return Math.min(4.5, Math.max(1, 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)));
}

export function scoreFromMos(mos: number): Score {
  return SCORE_BUCKETS.find((b) => mos >= b.minMos)!.score;
}

const round1 = (v: number) => String(Math.round(v * 10) / 10);

export function qualityScore(input: QualityInput): QualityScore {
  const rtt = clean(input.rttMs);
  const jitter = clean(input.jitterMs);
  const loss = clean(input.lossPercent);
  const id = delayImpairment(rtt, jitter);
  const ie = lossImpairment(loss);
  const r = R0 - id - ie;
  // Score from the MOS as shown, so a displayed 4.30 never sits in bucket 4.
  const mos = Math.round(mosFromR(r) * 100) / 100;

  // Each factor's cost is what R would gain without it (the delay terms are not additive past the knee).
  const costs: { cost: number; reason: string }[] = [
    { cost: ie, reason: `high packet loss ${round1(loss)}%` },
    { cost: id - delayImpairment(0, jitter), reason: `high round-trip time ${Math.round(rtt)} ms` },
    { cost: id - delayImpairment(rtt, 0), reason: `high jitter ${Math.round(jitter)} ms` },
  ];
  const score = scoreFromMos(mos);
  const ranked = costs.filter((c) => c.cost > 0).sort((a, b) => b.cost - a.cost);
  const named = ranked.filter((c) => c.cost >= REASON_MIN_COST_R);
  // A 5 needs no excuse; anything less always names at least its costliest factor.
  const reasons = score === 5 ? [] : (named.length ? named : ranked.slice(0, 1)).map((c) => c.reason);
  return { score, mos, reasons };
}
