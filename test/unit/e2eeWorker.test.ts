import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from '../../renderer/src/call/e2ee/bytes.js';
import type { TransformJob, WorkerCommand, WorkerReport } from '../../renderer/src/call/e2ee/workerProtocol.js';

// The frame worker's code in Node: a stand-in for the worker global, encoded frames as plain objects.

interface Frame {
  data: ArrayBuffer;
  type?: string;
}

const scope = {
  onmessage: null as ((e: { data: WorkerCommand }) => void) | null,
  onrtctransform: null as ((e: { transformer: { readable: ReadableStream<Frame>; writable: WritableStream<Frame>; options: TransformJob } }) => void) | null,
  reports: [] as WorkerReport[],
  postMessage(report: WorkerReport) {
    this.reports.push(report);
  },
};

beforeAll(async () => {
  (globalThis as { self?: unknown }).self = scope;
  await import('../../renderer/src/call/e2ee/frameWorker.js');
});
afterAll(() => {
  delete (globalThis as { self?: unknown }).self;
});

const command = (c: WorkerCommand) => scope.onmessage!({ data: c });

/** Runs frames through one transform the way RTCRtpScriptTransform would, returning what came out. */
async function through(job: TransformJob, frames: Frame[]): Promise<Frame[]> {
  const out: Frame[] = [];
  const readable = new ReadableStream<Frame>({
    start(c) {
      for (const f of frames) c.enqueue(f);
      c.close();
    },
  });
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const writable = new WritableStream<Frame>({ write: (f) => void out.push(f), close: () => finished() });
  scope.onrtctransform!({ transformer: { readable, writable, options: job } });
  await done;
  return out;
}

const KEY = randomBytes(32);
const videoFrame = (type: 'key' | 'delta'): Frame => ({ type, data: Uint8Array.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 1, 2, 3, 4, ...randomBytes(100)]).buffer });

describe('frame worker', () => {
  it('drops outgoing frames until it has a key: nothing leaves in the clear', async () => {
    expect(await through({ operation: 'encrypt', kind: 'video' }, [videoFrame('key')])).toEqual([]);
  });

  it('seals with the send key, opens with the sender’s key, and reports the sender decryptable', async () => {
    command({ type: 'send-key', keyId: 3, key: KEY.slice().buffer });
    command({ type: 'receive-key', participant: 'bob', keyId: 3, key: KEY.slice().buffer });
    const frames = [videoFrame('key'), videoFrame('delta')];
    const plain = frames.map((f) => new Uint8Array(f.data.slice(0)));
    // Key commands apply in order, each after its derivation: wait for the send key to be in use.
    let sealed: Frame[] = [];
    await vi.waitFor(async () => {
      sealed = await through({ operation: 'encrypt', kind: 'video' }, frames.map((f) => ({ ...f, data: f.data.slice(0) })));
      expect(sealed).toHaveLength(2);
    });
    expect([...new Uint8Array(sealed[0]!.data).subarray(0, 10)]).toEqual([...plain[0]!.subarray(0, 10)]);
    expect([...new Uint8Array(sealed[1]!.data).subarray(0, 3)]).toEqual([...plain[1]!.subarray(0, 3)]);
    expect(new Uint8Array(sealed[1]!.data)[3]).not.toBe(plain[1]![3]);
    const opened = await through({ operation: 'decrypt', kind: 'video', participant: 'bob' }, sealed);
    expect(opened.map((f) => [...new Uint8Array(f.data)])).toEqual(plain.map((p) => [...p]));
    expect(scope.reports).toContainEqual({ type: 'decrypt-status', participant: 'bob', ok: true });
  });

  it('refuses frames it cannot open, and says so once they have failed for a second', async () => {
    const sealed = await through({ operation: 'encrypt', kind: 'audio' }, [{ data: randomBytes(60).buffer }]);
    scope.reports.length = 0;
    command({ type: 'remove-participant', participant: 'bob' });
    let now = 1_000_000;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      await vi.waitFor(async () => expect(await through({ operation: 'decrypt', kind: 'audio', participant: 'bob' }, [{ data: sealed[0]!.data.slice(0) }])).toEqual([]));
      expect(scope.reports).toEqual([]);
      now += 1000;
      await through({ operation: 'decrypt', kind: 'audio', participant: 'bob' }, [{ data: sealed[0]!.data.slice(0) }]);
      expect(scope.reports).toEqual([{ type: 'decrypt-status', participant: 'bob', ok: false, reason: 'no-key' }]);
    } finally {
      clock.mockRestore();
    }
  });

  it('passes empty frames through untouched', async () => {
    const empty = { type: 'empty', data: new ArrayBuffer(0) };
    expect(await through({ operation: 'decrypt', kind: 'video', participant: 'carol' }, [empty])).toEqual([empty]);
  });
});
