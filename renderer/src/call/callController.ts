import type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { JoinResponse } from '../../../shared/protocol/index.js';
import { DesktopError, desktopClient, type DesktopClient } from '../desktop.js';
import { useAppStore } from '../store/index.js';
import type { DeviceOption } from '../store/callSlice.js';
import type { DiagnosticsFormat } from '../../../shared/diagnostics/document.js';
import { CallMemory, type RememberedCall } from './CallMemory.js';
import { CallSession } from './CallSession.js';
import { buildDiagnostics } from './diagnosticsBuilder.js';
import type { StatsHistory } from './stats/StatsHistory.js';
import { LocalMedia } from './LocalMedia.js';
import { ExponentialBackoffPolicy } from './ReconnectPolicy.js';
import { SignalClient } from './SignalClient.js';

type Store = typeof useAppStore;

export interface CallControllerDeps {
  store: Store;
  desktop: DesktopClient;
  media: MediaDevices;
  RTCPeerConnection: typeof RTCPeerConnection;
  WebSocket: typeof WebSocket;
  fillRandom: (bytes: Uint8Array) => Uint8Array;
  /** Remembers the call across a reload of this window; none: every join is a new participant. */
  memory?: CallMemory;
  /** A monotonic clock (ms): how long a pre-join token has been held, whatever the wall clock says. */
  monotonicNow?: () => number;
}

/**
 * A pre-join room token is used for the first connect when it was received less than this long ago.
 * Judged by elapsed time, not by comparing the server's expiresAt with this machine's clock, which
 * may be minutes off: room tokens live at least 300 s (the server's lowest roomToken.ttlSeconds).
 */
const PREJOIN_TOKEN_FRESH_MS = 240_000;

/**
 * What the call screens do: open the preview, join, leave, toggle and switch devices. The call
 * session and local media live here, outside React; the store shows what they report.
 */
export class CallController {
  private media: LocalMedia | null = null;
  private session: CallSession | null = null;
  private lastJoin: JoinResponse | null = null;
  private lastJoinAt = 0;
  /** Camera and microphone opening; joining waits for it so the first offer carries the tracks. */
  private opening: Promise<void> = Promise.resolve();
  /** Room tokens are single-use: one handed to a connection is never handed out again (Try again). */
  private readonly usedTokens = new Set<string>();
  /** A call this window was in before it reloaded, being joined again. */
  private resuming: RememberedCall | null = null;
  private resumeChecked = false;
  private refreshTimer: ReturnType<typeof setInterval> | null = null;
  /** Saves the call's record now (while in a call). */
  private saveCall: (() => void) | null = null;

  constructor(private readonly deps: CallControllerDeps) {
    // When the room goes away (sign-out, another server, leaving), the call and the devices go with it.
    deps.store.subscribe((state, previous) => {
      if (previous.room.status === 'joined' && state.room.status !== 'joined' && state.call.phase !== 'idle') this.leave();
      this.resumeAfterReload();
    });
    this.resumeAfterReload();
  }

  private get store() {
    return this.deps.store.getState();
  }

  private monotonicNow(): number {
    return (this.deps.monotonicNow ?? (() => performance.now()))();
  }

  /** Pre-join: opens camera and microphone for the preview and lists devices. */
  async prepare(roomId: string, join: JoinResponse): Promise<void> {
    if (this.store.call.phase !== 'idle' && this.store.call.roomId === roomId) return;
    this.lastJoin = this.usedTokens.has(join.roomToken) ? null : join;
    this.lastJoinAt = this.monotonicNow();
    const desktop = this.store.session.desktop;
    this.store.callPatch({ phase: 'prejoin', roomId, policy: desktop?.restrictiveNetwork ? 'relay-tls' : (desktop?.networkPolicy ?? 'auto') });
    if (!this.media) {
      this.media = new LocalMedia({ media: this.deps.media, store: this.deps.store });
      this.opening = this.media.open();
    }
    await this.opening;
    const resume = this.resuming;
    if (resume?.roomId === roomId && this.store.call.phase === 'prejoin') {
      this.resuming = null;
      this.setStartMuted(!resume.audio);
      this.setStartCameraOff(!resume.video);
      await this.join();
    }
  }

