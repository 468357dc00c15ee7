import type { DiagnosticsDesktop } from '../../shared/diagnostics/document.js';
import type { IpHandlingPolicy, NetworkPrivacy, RendererErrorReport, UpdateStatus } from '../../shared/ipc/shellServices.js';
import type { CrashReportsInfo } from './crashReports.js';
import type { MainLog } from './mainLog.js';
import { NetworkPrivacySetting } from './networkPrivacy.js';
import { ServiceError } from './ServiceError.js';
import type { UpdateService } from './updates/UpdateService.js';

/** What main gives the desktop service for the shell's own services; each is optional in tests. */
export interface ShellDeps {
  /** Applies the WebRTC IP-handling policy to every window (webContents.setWebRTCIPHandlingPolicy). */
  applyIpPolicy?: (policy: IpHandlingPolicy) => void;
  /** session.resolveProxy of the app's session. */
  resolveProxy?: (url: string) => Promise<string>;
  /** The organisation fixed the IP-handling policy (managed configuration). */
  managedIpPolicy?: IpHandlingPolicy;
  /** Creates the update service, given how to tell whether a call is on; without it updates are off. */
  createUpdates?: (inCall: () => boolean) => UpdateService;
  /** The main process's log (electron-log); without it renderer reports go to the console. */
  log?: MainLog;
  /** What the crash reporter was started with. */
  crashReports?: CrashReportsInfo;
}

const NO_UPDATES: UpdateStatus = { state: 'disabled', version: null, percent: null, message: 'This build of ZeroRange does not update itself.', inCall: false };

/**
 * The shell's calls (network privacy, updates, the call signal, error reports) and its part of the
 * diagnostics, kept out of the desktop service so each stays one thing.
 */
export class ShellCalls {
  readonly #deps: ShellDeps;
  readonly #privacy: NetworkPrivacySetting;
  readonly #updates: UpdateService | null;
  #inCall = false;

  constructor(deps: ShellDeps & { userDataDir: string }) {
    this.#deps = deps;
    this.#privacy = new NetworkPrivacySetting({
      userDataDir: deps.userDataDir,
      apply: deps.applyIpPolicy ?? (() => undefined),
      ...(deps.resolveProxy ? { resolveProxy: deps.resolveProxy } : {}),
      ...(deps.managedIpPolicy ? { managedPolicy: deps.managedIpPolicy } : {}),
    });
    this.#updates = deps.createUpdates?.(() => this.#inCall) ?? null;
  }

  /** The policy in effect, for main to apply to each new window. */
  get ipHandlingPolicy(): IpHandlingPolicy {
    return this.#privacy.policy;
  }

  get inCall(): boolean {
    return this.#inCall;
  }

  networkPrivacy(origin: string | null): Promise<NetworkPrivacy> {
    return this.#privacy.info(origin);
  }

  setIpHandlingPolicy(policy: IpHandlingPolicy, origin: string | null): Promise<NetworkPrivacy> {
    this.#privacy.set(policy);
    this.#deps.log?.info(`network privacy: WebRTC IP handling set to ${policy}`);
    return this.#privacy.info(origin);
  }

  updateStatus(): UpdateStatus {
    return this.#updates?.status ?? { ...NO_UPDATES, inCall: this.#inCall };
  }

  onUpdateStatus(callback: (status: UpdateStatus) => void): () => void {
    return this.#updates?.onStatus(callback) ?? (() => undefined);
  }

  /** A check asked for by the user; resolves with the status after it (or at once when it waits for a call). */
  async checkForUpdates(): Promise<UpdateStatus> {
    if (!this.#updates) return this.updateStatus();
    await this.#updates.check();
    return this.#updates.status;
  }

  startUpdates(): void {
    this.#updates?.start();
  }

  restartToUpdate(): void {
    if (!this.#updates) throw new ServiceError('invalid-argument', 'no update is ready to install');
    this.#updates.restartToUpdate();
  }

  setInCall(inCall: boolean): void {
    if (inCall === this.#inCall) return;
    this.#inCall = inCall;
    this.#deps.log?.info(inCall ? 'call: started' : 'call: ended');
    this.#updates?.callChanged();
  }

  reportError(report: RendererErrorReport): void {
    if (this.#deps.log) this.#deps.log.rendererError(report);
    else console.error(`renderer (${report.source}): ${report.message}`);
  }

  /** The desktop section of a diagnostics file: policy, proxy, crash dumps, the recent main log. */
  async diagnostics(origin: string | null): Promise<DiagnosticsDesktop> {
    const privacy = await this.#privacy.info(origin);
    return {
      ipHandlingPolicy: privacy.ipHandlingPolicy,
      proxy: privacy.proxy,
      crashDumps: { dir: this.#deps.crashReports?.dir ?? null, uploadTo: this.#deps.crashReports?.uploadTo ?? null },
      mainLog: this.#deps.log?.recent(500) ?? [],
    };
  }

  dispose(): void {
    this.#updates?.dispose();
  }
}
