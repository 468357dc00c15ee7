import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { StatsReportLike } from '../../renderer/src/call/stats/path.js';
import { EventTimeline, type TimelineEntry } from '../../renderer/src/call/stats/EventTimeline.js';
import { StatsHistory } from '../../renderer/src/call/stats/StatsHistory.js';
import { StatsSampler, type StatsSource } from '../../renderer/src/call/stats/StatsSampler.js';

const item = (at: number, value: number | null = at * 10) => ({ at, value });

describe('StatsHistory', () => {
  it('sizes its ring from duration and interval: 10 min at 1 s by default', () => {
    expect(new StatsHistory().capacity).toBe(600);
    expect(new StatsHistory({ durationMs: 60_000, intervalMs: 2000 }).capacity).toBe(30);
    expect(new StatsHistory({ durationMs: 2500, intervalMs: 1000 }).capacity).toBe(3);
    expect(new StatsHistory({ capacity: 7 }).capacity).toBe(7);
    expect(() => new StatsHistory({ intervalMs: 0 })).toThrow(RangeError);
  });

  it('is empty at first', () => {
    const h = new StatsHistory<{ at: number }>({ durationMs: 3000 });
    expect(h.latest()).toBeNull();
    expect(h.toArray()).toEqual([]);
    expect(h.size).toBe(0);
  });

  it('keeps the newest `capacity` entries, oldest first, across many wraps', () => {
    const h = new StatsHistory<ReturnType<typeof item>>({ durationMs: 3000, intervalMs: 1000 });
    h.push(item(1));
    h.push(item(2));
    expect(h.toArray().map((x) => x.at)).toEqual([1, 2]);
    for (let t = 3; t <= 1000; t++) h.push(item(t));
    expect(h.size).toBe(3);
    expect(h.toArray().map((x) => x.at)).toEqual([998, 999, 1000]);
    expect(h.latest()).toEqual(item(1000));
  });

  it('gives chart series through a selector, nulls kept as gaps', () => {
    const h = new StatsHistory<ReturnType<typeof item>>({ durationMs: 4000 });
    for (const [at, v] of [[1, 5], [2, null], [3, 7], [4, 8], [5, 9]] as const) h.push(item(at, v));
    expect(h.series((x) => x.value)).toEqual([
      { at: 2, value: null },
      { at: 3, value: 7 },
      { at: 4, value: 8 },
      { at: 5, value: 9 },
    ]);
    expect(h.series(() => undefined).map((p) => p.value)).toEqual([null, null, null, null]);
  });

  it('clears', () => {
    const h = new StatsHistory<ReturnType<typeof item>>({ capacity: 2 });
    h.push(item(1));
    h.clear();
    expect(h.toArray()).toEqual([]);
    h.push(item(2));
    expect(h.latest()).toEqual(item(2));
  });
});

describe('EventTimeline', () => {
  it('records with the clock, in order, bounded to its capacity (2000 by default)', () => {
    expect(new EventTimeline().capacity).toBe(2000);
    let now = 100;
    const t = new EventTimeline({ capacity: 3, now: () => now });
    t.record('signaling', null, { state: 'open' });
    now = 200;
    t.record('ice-connection', 'p1', { state: 'checking' });
    t.record('candidate-error', 'p1', { url: 'turns:turn.example.com:443?transport=tcp', errorCode: 701 }, 150);
    t.record('selected-pair', 'p1', { label: 'Relay TLS 443', relay: true, url: null });
    expect(t.entries().map((e) => [e.at, e.kind])).toEqual([
      [200, 'ice-connection'],
      [150, 'candidate-error'],
      [200, 'selected-pair'],
    ]);
    expect(t.size).toBe(3);
  });

  it('copies the detail it is given', () => {
    const t = new EventTimeline();
    const detail: Record<string, string> = { state: 'connected' };
    t.record('connection', 'p1', detail);
    detail.state = 'failed';
    expect(t.entries()[0]!.detail).toEqual({ state: 'connected' });
  });

  it('tells subscribers until they unsubscribe; one throwing does not starve the others', () => {
    const t = new EventTimeline({ now: () => 1 });
    const seen: TimelineEntry[] = [];
    const broken = vi.fn(() => {
      throw new Error('listener bug');
    });
    const offBroken = t.subscribe(broken);
    const off = t.subscribe((e) => seen.push(e));
    expect(() => t.record('media', 'p1', { video: false })).toThrow('listener bug');
    expect(seen).toEqual([{ at: 1, peerId: 'p1', kind: 'media', detail: { video: false } }]);
    offBroken();
    t.record('reconnect', null, { attempt: 1 });
    off();
    t.record('policy', null, { policy: 'relay-tls' });
    expect(seen.map((e) => e.kind)).toEqual(['media', 'reconnect']);
    expect(broken).toHaveBeenCalledTimes(1);
    expect(t.entries()).toHaveLength(3);
  });
});

