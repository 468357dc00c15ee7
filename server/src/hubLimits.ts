import type { ServerConfig } from './config.js';
import { KeyedRateLimiter, TokenBucket } from './rateLimit.js';

/**
 * What one sender may push through the hub: messages of any kind per socket, and relays to other
 * members per user, counted both in messages and in bytes. Counting messages alone let a member
 * relay 150 messages of 60 KB a second, enough to fill another member's send queue and get them
 * disconnected; the byte budget keeps what one user can put in anyone's queue under that limit.
 */
export class SenderLimits {
  private readonly userMessages: KeyedRateLimiter;
  private readonly userBytes: KeyedRateLimiter;

  constructor(
    private readonly limits: ServerConfig['limits'],
    private readonly now: () => number,
  ) {
    this.userMessages = new KeyedRateLimiter(limits.userMessageBurst, limits.userMessagesPerSecond, now);
    this.userBytes = new KeyedRateLimiter(limits.relayByteBurst, limits.relayBytesPerSecond, now);
  }

  /** A new socket's budget for messages of any kind. */
  socketBucket(): TokenBucket {
    return new TokenBucket(this.limits.messageBurst, this.limits.messagesPerSecond, this.now);
  }

  /** Takes one relay of `bytes` from the user's budgets; false when either is spent. */
  mayRelay(sub: string, bytes: number): boolean {
    return this.userMessages.take(sub) && this.userBytes.take(sub, bytes);
  }

  /** Forgets users whose budgets have refilled; call periodically. */
  sweep(): void {
    this.userMessages.sweep();
    this.userBytes.sweep();
  }
}
