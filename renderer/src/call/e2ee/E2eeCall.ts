import type { SignalData } from '../../../../shared/protocol/index.js';
import { KeyAgreement, type E2eeSignal } from './KeyAgreement.js';
import { createFrameWorker, MediaEncryption, transformApi, type TransformApi } from './MediaEncryption.js';

/** Frame encryption for a session: whether it is on, and how its worker is made (tests and the app differ). */
export interface FrameEncryptionOptions {
  createWorker?: () => Worker;
  /** The encoded-transform API to use; by default the standard one where it exists. */
  api?: TransformApi;
  /** After someone leaves, how long the new key is announced before frames use it. */
  rotationDelayMs?: number;
}

export function isE2eeSignal(data: SignalData): data is E2eeSignal {
  return data.kind === 'e2ee-identity' || data.kind === 'e2ee-key';
}

/**
 * One call's end-to-end frame encryption: the key agreement over signaling, and the worker on every
 * peer connection. Membership comes from the session (who was there, who joined, who left).
 */
export class E2eeCall {
  private readonly media: MediaEncryption;
  private keys: Promise<KeyAgreement> | null = null;

  /** Null where this browser has no encoded transforms (the call then goes on with DTLS-SRTP only). */
  static create(options: FrameEncryptionOptions, onStatus: (peerId: string, ok: boolean) => void): E2eeCall | null {
    const api = options.api ?? transformApi();
    if (!api) return null;
    const media = new MediaEncryption(api, options.createWorker ?? createFrameWorker, ({ participant, ok, reason }) => {
      if (!ok) console.warn(`end-to-end encryption: frames from peer ${participant} do not open (${reason === 'no-key' ? 'no key for them' : reason === 'rejected' ? 'wrong key or altered frames' : 'not encrypted frames'})`);
      onStatus(participant, ok);
    });
    return new E2eeCall(media, options);
  }

  private constructor(media: MediaEncryption, private readonly options: FrameEncryptionOptions) {
    this.media = media;
  }

  configure(config: RTCConfiguration): RTCConfiguration {
    return this.media.configure(config);
  }

  /** Once the server named us: our identity for this call. */
  start(selfId: string, send: (to: string, data: E2eeSignal) => void): void {
    this.keys ??= KeyAgreement.create({
      selfId,
      send,
      rotationDelayMs: this.options.rotationDelayMs,
      onSendKey: (keyId, key) => this.media.setSendKey(keyId, key),
      onReceiveKey: (from, keyId, key) => this.media.setReceiveKey(from, keyId, key),
      onError: (peerId, message) => console.warn(`end-to-end encryption, peer ${peerId}: ${message}`),
    });
  }

  private with(step: (keys: KeyAgreement) => void | Promise<void>): void {
    // In the order asked: every step waits for the same identity, then runs as it was queued.
    void this.keys?.then(step).catch((err: unknown) => console.warn(`end-to-end encryption: ${(err as Error).message}`));
  }

  peerPresent(peerId: string): void {
    this.with((k) => k.peerPresent(peerId));
  }

  peerJoined(peerId: string): void {
    this.with((k) => k.peerJoined(peerId));
  }

  peerLeft(peerId: string): void {
    this.media.removeParticipant(peerId);
    this.with((k) => k.peerLeft(peerId));
  }

  handle(from: string, data: E2eeSignal): void {
    this.with((k) => k.handle(from, data));
  }

  attach(peerId: string, pc: RTCPeerConnection): void {
    this.media.attach(peerId, pc);
  }

  close(): void {
    this.with((k) => k.close());
    this.media.close();
  }
}
