import type { ScreenSource } from '../../shared/ipc/desktopApi.js';
import { ServiceError } from './ServiceError.js';

export interface ScreenShareBrokerDeps {
  /** Shows the sources to the user; false when no page is listening (then nothing is shared). */
  offer: (sources: ScreenSource[]) => boolean;
  /** How long the user has to pick (a minute). */
  timeoutMs?: number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (timer: unknown) => void;
}

interface Pending {
  sources: ScreenSource[];
  resolve: (source: ScreenSource | null) => void;
  timer: unknown;
}

/**
 * Between the page's request to share a screen and the user's pick: one request at a time, only a
 * source that was offered can be granted, and no answer in time shares nothing.
 */
export class ScreenShareBroker {
  readonly #deps: ScreenShareBrokerDeps;
  #pending: Pending | null = null;

  constructor(deps: ScreenShareBrokerDeps) {
    this.#deps = deps;
  }

  /** Resolves with the source the user picked, or null (cancelled, another request under way, no answer in time). */
  request(sources: ScreenSource[]): Promise<ScreenSource | null> {
    if (this.#pending || sources.length === 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const setTimer = this.#deps.setTimeout ?? setTimeout;
      const pending: Pending = { sources, resolve, timer: undefined };
      pending.timer = setTimer(() => this.#settle(pending, null), this.#deps.timeoutMs ?? 60_000);
      this.#pending = pending;
      if (!this.#deps.offer(sources)) this.#settle(pending, null);
    });
  }

  /** The user's answer: the id of an offered source, or null to cancel. */
  choose(id: string | null): void {
    const pending = this.#pending;
    if (!pending) throw new ServiceError('invalid-argument', 'no screen share is being asked for');
    // Only a source that was offered: the renderer cannot name an arbitrary window.
    const source = id === null ? null : pending.sources.find((s) => s.id === id);
    if (source === undefined) throw new ServiceError('invalid-argument', 'that source was not offered');
    this.#settle(pending, source);
  }

  /** Shares nothing for a request still open (the app is quitting). */
  cancel(): void {
    if (this.#pending) this.#settle(this.#pending, null);
  }

  #settle(pending: Pending, source: ScreenSource | null): void {
    if (this.#pending !== pending) return;
    this.#pending = null;
    (this.#deps.clearTimeout ?? clearTimeout)(pending.timer as ReturnType<typeof setTimeout>);
    pending.resolve(source);
  }
}
