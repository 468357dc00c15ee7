import { StatsHistory } from './StatsHistory.js';

export type TimelineKind =
  | 'signaling'
  | 'ice-gathering'
  | 'ice-connection'
  | 'connection'
  | 'candidate-error'
  | 'selected-pair'
  | 'ice-restart'
  | 'policy'
  | 'reconnect'
  | 'media'
  | 'network';

export type TimelineDetail = Record<string, string | number | boolean | null>;

export interface TimelineEntry {
  at: number;
  /** null for call-wide events (signaling, network). */
  peerId: string | null;
  kind: TimelineKind;
  detail: TimelineDetail;
}

export type TimelineListener = (entry: TimelineEntry) => void;

export interface EventTimelineOptions {
  /** Entries kept; the oldest go first. Default 2000. */
  capacity?: number;
  now?: () => number;
}

/** What happened to a call, in order, bounded so a day-long call cannot grow it without limit. */
export class EventTimeline {
  readonly capacity: number;
  private readonly now: () => number;
  private readonly ring: StatsHistory<TimelineEntry>;
  private readonly listeners = new Set<TimelineListener>();

  constructor(opts: EventTimelineOptions = {}) {
    this.ring = new StatsHistory<TimelineEntry>({ capacity: opts.capacity ?? 2000 });
    this.capacity = this.ring.capacity;
    this.now = opts.now ?? (() => Date.now());
  }

  get size(): number {
    return this.ring.size;
  }

  /** Adds an entry (stamped now unless `at` is given) and tells the subscribers. */
  record(kind: TimelineKind, peerId: string | null, detail: TimelineDetail = {}, at: number = this.now()): TimelineEntry {
    // A copy: callers may reuse or mutate their detail object afterwards.
    const entry: TimelineEntry = { at, peerId, kind, detail: { ...detail } };
    this.ring.push(entry);
    let failure: { error: unknown } | null = null;
    for (const listener of [...this.listeners]) {
      try {
        listener(entry);
      } catch (error) {
        // One broken subscriber must not starve the others; its error still surfaces.
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
    return entry;
  }

  /** Oldest first. */
  entries(): TimelineEntry[] {
    return this.ring.toArray();
  }

  /** Calls `listener` for each entry recorded from now on; returns the unsubscribe function. */
  subscribe(listener: TimelineListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  clear(): void {
    this.ring.clear();
  }
}
