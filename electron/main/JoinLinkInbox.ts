/**
 * The one place a join link from the OS waits until the page takes it. Links may come before the app
 * is ready (macOS open-url), while no window is open, or while the page reloads; the inbox holds them
 * (the newest `limit`) until a page calls take(). From then on they go to that page as they come,
 * until it leaves. Each link is handed out once: taken, or delivered, never both.
 */
export class JoinLinkInbox<T> {
  readonly #limit: number;
  #held: T[] = [];
  // waiting: no page takes links yet; reading: the page took them and gets new ones directly;
  // leaving: the page is going away (its late take gets nothing, the next page's gets them all).
  #phase: 'waiting' | 'reading' | 'leaving' = 'waiting';
  #deliver: ((item: T) => boolean) | null = null;

  constructor(limit = 8) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('the inbox holds at least one link');
    this.#limit = limit;
  }

  /** How a link reaches a reading page; false when it did not (the link is then held). */
  connect(deliver: (item: T) => boolean): void {
    this.#deliver = deliver;
  }

  push(item: T): void {
    if (this.#phase === 'reading' && this.#deliver?.(item)) return;
    this.#held.push(item);
    if (this.#held.length > this.#limit) this.#held.shift();
  }

  /** The page listens now: hands over what is held, oldest first; later links go to it directly. */
  take(): T[] {
    if (this.#phase === 'leaving') return [];
    this.#phase = 'reading';
    return this.#held.splice(0);
  }

  /** The page is going away (closed, crashed, reloading): links wait for the next one. */
  pageLeaving(): void {
    this.#phase = 'leaving';
  }

  /** A new document committed: it may take the held links once it listens. */
  pageCommitted(): void {
    this.#phase = 'waiting';
  }

  /** Between pageLeaving and the next pageCommitted: whatever the page asks now comes from a page going away. */
  get pageIsLeaving(): boolean {
    return this.#phase === 'leaving';
  }

  get size(): number {
    return this.#held.length;
  }
}
