import type { SignalData } from '../../../shared/protocol/index.js';

export interface QueuedSignal {
  to: string;
  data: SignalData;
  /** The serialized frame, ready to send. */
  frame: string;
}

// Lower rank is dropped first when full: a lost candidate costs little, a lost description a renegotiation.
// A lost media key or identity leaves frames that cannot be opened until the next key change.
const DROP_RANK: Record<SignalData['kind'], number> = { candidate: 0, 'media-state': 1, restart: 2, description: 3, 'e2ee-identity': 3, 'e2ee-key': 3 };

/** Signals held while the socket is down, bounded; `push` returns what it had to drop, if anything. */
export class OutboundQueue {
  private items: QueuedSignal[] = [];

  constructor(readonly limit: number) {}

  get length(): number {
    return this.items.length;
  }

  push(item: QueuedSignal): QueuedSignal | null {
    if (item.data.kind === 'media-state') {
      // Only the latest media state per peer matters.
      this.items = this.items.filter((q) => !(q.to === item.to && q.data.kind === 'media-state'));
    }
    this.items.push(item);
    if (this.items.length <= this.limit) return null;
    let victim = 0;
    for (let i = 1; i < this.items.length; i++) {
      if (DROP_RANK[this.items[i]!.data.kind] < DROP_RANK[this.items[victim]!.data.kind]) victim = i;
    }
    return this.items.splice(victim, 1)[0]!;
  }

  /** Empties the queue, returning its items oldest first. */
  drain(): QueuedSignal[] {
    const items = this.items;
    this.items = [];
    return items;
  }
}