  /**
   * Once the app is ready: a window reloaded in the middle of a call goes back into it, as the same
   * participant, with the microphone and camera as they were (the user never chose to leave).
   */
  private resumeAfterReload(): void {
    const { session, room, call } = this.store;
    if (this.resumeChecked || session.startup !== 'ready') return;
    this.resumeChecked = true;
    const remembered = this.deps.memory?.recall();
    if (!remembered || room.status !== 'idle' || call.phase !== 'idle') return;
    if (session.desktop?.server?.origin !== remembered.server || !session.desktop.user) return;
    this.resuming = remembered;
    void this.store.joinRoom(remembered.roomId).then((ok) => {
      if (!ok) this.resuming = null;
    });
  }

  setStartMuted(value: boolean): void {
    this.store.callPatch({ startMuted: value });
    this.media?.setAudioEnabled(!value);
  }

  setStartCameraOff(value: boolean): void {
    this.store.callPatch({ startCameraOff: value });
    this.media?.setVideoEnabled(!value);
  }

  /** Connects to the room's signaling and the peers in it. */
  async join(): Promise<void> {
    if (!this.store.call.roomId || !this.media || this.session) return;
    await this.opening;
    const { call } = this.store;
    if (!call.roomId || !this.media || this.session) return;
    const roomId = call.roomId;
    const server = this.store.room.target?.server ?? this.store.session.desktop?.server?.origin ?? '';
    const makeId = () => base64url(this.deps.fillRandom(new Uint8Array(18)));
    // The same participant after a reload: the server gives the same clientId the same peer id.
    const clientId = this.deps.memory?.clientIdFor(server, roomId, makeId) ?? makeId();
    this.rememberCall(server, roomId, clientId);
    let first = this.lastJoin && this.monotonicNow() - this.lastJoinAt < PREJOIN_TOKEN_FRESH_MS ? this.lastJoin : null;
    const signal = new SignalClient({
      WebSocket: this.deps.WebSocket,
      clientId,
      policy: new ExponentialBackoffPolicy(),
      // Room tokens are single-use: the one from pre-join for the first connect, a fresh one after that.
      getJoin: () => {
        const cached = first;
        first = null;
        const use = (join: JoinResponse) => {
          this.usedTokens.add(join.roomToken);
          return join;
        };
        // Synchronous when the pre-join's is still fresh, so the socket opens at once.
        return cached ? use(cached) : this.deps.desktop.joinRoom(roomId).then(use);
      },
    });
    this.session = new CallSession({
      signal,
      media: this.media,
      RTCPeerConnection: this.deps.RTCPeerConnection,
      store: this.deps.store,
      policy: call.policy,
      rememberNetwork: (restrictive) => void this.deps.desktop.rememberNetwork(restrictive).catch(() => undefined),
    });
    await this.session.start();
  }

  /** Keeps the record of the call fresh while it lasts, so a reload after a crash finds it too. */
  private rememberCall(server: string, roomId: string, clientId: string): void {
    const memory = this.deps.memory;
    if (!memory) return;
    const save = () => {
      const { audio, video } = this.store.call.local.media;
      memory.remember({ server, roomId, clientId, audio, video });
    };
    save();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(save, memory.graceMs / 3);
    this.saveCall = save;
  }

  private stopRemembering(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    this.saveCall = null;
  }

  /**
   * The window is going away (closed, reloaded, navigated): say goodbye at once so nobody sees a
   * ghost, and keep the record so a reload comes back as the same participant.
   */
  pageHidden(): void {
    if (!this.session) return;
    this.saveCall?.();
    this.stopRemembering();
    this.session.leave();
    this.session = null;
    this.media?.close();
    this.media = null;
  }