describe('StatsSampler', () => {
  type Stats = Record<string, unknown> & { id: string; timestamp: number };
  const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, '../fixtures/stats/relay-tls.json'), 'utf8')) as { samples: { at: number; stats: Stats[] }[] };
  const reports = fixture.samples.map((s) => new Map(s.stats.map((e) => [e.id, e])) as StatsReportLike);

  function setup() {
    let tick: (() => void) | null = null;
    const cleared: unknown[] = [];
    const samples: [string, number | null, number | null][] = [];
    let cpu = 0;
    const sampler = new StatsSampler({
      intervalMs: 1000,
      historyMs: 2000,
      now: () => 5000,
      cpuClock: () => (cpu += 0.25),
      setInterval: (fn, ms) => {
        expect(ms).toBe(1000);
        tick = fn;
        return 'timer-1';
      },
      clearInterval: (h) => cleared.push(h),
      onSample: (peerId, snapshot, score) => samples.push([peerId, snapshot.quality.videoOut.bitrate, score?.score ?? null]),
    });
    return { sampler, samples, cleared, fire: () => tick!() };
  }

  /** A pc whose getStats() resolves only when the test says so. */
  function manualPc() {
    const pending: ((r: StatsReportLike) => void)[] = [];
    const pc: StatsSource = { getStats: vi.fn(() => new Promise<StatsReportLike>((resolve) => pending.push(resolve))) };
    return { pc, pending };
  }
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('samples each tracked pc once per tick, reduces against the previous sample and keeps history', async () => {
    const { sampler, samples } = setup();
    let i = 0;
    sampler.track('alice', { getStats: () => Promise.resolve(reports[i++]!) });
    for (let n = 0; n < 3; n++) await sampler.tick();
    expect(samples.map(([id, bitrate]) => [id, bitrate === null ? null : bitrate > 100_000])).toEqual([
      ['alice', null],
      ['alice', true],
      ['alice', true],
    ]);
    expect(samples.at(-1)![2]).toBe(5);
    expect(sampler.history('alice')!.capacity).toBe(2);
    expect(sampler.history('alice')!.size).toBe(2);
    expect(sampler.snapshots().get('alice')!.path.label).toBe('Relay TLS 443');
    expect(sampler.lastSampleCostMs('alice')).toBe(0.25);
    expect(sampler.history('bob')).toBeNull();
  });

  it('never overlaps two samples of one pc', async () => {
    const { sampler, samples, fire } = setup();
    const { pc, pending } = manualPc();
    sampler.track('alice', pc);
    fire();
    fire();
    fire();
    expect(pc.getStats).toHaveBeenCalledTimes(1);
    pending.shift()!(reports[0]!);
    await flush();
    expect(samples).toHaveLength(1);
    fire();
    expect(pc.getStats).toHaveBeenCalledTimes(2);
  });

  it('drops a report that arrives after untrack, re-track or dispose, and skips failing getStats', async () => {
    const { sampler, samples, cleared, fire } = setup();
    const first = manualPc();
    sampler.track('alice', first.pc);
    fire();
    sampler.untrack('alice');
    first.pending.shift()!(reports[0]!);
    await flush();
    expect(samples).toEqual([]);

    sampler.track('bob', { getStats: () => Promise.reject(new Error('closed')) });
    await sampler.tick();
    expect(samples).toEqual([]);

    const second = manualPc();
    sampler.track('carol', second.pc);
    fire();
    sampler.dispose();
    second.pending.shift()!(reports[0]!);
    await flush();
    expect(samples).toEqual([]);
    expect(cleared).toEqual(['timer-1']);
    expect(sampler.snapshots().size).toBe(0);
  });
});
