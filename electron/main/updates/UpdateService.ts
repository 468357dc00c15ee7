import type { AppUpdater, ProgressInfo } from 'electron-updater';
import type { UpdateStatus } from '../../../shared/ipc/shellServices.js';
import { ServiceError } from '../ServiceError.js';

/** The part of electron-updater's AppUpdater the service drives (a real one in the app and in tests). */
export type UpdaterPort = Pick<AppUpdater, 'checkForUpdates' | 'downloadUpdate' | 'quitAndInstall' | 'on' | 'autoDownload' | 'autoInstallOnAppQuit' | 'channel'>;

export interface UpdateServiceOptions {
  /** null where updates cannot work (an unpackaged build, a platform without an updater). */
  updater: UpdaterPort | null;
  /** An administrator may turn updates off (managed configuration). */
  enabled: boolean;
  /** Said to the user when updates are off; default: turned off by the organisation. */
  disabledReason?: string;
  /** A channel an administrator pinned (`latest`, `beta` …); null keeps the one the app was built with. */
  channel?: string | null;
  /** Whether a call is on (main hears it from the renderer). */
  inCall: () => boolean;
  /** Between checks: a day. */
  checkEveryMs?: number;
  /** Before the first check, so start-up is not slowed: 10 s. */
  firstCheckAfterMs?: number;
  log?: { info(...data: unknown[]): void; warn(...data: unknown[]): void };
  /** Timers, replaceable in tests. */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function nodeTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * Automatic updates: checks at start and daily, downloads in the background (electron-updater
 * verifies the SHA-512 of the file, and on Windows and macOS its signature), and installs on
 * "Restart to update" or when the app quits. Nothing is offered, fetched or installed while a call is
 * on: a check that falls in a call waits for it to end. Staged rollouts are electron-updater's
 * (`stagingPercentage` in the metadata, against this installation's id).
 */
export class UpdateService {
  readonly #opts: UpdateServiceOptions;
  readonly #listeners = new Set<(status: UpdateStatus) => void>();
  readonly #setTimer: NonNullable<UpdateServiceOptions['setTimer']>;
  #status: UpdateStatus;
  #cancelTimer: (() => void) | null = null;
  #running: Promise<void> | null = null;
  /** A check came due during a call. */
  #pending = false;
  #disposed = false;

  constructor(opts: UpdateServiceOptions) {
    this.#opts = opts;
    this.#setTimer = opts.setTimer ?? nodeTimer;
    const off = !opts.enabled || !opts.updater;
    const message = !opts.enabled ? (opts.disabledReason ?? 'Updates are turned off by your organisation.') : !opts.updater ? 'This build of ZeroRange does not update itself.' : null;
    this.#status = { state: off ? 'disabled' : 'idle', version: null, percent: null, message, inCall: opts.inCall() };
    const updater = opts.updater;
    if (off || !updater) return;
    // The service decides when to download (never during a call); a downloaded update still installs on quit.
    updater.autoDownload = false;
    updater.autoInstallOnAppQuit = true;
    if (opts.channel) updater.channel = opts.channel;
    updater.on('download-progress', (progress: ProgressInfo) => {
      if (this.#status.state === 'downloading') this.#set({ percent: Math.max(0, Math.min(100, Math.round(progress.percent))) });
    });
  }

  get status(): UpdateStatus {
    return this.#status;
  }

  onStatus(callback: (status: UpdateStatus) => void): () => void {
    this.#listeners.add(callback);
    return () => void this.#listeners.delete(callback);
  }

  /** First check soon after start, then one a day. */
  start(): void {
    if (this.#status.state === 'disabled') return;
    this.#schedule(this.#opts.firstCheckAfterMs ?? 10_000);
  }

  /** Checks now (or once the call ends), and downloads what it finds. Resolves when that is done. */
  check(): Promise<void> {
    if (this.#status.state === 'disabled' || this.#disposed) return Promise.resolve();
    if (this.#opts.inCall()) {
      this.#pending = true;
      if (this.#status.state !== 'ready') this.#set({ state: 'deferred' });
      return Promise.resolve();
    }
    this.#running ??= this.#checkAndDownload().finally(() => (this.#running = null));
    return this.#running;
  }

  /** The renderer said a call started or ended: a check that waited for the call runs now. */
  callChanged(): void {
    const inCall = this.#opts.inCall();
    if (inCall !== this.#status.inCall) this.#set({});
    if (!inCall && this.#pending) {
      this.#pending = false;
      void this.check();
    }
  }

  /** "Restart to update": only with a verified download, and never during a call. */
  restartToUpdate(): void {
    if (this.#opts.inCall()) throw new ServiceError('busy', 'ZeroRange restarts to update once your call has ended');
    if (this.#status.state !== 'ready' || !this.#opts.updater) throw new ServiceError('invalid-argument', 'no update is ready to install');
    this.#opts.log?.info(`update: restarting to install ${this.#status.version ?? ''}`);
    this.#opts.updater.quitAndInstall(false, true);
  }

  dispose(): void {
    this.#disposed = true;
    this.#cancelTimer?.();
    this.#listeners.clear();
  }

  async #checkAndDownload(): Promise<void> {
    const updater = this.#opts.updater!;
    const before = this.#status;
    if (before.state === 'ready') return; // installed on restart or quit; nothing newer is fetched meanwhile
    this.#set({ state: 'checking', message: null });
    try {
      const result = await updater.checkForUpdates();
      if (!result?.isUpdateAvailable) {
        this.#set({ state: 'idle', version: null, percent: null });
        return;
      }
      const version = result.updateInfo.version;
      // A call may have started while the metadata was fetched: nothing is fetched during it.
      if (this.#opts.inCall()) {
        this.#pending = true;
        this.#set({ state: 'deferred', version });
        return;
      }
      this.#set({ state: 'downloading', version, percent: 0 });
      await updater.downloadUpdate();
      this.#opts.log?.info(`update: ${version} downloaded and verified`);
      this.#set({ state: 'ready', percent: 100 });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#opts.log?.warn(`update: ${message}`);
      this.#set({ state: 'error', percent: null, message: `The update could not be fetched: ${message.split('\n')[0]!.slice(0, 300)}` });
    }
  }

  #schedule(ms: number): void {
    this.#cancelTimer?.();
    this.#cancelTimer = this.#setTimer(() => {
      if (this.#disposed) return;
      void this.check();
      this.#schedule(this.#opts.checkEveryMs ?? DAY_MS);
    }, ms);
  }

  #set(patch: Partial<UpdateStatus>): void {
    this.#status = { ...this.#status, ...patch, inCall: this.#opts.inCall() };
    for (const cb of this.#listeners) cb(this.#status);
  }
}
