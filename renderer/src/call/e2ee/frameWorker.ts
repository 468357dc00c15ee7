/**
 * The frame worker: seals our encoded frames and opens everyone else's, off the main thread. One per
 * call, so one FrameEncryptor (one counter per key) serves every outgoing stream.
 */
import { clearByteCount, FrameDecryptor, FrameEncryptor } from './frameCrypto.js';
import { FAILING_AFTER_MS, type TransformJob, type WorkerCommand, type WorkerReport } from './workerProtocol.js';

interface EncodedFrame {
  data: ArrayBuffer;
  /** Video only: 'key', 'delta' or 'empty'. */
  type?: string;
}

interface ScriptTransformer {
  readable: ReadableStream<EncodedFrame>;
  writable: WritableStream<EncodedFrame>;
  options: TransformJob;
}

/** The worker global this module needs (the renderer's types are the window's). */
interface FrameWorkerScope {
  onmessage: ((event: MessageEvent<WorkerCommand>) => void) | null;
  onrtctransform: ((event: Event & { transformer: ScriptTransformer }) => void) | null;
  postMessage(message: WorkerReport): void;
}

const scope = self as unknown as FrameWorkerScope;
const encryptor = new FrameEncryptor();
const decryptor = new FrameDecryptor();
/** Per participant: since when no frame opened (null: the last one did), and what was last reported. */
const health = new Map<string, { failingSince: number | null; reported: boolean | null }>();
/** Key changes apply in the order they were sent (each derivation is asynchronous). */
let keys: Promise<void> = Promise.resolve();

function inOrder(step: () => Promise<void> | void): void {
  keys = keys.then(step).catch(() => undefined);
}

function note(participant: string, ok: boolean, reason?: 'malformed' | 'no-key' | 'rejected'): void {
  const h = health.get(participant) ?? { failingSince: null, reported: null };
  health.set(participant, h);
  const now = performance.now();
  h.failingSince = ok ? null : (h.failingSince ?? now);
  const state = ok ? true : now - h.failingSince! >= FAILING_AFTER_MS ? false : h.reported;
  if (state !== h.reported && state !== null) {
    h.reported = state;
    scope.postMessage(state ? { type: 'decrypt-status', participant, ok: true } : { type: 'decrypt-status', participant, ok: false, reason: reason! });
  }
}

function transformFor(job: TransformJob): TransformStream<EncodedFrame, EncodedFrame> {
  return new TransformStream({
    async transform(frame, controller) {
      const data = new Uint8Array(frame.data);
      // Empty frames carry nothing to hide and nothing to open.
      if (data.length === 0) return controller.enqueue(frame);
      if (job.operation === 'encrypt') {
        const sealed = await encryptor.encrypt(data, clearByteCount(job.kind, frame.type === 'key', data.length));
        // No key yet: the frame is dropped, never sent in the clear.
        if (!sealed) return;
        frame.data = sealed.buffer;
        return controller.enqueue(frame);
      }
      const opened = await decryptor.decrypt(job.participant, data);
      note(job.participant, opened.ok, opened.ok ? undefined : opened.reason);
      // A frame that does not open is dropped: the decoder never sees garbage, the tile says why.
      if (!opened.ok) return;
      frame.data = opened.data.buffer;
      controller.enqueue(frame);
    },
  });
}

function run(readable: ReadableStream<EncodedFrame>, writable: WritableStream<EncodedFrame>, job: TransformJob): void {
  // Ends when the connection closes its streams; nothing to report then.
  readable.pipeThrough(transformFor(job)).pipeTo(writable).catch(() => undefined);
}

scope.onrtctransform = (event) => {
  const { readable, writable, options } = event.transformer;
  run(readable, writable, options);
};

scope.onmessage = ({ data: command }) => {
  switch (command.type) {
    case 'send-key':
      return inOrder(() => encryptor.setKey(command.keyId, new Uint8Array(command.key)));
    case 'receive-key':
      return inOrder(() => decryptor.setKey(command.participant, command.keyId, new Uint8Array(command.key)));
    case 'remove-participant':
      return inOrder(() => {
        decryptor.removeParticipant(command.participant);
        health.delete(command.participant);
      });
    case 'stream':
      run(command.readable as ReadableStream<EncodedFrame>, command.writable as WritableStream<EncodedFrame>, command.job);
      return;
  }
};
