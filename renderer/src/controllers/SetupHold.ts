import { CallEvent, type CallControllerEvents, type LocalView } from '../call/events.js';
import { clockFrom, type Clock } from '../call/timers.js';

type HeldEvent = { [E in keyof CallControllerEvents]: { event: E; payload: CallControllerEvents[E] } }[keyof CallControllerEvents];

export interface SetupHoldDeps {
  /** Where the events go once let out (the controller's own emit). */
  deliver: (held: HeldEvent) => void;
  /** The longest the screen waits for a connection being set up. */
  maxHoldMs?: number;
  clock?: Partial<Clock>;
}

/** Long enough for a direct connection (about 70 ms on a loaded laptop), short enough to feel instant. */
export const SETUP_HOLD_MS = 200;

/**
 * Holds what the call reports while a peer connection is being set up (from Join call, and from a
 * newcomer's arrival, until that connection is connected or failed, or `maxHoldMs`), then lets it all
 * out at once, in order. Each event shown means a React render, and a render between a description
 * arriving and its answer going out, or during ICE and DTLS, delays the connection by as long
 * (bench:call: the call screen's render at the click, a newcomer's tile, the level meter). Failures
 * go out at once.
 */
export class SetupHold {
  private readonly clock: Clock;
  private queue: HeldEvent[] = [];
  /** The microphone level and devices change often: only their latest state is kept. */
  private local: Partial<LocalView> | null = null;
  /** Peers whose connection is being set up. */
  private readonly settingUp = new Set<string>();
  /** Peers reported before: a connection made again to one of them (a reload) does not hold the screen. */
  private readonly known = new Set<string>();
  private joining = false;
  private timer: unknown = null;

  constructor(private readonly deps: SetupHoldDeps) {
    this.clock = clockFrom(deps.clock ?? {});
  }

  get holding(): boolean {
    return this.timer !== null;
  }

  /** Join call: hold until the welcome names the peers to connect to (and then until they are). */
  join(): void {
    this.joining = true;
    this.start();
  }

  push(held: HeldEvent): void {
    this.track(held);
    if (!this.holding) return this.deps.deliver(held);
    if (held.event === CallEvent.LocalChanged) this.local = { ...this.local, ...held.payload };
    else this.queue.push(held);
    if (held.event === CallEvent.PhaseChanged && held.payload.phase === 'failed') this.release();
    else if (held.event === CallEvent.Joined && this.joining) {
      // The welcome's peers are reported right after it, in the same task: judge once they are.
      queueMicrotask(() => {
        this.joining = false;
        this.releaseIfSettled();
      });
    } else this.releaseIfSettled();
  }

  /** Lets everything held out now. */
  release(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.joining = false;
    this.settingUp.clear();
    const queue = this.queue;
    const local = this.local;
    this.queue = [];
    this.local = null;
    if (local) this.deps.deliver({ event: CallEvent.LocalChanged, payload: local });
    for (const held of queue) this.deps.deliver(held);
  }

  /** Forgets what is held (the call ended) and stops. */
  clear(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.joining = false;
    this.queue = [];
    this.local = null;
    this.settingUp.clear();
    this.known.clear();
  }

  private track(held: HeldEvent): void {
    if (held.event === CallEvent.PeerRemoved) {
      this.settingUp.delete(held.payload.peerId);
      this.known.delete(held.payload.peerId);
    }
    if (held.event !== CallEvent.PeerUpdated) return;
    const { peerId, link } = held.payload;
    const settled = link === 'connected' || link === 'failed' || link === 'closed';
    if (!this.known.has(peerId)) {
      // Someone new (a newcomer, or the welcome's peers): a connection to them is being set up.
      this.known.add(peerId);
      if (!settled) {
        this.settingUp.add(peerId);
        this.start();
      }
    } else if (settled) this.settingUp.delete(peerId);
  }

  private start(): void {
    this.timer ??= this.clock.setTimeout(() => this.release(), this.deps.maxHoldMs ?? SETUP_HOLD_MS);
  }

  private releaseIfSettled(): void {
    if (this.holding && !this.joining && this.settingUp.size === 0) this.release();
  }
}
