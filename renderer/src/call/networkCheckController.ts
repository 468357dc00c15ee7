import type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import { desktopClient, type DesktopClient } from '../desktop.js';
import { withLead } from '../store/errors.js';
import { useAppStore, type AppState } from '../store/index.js';
import { runNetworkCheck, type NetworkCheckDeps } from './networkCheck.js';
import type { Clock } from './timers.js';

export interface NetworkCheckControllerDeps {
  store: { getState(): AppState };
  desktop: DesktopClient;
  RTCPeerConnection: NetworkCheckDeps['RTCPeerConnection'];
  WebSocket: NetworkCheckDeps['WebSocket'];
  fetch: NetworkCheckDeps['fetch'];
  timeouts?: NetworkCheckDeps['timeouts'];
  /** The check's clock and timers (tests drive a manual one). */
  clock?: Partial<Clock>;
}

/**
 * Runs "Check my network" for the screen: fresh ICE servers from main, the check, the result into the
 * store. When the check finds that only TURN over TLS gets out (or that UDP works again), it records
 * that for this network as a call would, so the next call starts with the setting the summary names.
 */
export class NetworkCheckController {
  private running: AbortController | null = null;

  constructor(private readonly deps: NetworkCheckControllerDeps) {}

  private get store() {
    return this.deps.store.getState();
  }

  /** Resolves when the run ends (or could not start); a second call while one runs does nothing. */
  async run(): Promise<void> {
    if (this.running) return;
    const abort = new AbortController();
    this.running = abort;
    try {
      this.store.networkCheckPreparing();
      let config;
      try {
        config = await this.deps.desktop.networkCheckConfig();
      } catch (err) {
        if (!abort.signal.aborted) this.store.networkCheckFailed(withLead('The network check could not start', err));
        return;
      }
      if (abort.signal.aborted) return;
      const { result, publicAddress } = await runNetworkCheck(config, {
        RTCPeerConnection: this.deps.RTCPeerConnection,
        WebSocket: this.deps.WebSocket,
        fetch: this.deps.fetch,
        signal: abort.signal,
        ...this.deps.clock,
        ...(this.deps.timeouts ? { timeouts: this.deps.timeouts } : {}),
        onUpdate: (r) => {
          if (!abort.signal.aborted) this.store.networkCheckProgress(r);
        },
      });
      if (abort.signal.aborted || result.summary == null) return;
      this.store.networkCheckFinished(result, publicAddress);
      await this.remember(result.summary.policy);
    } finally {
      if (this.running === abort) this.running = null;
    }
  }

  /** Stops a run under way (the user left the screen); its probes are closed. */
  stop(): void {
    if (!this.running) return;
    this.running.abort();
    this.running = null;
    this.store.networkCheckStopped();
  }

  private async remember(policy: NetworkPolicy | null): Promise<void> {
    const desktop = this.store.session.desktop;
    if (policy == null || desktop == null) return;
    const restrictive = policy === 'relay-tls';
    if (restrictive === desktop.restrictiveNetwork) return;
    try {
      const state = await this.deps.desktop.rememberNetwork(restrictive);
      this.store.applyState(state);
      // A pre-join under way picks the setting up as prepare() would have.
      if (this.store.call.phase === 'prejoin') this.store.callPatch({ policy: state.restrictiveNetwork ? 'relay-tls' : state.networkPolicy });
    } catch {
      // The check's result stands; the record is only a head start for the next call.
    }
  }
}

let instance: NetworkCheckController | null = null;

/** The app's network check (on window.desktop and the browser's WebRTC, WebSocket and fetch). */
export function networkCheckController(): NetworkCheckController {
  instance ??= new NetworkCheckController({
    store: useAppStore,
    desktop: desktopClient(),
    RTCPeerConnection: window.RTCPeerConnection,
    WebSocket: window.WebSocket,
    fetch: (input, init) => window.fetch(input, init),
  });
  return instance;
}
