import type { Bytes } from './bytes.js';
import type { MediaKind } from './frameCrypto.js';
import type { TransformJob, WorkerCommand, WorkerReport } from './workerProtocol.js';

export type TransformApi = 'script-transform' | 'encoded-streams';

/** Which encoded-transform API this browser has: the standard one, Chromium's older one, or none. */
export function transformApi(): TransformApi | null {
  if (typeof globalThis.RTCRtpScriptTransform === 'function') return 'script-transform';
  const sender = globalThis.RTCRtpSender?.prototype as unknown as Record<string, unknown> | undefined;
  return sender && typeof sender.createEncodedStreams === 'function' ? 'encoded-streams' : null;
}

/** The worker that seals and opens frames, bundled as a file of its own (the CSP allows workers from 'self'). */
export function createFrameWorker(): Worker {
  return new Worker(new URL('./frameWorker.ts', import.meta.url), { type: 'module', name: 'zr-frames' });
}

interface EncodedStreams {
  readable: ReadableStream;
  writable: WritableStream;
}
type WithEncodedStreams = { createEncodedStreams(): EncodedStreams };

/**
 * Puts the frame worker on a peer connection's senders and receivers, and gives it the keys. It knows
 * nothing of who holds which key: KeyAgreement decides, this only carries.
 */
export class MediaEncryption {
  private readonly worker: Worker;
  private readonly done = new WeakSet<RTCRtpSender | RTCRtpReceiver>();
  private readonly detach: (() => void)[] = [];

  constructor(
    private readonly api: TransformApi,
    createWorker: () => Worker,
    onStatus: (report: Extract<WorkerReport, { type: 'decrypt-status' }>) => void,
  ) {
    this.worker = createWorker();
    this.worker.onmessage = ({ data }: MessageEvent<WorkerReport>) => {
      if (data.type === 'decrypt-status') onStatus(data);
    };
  }

  /** What a peer connection's configuration needs for this API (Chromium's older one asks up front). */
  configure(config: RTCConfiguration): RTCConfiguration {
    return this.api === 'encoded-streams' ? ({ ...config, encodedInsertableStreams: true } as RTCConfiguration) : config;
  }

  setSendKey(keyId: number, key: Bytes): void {
    this.post({ type: 'send-key', keyId, key: key.slice().buffer });
  }

  setReceiveKey(participant: string, keyId: number, key: Bytes): void {
    this.post({ type: 'receive-key', participant, keyId, key: key.slice().buffer });
  }

  removeParticipant(participant: string): void {
    this.post({ type: 'remove-participant', participant });
  }

  private post(command: WorkerCommand, transfer: Transferable[] = []): void {
    if ('key' in command) transfer.push(command.key);
    this.worker.postMessage(command, transfer);
  }

  /** Seals what we send on `pc` and opens what `participant` sends on it, for every transceiver now and later. */
  attach(participant: string, pc: RTCPeerConnection): void {
    const scan = () => {
      for (const t of pc.getTransceivers()) {
        const kind = t.receiver.track.kind as MediaKind;
        this.transform(t.sender, { operation: 'encrypt', kind });
        this.transform(t.receiver, { operation: 'decrypt', kind, participant });
      }
    };
    scan();
    // Transceivers a remote offer adds appear with their track event.
    pc.addEventListener('track', scan);
    this.detach.push(() => pc.removeEventListener('track', scan));
  }

  private transform(end: RTCRtpSender | RTCRtpReceiver, job: TransformJob): void {
    if (this.done.has(end)) return;
    this.done.add(end);
    if (this.api === 'script-transform') {
      end.transform = new RTCRtpScriptTransform(this.worker, job);
      return;
    }
    const { readable, writable } = (end as unknown as WithEncodedStreams).createEncodedStreams();
    this.post({ type: 'stream', job, readable, writable }, [readable as unknown as Transferable, writable as unknown as Transferable]);
  }

  close(): void {
    for (const off of this.detach.splice(0)) off();
    this.worker.terminate();
  }
}
