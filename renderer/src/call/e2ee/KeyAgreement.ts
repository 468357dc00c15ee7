import type { SignalData } from '../../../../shared/protocol/index.js';
import { clockFrom, type Clock } from '../timers.js';
import { randomBytes, type Bytes } from './bytes.js';
import { KEY_BYTES, nextKeyId, ratchet } from './frameCrypto.js';
import { createIdentity, openKey, pairwiseKey, sealKey, type Identity } from './pairwise.js';

export type E2eeSignal = Extract<SignalData, { kind: 'e2ee-identity' | 'e2ee-key' }>;

export interface KeyAgreementOptions {
  selfId: string;
  send(to: string, data: E2eeSignal): void;
  /** Seal outgoing frames with this key from now on. */
  onSendKey(keyId: number, key: Bytes): void;
  /** A member's media key (theirs to send with; ours to open their frames with). */
  onReceiveKey(from: string, keyId: number, key: Bytes): void;
  /** A member's identity key arrived or changed (the SFU security code hashes them all). */
  onIdentity?(peerId: string, publicKey: string): void;
  /** Something a member sent could not be used (logged; their frames then cannot be opened). */
  onError?(peerId: string, message: string): void;
  clock?: Partial<Clock>;
  /** After someone leaves, how long the new key is announced before frames use it. */
  rotationDelayMs?: number;
}

interface MediaKey {
  keyId: number;
  base: Bytes;
}

interface Member {
  publicKey: string;
  pairKey: CryptoKey;
}

/**
 * Who may read our media, by the rules Jitsi uses: every member gets our media key sealed for them
 * alone; someone who joins gets it ratcheted forward (they cannot read what came before); someone
 * who leaves makes us pick a fresh random key (they cannot read what follows), announced to the rest
 * a moment before frames switch to it.
 */
export class KeyAgreement {
  private readonly clock: Clock;
  private readonly members = new Map<string, Member>();
  /** Peers signaling told us of (present or joined), identity known or not. */
  private readonly known = new Set<string>();
  private current: MediaKey;
  private pending: { key: MediaKey; timer: unknown } | null = null;
  /** Key changes and sends, one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  /** Members' messages, one at a time, in the order they came (apply never rejects). */
  private incoming: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly opts: KeyAgreementOptions, readonly identity: Identity) {
    this.clock = clockFrom(opts.clock ?? {});
    this.current = { keyId: 0, base: randomBytes(KEY_BYTES) };
    opts.onSendKey(this.current.keyId, this.current.base);
  }

  static async create(opts: KeyAgreementOptions): Promise<KeyAgreement> {
    return new KeyAgreement(opts, await createIdentity());
  }

  get publicKey(): string {
    return this.identity.publicKey;
  }

  /** Every identity key in the call, ours included. */
  identities(): Map<string, string> {
    return new Map([[this.opts.selfId, this.publicKey], ...[...this.members].map(([id, m]) => [id, m.publicKey] as const)]);
  }

  /** The key our frames are sealed with now. */
  get sendKeyId(): number {
    return this.current.keyId;
  }

  /** A member already in the call when we joined: our key is new to them anyway. */
  peerPresent(peerId: string): void {
    this.known.add(peerId);
    this.opts.send(peerId, { kind: 'e2ee-identity', publicKey: this.publicKey });
  }

  /** Someone joined after us: ratchet before they can get a key. */
  peerJoined(peerId: string): void {
    this.known.add(peerId);
    this.enqueue(async () => {
      if (this.pending) this.switchToPending();
      this.current = { keyId: nextKeyId(this.current.keyId), base: await ratchet(this.current.base) };
      this.opts.onSendKey(this.current.keyId, this.current.base);
      await this.sendToAll(this.current);
    });
    this.opts.send(peerId, { kind: 'e2ee-identity', publicKey: this.publicKey });
  }

  /** Someone left: a fresh key the leaver never gets. */
  peerLeft(peerId: string): void {
    this.known.delete(peerId);
    this.members.delete(peerId);
    this.enqueue(async () => {
      if (this.pending) this.switchToPending();
      const key = { keyId: nextKeyId(this.current.keyId), base: randomBytes(KEY_BYTES) };
      this.pending = { key, timer: this.clock.setTimeout(() => this.enqueue(async () => this.switchToPending()), this.opts.rotationDelayMs ?? 1000) };
      await this.sendToAll(key);
    });
  }

  private switchToPending(): void {
    if (!this.pending) return;
    this.clock.clearTimeout(this.pending.timer);
    this.current = this.pending.key;
    this.pending = null;
    this.opts.onSendKey(this.current.keyId, this.current.base);
  }

  /** Applies a member's message after the ones before it: a key must not overtake its sender's identity. */
  handle(from: string, data: E2eeSignal): Promise<void> {
    this.incoming = this.incoming.then(() => (this.closed ? undefined : this.apply(from, data)));
    return this.incoming;
  }

  private async apply(from: string, data: E2eeSignal): Promise<void> {
    if (data.kind === 'e2ee-identity') return this.onIdentity(from, data.publicKey);
    const member = this.members.get(from);
    if (!member) return this.opts.onError?.(from, 'a media key came before its sender’s identity');
    try {
      const key = await openKey(member.pairKey, from, this.opts.selfId, data);
      if (key.length !== KEY_BYTES) throw new Error('wrong length');
      if (!this.closed && this.members.get(from) === member) this.opts.onReceiveKey(from, data.keyId, key);
    } catch {
      this.opts.onError?.(from, 'a media key could not be opened (it was not sealed for this call)');
    }
  }

  private async onIdentity(from: string, publicKey: string): Promise<void> {
    const before = this.members.get(from);
    if (before?.publicKey === publicKey) return;
    let pairKey: CryptoKey;
    try {
      pairKey = await pairwiseKey(this.identity, publicKey);
    } catch (err) {
      return this.opts.onError?.(from, `an identity key was refused: ${(err as Error).message}`);
    }
    if (this.closed) return;
    // An identity from someone signaling has not announced yet counts as a join (the messages raced).
    if (!this.known.has(from)) this.peerJoined(from);
    this.members.set(from, { publicKey, pairKey });
    this.opts.onIdentity?.(from, publicKey);
    // A member who reloaded has a new identity and has lost ours.
    if (before) this.opts.send(from, { kind: 'e2ee-identity', publicKey: this.publicKey });
    this.enqueue(async () => {
      await this.sendTo(from, this.current);
      if (this.pending) await this.sendTo(from, this.pending.key);
    });
  }

  private async sendToAll(key: MediaKey): Promise<void> {
    await Promise.all([...this.members.keys()].map((id) => this.sendTo(id, key)));
  }

  private async sendTo(peerId: string, key: MediaKey): Promise<void> {
    const member = this.members.get(peerId);
    if (!member || this.closed) return;
    const sealed = await sealKey(member.pairKey, this.opts.selfId, peerId, key.keyId, key.base);
    if (this.members.get(peerId) === member && !this.closed) this.opts.send(peerId, { kind: 'e2ee-key', ...sealed });
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(() => (this.closed ? undefined : step())).catch((err: unknown) => {
      this.opts.onError?.(this.opts.selfId, `a key change failed: ${(err as Error).message}`);
    });
  }

  /** Settles when every key change and send asked for so far is done (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  close(): void {
    this.closed = true;
    if (this.pending) this.clock.clearTimeout(this.pending.timer);
    this.pending = null;
    this.members.clear();
  }
}