  /** Leaves the call and the pre-join, and releases camera and microphone. */
  leave(): void {
    if (this.session) this.deps.memory?.forget();
    this.stopRemembering();
    this.session?.leave();
    this.session = null;
    this.media?.close();
    this.media = null;
    this.lastJoin = null;
    this.store.callReset();
  }

  async toggleAudio(): Promise<void> {
    const on = !this.store.call.local.media.audio;
    this.media?.setAudioEnabled(on);
    this.session?.announceMedia();
  }

  async toggleVideo(): Promise<void> {
    const on = !this.store.call.local.media.video;
    this.media?.setVideoEnabled(on);
    this.session?.announceMedia();
  }

  async toggleScreenShare(): Promise<void> {
    if (!this.media) return;
    if (this.store.call.local.media.screen) {
      await this.session?.replaceTrack('video', this.media.stopScreen());
    } else {
      const track = await this.media.startScreen(() => void this.session?.replaceTrack('video', this.media?.stopScreen() ?? null));
      if (track) await this.session?.replaceTrack('video', track);
    }
    this.session?.announceMedia();
  }

  async selectDevice(kind: DeviceOption['kind'], deviceId: string): Promise<void> {
    if (!this.media) return;
    const track = await this.media.switchDevice(kind, deviceId);
    if (track && !(kind === 'videoinput' && this.store.call.local.media.screen)) {
      await this.session?.replaceTrack(track.kind as 'audio' | 'video', track);
    }
  }

  /** The network policy setting; a call in progress keeps its own until it is joined again. */
  async setPolicy(policy: NetworkPolicy): Promise<void> {
    try {
      await this.deps.desktop.setNetworkPolicy(policy);
    } catch (err) {
      if (!(err instanceof DesktopError)) throw err;
    }
    if (this.store.call.phase === 'prejoin') this.store.callPatch({ policy });
  }

  /** Recent statistics of one peer, for the panel's charts (kept outside the store). */
  statsHistory(peerId: string): StatsHistory | null {
    return this.session?.sampler.history(peerId) ?? null;
  }

  /**
   * Saves a diagnostics file through main's save dialog: the call's candidates, pairs, statistics and
   * timeline, and the latest network check. Resolves with the path, or null when cancelled.
   */
  async exportDiagnostics(format: DiagnosticsFormat, includeAddresses: boolean): Promise<string | null> {
    const document = await buildDiagnostics(this.store, this.session, this.store.networkCheck.latest);
    const saved = await this.deps.desktop.saveDiagnostics(document, { format, includeAddresses });
    return saved?.path ?? null;
  }

  /** The user's pick from the screen-share picker (null cancels). */
  async chooseScreenSource(id: string | null): Promise<void> {
    this.store.callPatch({ screenSources: null });
    await this.deps.desktop.chooseScreenSource(id).catch(() => undefined);
  }

  /** Forgets what the app learned about networks (and this one). */
  async forgetNetworks(): Promise<void> {
    const state = await this.deps.desktop.forgetNetworks();
    if (this.store.call.phase === 'prejoin') this.store.callPatch({ policy: state.networkPolicy });
  }
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

let instance: CallController | null = null;

/** The app's call controller (on window.desktop and the browser's media APIs). */
export function callController(): CallController {
  instance ??= new CallController({
    store: useAppStore,
    desktop: desktopClient(),
    media: navigator.mediaDevices,
    RTCPeerConnection: window.RTCPeerConnection,
    WebSocket: window.WebSocket,
    fillRandom: (bytes) => crypto.getRandomValues(bytes as Uint8Array<ArrayBuffer>),
    memory: new CallMemory(storageOrNull()),
  });
  return instance;
}

/**
 * At start-up: the controller exists from the first moment (a reloaded window resumes its call), and
 * a window going away says goodbye. `pagehide` fires on close, reload and navigation alike, in
 * Electron too; the `leave` it sends is queued on the open socket synchronously.
 */
export function installCallLifecycle(): void {
  const controller = callController();
  window.addEventListener('pagehide', () => controller.pageHidden());
}

function storageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
