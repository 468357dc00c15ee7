import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../shared/protocol/index.js';
import { percentile, summarize } from '../../bench/lib/report.js';
import { peerjs, zerorange, type Adapter, type SignalKind } from '../../bench/signal/adapters.js';
import { CYCLE, frameTemplate, seqOf, stamp } from '../../bench/signal/messages.js';
import { clientFrame } from '../../bench/signal/rawWs.js';

/** The payload of one masked client frame (the generator masks with a zero key). */
function payloadOf(frame: Buffer): Buffer {
  const len7 = frame[1]! & 0x7f;
  const head = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  const len = len7 < 126 ? len7 : len7 === 126 ? frame.readUInt16BE(2) : frame.readUInt32BE(6);
  expect(frame[1]! & 0x80).toBe(0x80);
  expect(frame.subarray(head, head + 4)).toEqual(Buffer.alloc(4));
  expect(frame.length).toBe(head + 4 + len);
  return frame.subarray(head + 4);
}

describe('bench report helpers', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(summarize([3, 1, 2])).toMatchObject({ n: 3, min: 1, p50: 2, max: 3, mean: 2 });
    expect(summarize([]).n).toBe(0);
  });
});

describe('bench:signal generator', () => {
  it('frames payloads of every length class as masked text frames', () => {
    for (const size of [0, 125, 126, 65_535, 65_536, 300_000]) {
      const payload = Buffer.alloc(size, 0x61);
      const frame = clientFrame(payload);
      expect(frame[0]).toBe(0x81);
      expect(payloadOf(frame).equals(payload)).toBe(true);
    }
  });

  it('sends ZeroRange messages the server accepts, SDPs of 3–8 KB', () => {
    for (const { kind } of CYCLE) {
      const t = frameTemplate(zerorange, 'peerAbcdefgh', kind, 12345);
      const text = payloadOf(stamp(t, 42)).toString('utf8');
      const parsed = parseClientMessage(text);
      expect(parsed.ok, text.slice(0, 120)).toBe(true);
      if (kind !== 'candidate') {
        expect(text.length).toBeGreaterThan(3000);
        expect(text.length).toBeLessThan(8500);
      } else expect(text.length).toBeLessThan(400);
    }
  });

  // The relay phase times each message by the sequence number it finds in what the server forwards.
  const forwarded: Record<'zerorange' | 'peerjs', (msg: Record<string, unknown>) => string> = {
    zerorange: (m) => JSON.stringify({ type: 'signal', from: 'sender123456', data: m.data }),
    peerjs: (m) => JSON.stringify({ type: m.type, src: 'sender', dst: m.dst, payload: m.payload }),
  };
  const cases: [Adapter, SignalKind][] = [zerorange, peerjs].flatMap((a) => (['offer', 'answer', 'candidate'] as const).map((k) => [a, k] as [Adapter, SignalKind]));
  it.each(cases)('finds the sequence number again after %s re-serializes a %s', (adapter, kind) => {
    const t = frameTemplate(adapter, 'peerAbcdefgh', kind, 7);
    for (const seq of [0, 9, 1_234_567, 9_999_999_999]) {
      const sent = JSON.parse(payloadOf(stamp(t, seq)).toString('utf8')) as Record<string, unknown>;
      expect(seqOf(Buffer.from(forwarded[adapter.kind](sent)))).toBe(seq);
    }
    // Stamping copies: the template is left as it was.
    expect(seqOf(payloadOf(t.frame))).toBe(0);
  });

  it('reads no sequence number from anything else the servers send', () => {
    for (const text of ['{"type":"welcome","self":{"peerId":"x"}}', '{"type":"error","code":"rate-limited"}', '{"type":"OPEN"}', '{"type":"pong","id":3}']) {
      expect(seqOf(Buffer.from(text))).toBe(-1);
    }
  });
});
