import type { DesktopState, NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { DiagnosticsFormat } from '../../../shared/diagnostics/document.js';
import type { CallMemory, RememberedCall } from '../call/CallMemory.js';
import { CallSession } from '../call/CallSession.js';
import { buildDiagnostics } from '../call/diagnosticsBuilder.js';
import type { FrameEncryptionOptions } from '../call/e2ee/E2eeCall.js';
import { CallEvent, type CallControllerEvents, type DeviceOption } from '../call/events.js';
import { LocalMedia } from '../call/LocalMedia.js';
import { effectivePolicy } from '../call/networkPolicy.js';
import { ExponentialBackoffPolicy } from '../call/ReconnectPolicy.js';
import type { RoomTokenSource } from '../call/RoomTokenSource.js';
import { SignalClient } from '../call/SignalClient.js';
import { StandbySocket } from '../call/StandbySocket.js';
import { WarmConnection } from '../call/WarmConnection.js';
import type { StatsHistory } from '../call/stats/StatsHistory.js';
import type { Clock } from '../call/timers.js';
import { TypedEmitter } from '../call/TypedEmitter.js';
import { DesktopError, type DesktopClient } from '../desktop.js';
import type { AppState } from '../store/index.js';
import { SetupHold } from './SetupHold.js';

/** What the controller reads of the app (never writes: its events are mapped into the store by the binder). */
export interface AppStateSource {
  getState(): AppState;
  subscribe(listener: (state: AppState, previous: AppState) => void): () => void;
}

export interface CallControllerDeps {
  app: AppStateSource;
  desktop: DesktopClient;
  /** Room tokens for this window's calls; the room slice fetched the pre-join one into it. */
  tokens: RoomTokenSource;
  media: MediaDevices;
  RTCPeerConnection: typeof RTCPeerConnection;
  WebSocket: typeof WebSocket;
  fillRandom: (bytes: Uint8Array) => Uint8Array;
  /** Remembers the call across a reload of this window; none: every join is a new participant. */
  memory?: CallMemory;
  /** Passed to LocalMedia and CallSession (an AudioContext meter by default). */
  createMeter?: ConstructorParameters<typeof LocalMedia>[0]['createMeter'];
  /** Asked at each join: frame encryption for that call, or null for DTLS-SRTP only. */
  frameEncryption?: () => FrameEncryptionOptions | null;
  /** Timers of the standby socket and of holding the screen during call setup; tests drive a fake one. */
  clock?: Partial<Clock>;
  /** The longest the screen waits for a connection being set up (SETUP_HOLD_MS by default). */
  setupHoldMs?: number;
}

const SESSION_EVENTS = [CallEvent.PhaseChanged, CallEvent.Joined, CallEvent.SignalingChanged, CallEvent.PeerUpdated, CallEvent.PeerRemoved, CallEvent.Notice] as const;

/**
 * What the call screens do: open the preview, join, leave, toggle and switch devices. The call
 * session and local media live here, outside React. Everything they and this controller report goes
 * out as `CallEvent`s; the store's binder maps them into the call slice.
 */
export class CallController extends TypedEmitter<CallControllerEvents> {
  private media: LocalMedia | null = null;
  private session: CallSession | null = null;
  private roomId: string | null = null;
  private policy: NetworkPolicy = 'auto';
  private start = { startMuted: false, startCameraOff: false };
  /** Camera and microphone opening; joining waits for it so the first offer carries the tracks. */
  private opening: Promise<void> = Promise.resolve();
  private readonly unforward: (() => void)[] = [];
  /** A call this window was in before it reloaded, being joined again. */
  private resuming: RememberedCall | null = null;
  private resumeChecked = false;
  private refreshTimer: ReturnType<typeof setInterval> | null = null;
  /** Saves the call's record now (while in a call). */
  private saveCall: (() => void) | null = null;
  /** The signaling socket opened while the pre-join screen shows (warmUp), for Join call to send `join` on. */
  private standby: StandbySocket | null = null;
  /** The first offer's peer connection, made while the pre-join screen shows (tracks added, nothing negotiated). */
  private warm: WarmConnection | null = null;
  /** What the call and the devices report, held while a connection is being set up. */
  private readonly hold: SetupHold;

  constructor(private readonly deps: CallControllerDeps) {
    super();
    this.hold = new SetupHold({
      deliver: ({ event, payload }) => this.emit(event, payload as never),
      ...(deps.setupHoldMs !== undefined ? { maxHoldMs: deps.setupHoldMs } : {}),
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
    deps.app.subscribe((state, previous) => {
      // When the room goes away (sign-out, another server, leaving), the call and the devices go with it.
      if (previous.room.status === 'joined' && state.room.status !== 'joined' && this.roomId !== null) this.leave();
      if (state.session.startup !== previous.session.startup) this.resumeAfterReload();
    });
    this.resumeAfterReload();
  }

  private get app(): AppState {
    return this.deps.app.getState();
  }

  /** Pre-join: opens camera and microphone for the preview and lists devices. */
  async prepare(roomId: string): Promise<void> {
    if (this.roomId === roomId) return;
    this.roomId = roomId;
    this.policy = effectivePolicy(this.app.session.desktop);
    this.emit(CallEvent.Prejoin, { roomId, policy: this.policy });
    if (!this.media) {
      // How calls start and which devices they use, as kept in Settings.
      const preferences = this.app.session.desktop?.preferences;
      if (preferences) this.setStartToggles({ startMuted: preferences.startMuted, startCameraOff: preferences.startCameraOff });
      const media = new LocalMedia({
        media: this.deps.media,
        ...(this.deps.createMeter ? { createMeter: this.deps.createMeter } : {}),
        // A device unplugged mid-call: the senders carry the default device's track instead.
        onTrackReplaced: (kind, track) => {
          if (!(kind === 'video' && this.media?.flags.screen)) void this.session?.replaceTrack(kind, track);
        },
      });
      this.media = media;
      this.forward(media, [CallEvent.LocalChanged]);
      this.opening = media.open({ ...this.start, ...(preferences ? { preferred: preferences.devices } : {}) });
    }
    await this.opening;
    const resume = this.resuming;
    if (resume?.roomId === roomId && this.roomId === roomId && !this.session) {
      this.resuming = null;
      this.setStartMuted(!resume.audio);
      this.setStartCameraOff(!resume.video);
      await this.join();
    }
  }

  private forward<E extends keyof CallControllerEvents>(source: TypedEmitter<Pick<CallControllerEvents, E>>, events: readonly E[]): void {
    for (const event of events) this.unforward.push(source.on(event, (payload) => this.hold.push({ event, payload } as Parameters<SetupHold['push']>[0])));
  }

  /**
   * The pre-join screen shows: the signaling socket for this room opens now (with the join's URL; the
   * room token stays in the token source until Join call), so joining only sends `join`. Returns the
   * stop for when the screen goes (a React effect's cleanup). Without a join at hand, nothing opens.
   */
  warmUp(roomId: string): () => void {
    const join = this.deps.tokens.peek(roomId);
    if (!join || this.session) return () => undefined;
    this.closeStandby();
    const standby = new StandbySocket({ WebSocket: this.deps.WebSocket, url: join.signalingUrl, ...this.deps.clock });
    this.standby = standby;
    void this.opening.then(() => this.rewarm());
    return () => {
      if (this.standby === standby) this.closeStandby();
      else standby.close();
    };
  }

  /** The pre-join's peer connection, made (again) for the policy and tracks it would join with now. */
  private rewarm(): void {
    this.warm?.close();
    this.warm = null;
    const join = this.roomId ? this.deps.tokens.peek(this.roomId) : null;
    if (!this.standby || this.session || !this.media || !join) return;
    this.warm = WarmConnection.make({ policy: this.policy, iceServers: join.iceServers, RTCPeerConnection: this.deps.RTCPeerConnection, tracks: this.media.tracks(), stream: this.media.stream });
  }

  private closeStandby(): void {
    this.standby?.close();
    this.standby = null;
    this.warm?.close();
    this.warm = null;
  }

  /**
   * Once the app is ready: a window reloaded in the middle of a call goes back into it, as the same
   * participant, with the microphone and camera as they were (the user never chose to leave).
   */
  private resumeAfterReload(): void {
    const { session, room } = this.app;
    if (this.resumeChecked || session.startup !== 'ready') return;
    this.resumeChecked = true;
    const remembered = this.deps.memory?.recall();
    if (!remembered || room.status !== 'idle' || this.roomId !== null) return;
    if (session.desktop?.server?.origin !== remembered.server || !session.desktop.user) return;
    this.resuming = remembered;
    void this.app.joinRoom(remembered.roomId).then((ok) => {
      if (!ok) this.resuming = null;
    });
  }

  private setStartToggles(start: { startMuted: boolean; startCameraOff: boolean }): void {
    this.start = start;
    this.emit(CallEvent.StartTogglesChanged, this.start);
  }

  setStartMuted(value: boolean): void {
    this.start = { ...this.start, startMuted: value };
    this.emit(CallEvent.StartTogglesChanged, this.start);
    this.media?.setAudioEnabled(!value);
  }

  setStartCameraOff(value: boolean): void {
    this.start = { ...this.start, startCameraOff: value };
    this.emit(CallEvent.StartTogglesChanged, this.start);
    this.media?.setVideoEnabled(!value);
  }

  /** Connects to the room's signaling and the peers in it. */
  async join(): Promise<void> {
    if (!this.roomId || !this.media || this.session) return;
    await this.opening;
    const { roomId, media } = this;
    if (!roomId || !media || this.session) return;
    const server = this.app.room.target?.server ?? this.app.session.desktop?.server?.origin ?? '';
    const makeId = () => base64url(this.deps.fillRandom(new Uint8Array(18)));
    // The same participant after a reload: the server gives the same clientId the same peer id.
    const clientId = this.deps.memory?.clientIdFor(server, roomId, makeId) ?? makeId();
    this.rememberCall(server, roomId, clientId);
    // Taken at the first connect, or closed once the join is settled either way.
    const { standby, warm } = this;
    this.standby = null;
    this.warm = null;
    const signal = new SignalClient({
      WebSocket: this.deps.WebSocket,
      clientId,
      policy: new ExponentialBackoffPolicy(),
      // The pre-join's join for the first connect (synchronously, so the socket opens at once), a fresh one after that.
      getJoin: () => this.deps.tokens.take(roomId),
      takeSocket: (url) => standby?.take(url) ?? null,
    });
    const e2ee = this.deps.frameEncryption?.() ?? null;
    const session = new CallSession({
      signal,
      media,
      RTCPeerConnection: this.deps.RTCPeerConnection,
      policy: this.policy,
      rememberNetwork: (restrictive) => void this.deps.desktop.rememberNetwork(restrictive).catch(() => undefined),
      warm,
      ...(this.deps.createMeter ? { createMeter: this.deps.createMeter } : {}),
      ...(e2ee ? { e2ee } : {}),
    });
    this.session = session;
    this.hold.join();
    this.forward(session, SESSION_EVENTS);
    await session.start();
    standby?.close();
  }

  /** Keeps the record of the call fresh while it lasts, so a reload after a crash finds it too. */
  private rememberCall(server: string, roomId: string, clientId: string): void {
    const memory = this.deps.memory;
    if (!memory) return;
    this.saveCall = () => {
      const { audio, video } = this.media?.flags ?? { audio: false, video: false };
      memory.remember({ server, roomId, clientId, audio, video });
    };
    this.saveCall();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(this.saveCall, memory.graceMs / 3);
  }

  /** Ends the session and releases the devices; what is remembered of the call is the caller's choice. */
  private teardown(): void {
    this.closeStandby();
    this.hold.clear();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    this.saveCall = null;
    this.session?.leave();
    this.session = null;
    this.media?.close();
    this.media = null;
    for (const off of this.unforward.splice(0)) off();
  }

  /**
   * The window is going away (closed, reloaded, navigated): say goodbye at once so nobody sees a
   * ghost, and keep the record so a reload comes back as the same participant.
   */
  pageHidden(): void {
    this.closeStandby();
    if (!this.session) return;
    this.saveCall?.();
    this.teardown();
  }

  /** Leaves the call and the pre-join, and releases camera and microphone. */
  leave(): void {
    if (this.session) this.deps.memory?.forget();
    this.teardown();
    this.deps.tokens.clear();
    this.roomId = null;
    this.start = { startMuted: false, startCameraOff: false };
    this.emit(CallEvent.Ended, {});
  }

  async toggleAudio(): Promise<void> {
    this.media?.setAudioEnabled(!this.media.flags.audio);
    this.session?.announceMedia();
  }

  async toggleVideo(): Promise<void> {
    this.media?.setVideoEnabled(!this.media.flags.video);
    this.session?.announceMedia();
  }

  async toggleScreenShare(): Promise<void> {
    const media = this.media;
    if (!media) return;
    if (media.flags.screen) {
      await this.session?.replaceTrack('video', media.stopScreen());
    } else {
      const track = await media.startScreen(() => void this.session?.replaceTrack('video', this.media?.stopScreen() ?? null));
      if (track) await this.session?.replaceTrack('video', track);
    }
    this.session?.announceMedia();
  }

  async selectDevice(kind: DeviceOption['kind'], deviceId: string): Promise<void> {
    const media = this.media;
    if (!media) return;
    const track = await media.switchDevice(kind, deviceId);
    if (!this.session) this.rewarm();
    if (track && !(kind === 'videoinput' && media.flags.screen)) {
      await this.session?.replaceTrack(track.kind as 'audio' | 'video', track);
    }
    // The choice is kept for the next calls (Settings shows it); the label finds the device again if its id changes.
    if (media.view.selected[kind] === deviceId) {
      const label = media.view.devices.find((d) => d.kind === kind && d.deviceId === deviceId)?.label ?? '';
      await this.deps.desktop.setPreferences({ devices: { [kind]: { deviceId, label } } }).catch(() => undefined);
    }
  }

  private prejoinPolicy(policy: NetworkPolicy): void {
    if (this.roomId === null || this.session) return;
    this.policy = policy;
    this.emit(CallEvent.PolicyChanged, { policy });
    this.rewarm();
  }

  /** The network policy setting; a call in progress keeps its own until it is joined again. */
  async setPolicy(policy: NetworkPolicy): Promise<void> {
    try {
      await this.deps.desktop.setNetworkPolicy(policy);
    } catch (err) {
      // Not kept (main unreachable): this call still takes it. Fixed by the organisation: not even this call.
      if (!(err instanceof DesktopError) || err.code === 'forbidden') throw err;
    }
    this.prejoinPolicy(policy);
  }

  /** Main recorded what a network check learned: a pre-join under way starts with it, as prepare() would. */
  networkRemembered(state: DesktopState): void {
    this.prejoinPolicy(effectivePolicy(state));
  }

  /** Recent statistics of one peer, for the panel's charts (kept outside the store). */
  statsHistory(peerId: string): StatsHistory | null {
    return this.session?.stats.history(peerId) ?? null;
  }

  /**
   * Saves a diagnostics file through main's save dialog: the call's candidates, pairs, statistics and
   * timeline, and the latest network check. Resolves with the path, or null when cancelled.
   */
  async exportDiagnostics(format: DiagnosticsFormat, includeAddresses: boolean): Promise<string | null> {
    const { session, call, networkCheck } = this.app;
    const context = { appInfo: session.appInfo, desktop: session.desktop, callPolicy: call.policy, peerName: (id: string) => call.peers[id]?.name ?? null };
    const document = await buildDiagnostics(context, this.session, networkCheck.latest);
    const saved = await this.deps.desktop.saveDiagnostics(document, { format, includeAddresses });
    return saved?.path ?? null;
  }

  /** The user's pick from the screen-share picker (null cancels). */
  async chooseScreenSource(id: string | null): Promise<void> {
    this.emit(CallEvent.ScreenSourcesAnswered, {});
    await this.deps.desktop.chooseScreenSource(id).catch(() => undefined);
  }

  /** Forgets what the app learned about networks (and this one). */
  async forgetNetworks(): Promise<void> {
    const state = await this.deps.desktop.forgetNetworks();
    this.prejoinPolicy(state.networkPolicy);
  }
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
