import { describe, expect, it } from 'vitest';
import {
  R0,
  REASON_MIN_COST_R,
  SCORE_BUCKETS,
  delayImpairment,
  lossImpairment,
  mosFromR,
  qualityScore,
  scoreFromMos,
} from '../../renderer/src/call/stats/qualityScore.js';

const q = (rttMs: number | null, jitterMs: number | null, lossPercent: number | null) => qualityScore({ rttMs, jitterMs, lossPercent });

describe('E-model parts', () => {
  it('uses the G.107 constants', () => {
    expect(R0).toBe(93.2);
    expect(REASON_MIN_COST_R).toBe(5);
  });

  it('delay impairment: 0.024·d below the 177.3 ms knee, 0.11 more per ms above it', () => {
    // d = rtt/2 + 2·jitter + 10
    expect(delayImpairment(0, 0)).toBeCloseTo(0.24, 9);
    expect(delayImpairment(334.6, 0)).toBeCloseTo(0.024 * 177.3, 9);
    expect(delayImpairment(0, 83.65)).toBeCloseTo(0.024 * 177.3, 9);
    expect(delayImpairment(354.6, 0)).toBeCloseTo(0.024 * 187.3 + 0.11 * 10, 9);
  });

  it('loss impairment: Ie-eff = 95·p / (p + 10)', () => {
    expect(lossImpairment(0)).toBe(0);
    expect(lossImpairment(10)).toBeCloseTo(47.5, 9);
    expect(lossImpairment(5 / 9)).toBeCloseTo(5, 9);
    expect(lossImpairment(500)).toBeCloseTo(lossImpairment(100), 9);
  });

  it('MOS from R, clamped to 1…4.5', () => {
    expect(mosFromR(-10)).toBe(1);
    expect(mosFromR(0)).toBe(1);
    expect(mosFromR(50)).toBeCloseTo(2.575, 9);
    expect(mosFromR(93.2 - 0.24)).toBeCloseTo(4.4046, 4);
    expect(mosFromR(100)).toBe(4.5);
    expect(mosFromR(120)).toBe(4.5);
  });

  it('buckets MOS at 4.3, 4.0, 3.6 and 3.1', () => {
    expect(SCORE_BUCKETS.map((b) => b.minMos)).toEqual([4.3, 4.0, 3.6, 3.1, -Infinity]);
    const at = (mos: number) => scoreFromMos(mos);
    expect([at(4.5), at(4.3), at(4.29), at(4.0), at(3.99), at(3.6), at(3.59), at(3.1), at(3.09), at(1)]).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
  });
});

describe('qualityScore', () => {
  it('gives a perfect link 5 (MOS 4.4) and no reasons; unknown values cost nothing', () => {
    expect(q(0, 0, 0)).toEqual({ score: 5, mos: 4.4, reasons: [] });
    expect(q(null, null, null)).toEqual({ score: 5, mos: 4.4, reasons: [] });
    expect(q(-5, Number.NaN, Number.POSITIVE_INFINITY)).toEqual({ score: 5, mos: 4.4, reasons: [] });
    expect(q(40, 5, 0)).toEqual({ score: 5, mos: 4.39, reasons: [] });
  });

  // Where each factor alone crosses a bucket: loss 0.52 / 1.69 / 3.19 / 5.34 %, RTT 344 / 479 / 618 / 768 ms,
  // jitter 86 / 120 / 154.5 / 192 ms. Each pair below straddles one of them.
  it('steps down through the buckets with loss alone', () => {
    const scores = [0.51, 0.52, 1.68, 1.69, 3.19, 3.2, 5.33, 5.34].map((l) => q(0, 0, l).score);
    expect(scores).toEqual([5, 4, 4, 3, 3, 2, 2, 1]);
    expect(q(0, 0, 7).mos).toBe(2.78);
  });

  it('steps down through the buckets with round-trip time alone', () => {
    const scores = [344, 345, 479, 480, 617, 618, 768, 769].map((r) => q(r, 0, 0).score);
    expect(scores).toEqual([5, 4, 4, 3, 3, 2, 2, 1]);
  });

  it('steps down through the buckets with jitter alone', () => {
    const scores = [86, 87, 119, 120, 154, 155, 192, 193].map((j) => q(0, j, 0).score);
    expect(scores).toEqual([5, 4, 4, 3, 3, 2, 2, 1]);
  });

  it('says why in plain words', () => {
    expect(q(0, 0, 7).reasons).toEqual(['high packet loss 7%']);
    expect(q(420, 0, 0).reasons).toEqual(['high round-trip time 420 ms']);
    expect(q(300, 60, 0).reasons).toEqual(['high round-trip time 300 ms', 'high jitter 60 ms']);
    expect(q(0, 0, 0.56).reasons).toEqual(['high packet loss 0.6%']);
  });

  it('names a factor from 5 R points of cost, worst first', () => {
    // Loss costs 5 R at 5/9 % (0.5556); 2% loss (15.8 R) keeps the score low so the threshold shows.
    expect(q(420, 0, 0.55).reasons).toEqual(['high round-trip time 420 ms']);
    expect(q(420, 0, 0.56).reasons).toEqual(['high round-trip time 420 ms', 'high packet loss 0.6%']);
    // Round-trip time alone costs 5 R from 349.3 ms.
    expect(q(349, 0, 2).reasons).toEqual(['high packet loss 2%']);
    expect(q(350, 0, 2).reasons).toEqual(['high packet loss 2%', 'high round-trip time 350 ms']);
    // Jitter alone costs 5 R from 87.3 ms.
    expect(q(0, 87, 2).reasons).toEqual(['high packet loss 2%']);
    expect(q(0, 88, 2).reasons).toEqual(['high packet loss 2%', 'high jitter 88 ms']);
  });

  it('names the costliest factor for any score below 5, and nothing for a 5', () => {
    expect(q(349, 0, 0)).toEqual({ score: 4, mos: 4.29, reasons: ['high round-trip time 349 ms'] });
    expect(q(0, 87, 0)).toEqual({ score: 4, mos: 4.29, reasons: ['high jitter 87 ms'] });
    expect(q(0, 40, 0.2)).toMatchObject({ score: 5, reasons: [] });
  });
});
