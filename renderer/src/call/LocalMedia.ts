import type { DeviceChoice } from '../../../shared/ipc/desktopApi.js';
import { CallEvent, initialLocalView, type DeviceOption, type LocalMediaEvents, type LocalView, type MediaFlags } from './events.js';
import { LevelMeter } from './LevelMeter.js';
import { TypedEmitter } from './TypedEmitter.js';

function mediaError(err: unknown): string {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'ZeroRange may not use your camera or microphone. Allow it in your system settings, then try again.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera or microphone was found.';
  if (name === 'NotReadableError') return 'Your camera or microphone is in use by another app.';
  return 'Your camera and microphone could not be opened.';
}

export interface LocalMediaDeps {
  media: MediaDevices;
  /** The level meter of the microphone (an AudioContext); injectable where there is none. */
  createMeter?: (stream: MediaStream, onLevel: (level: number, speaking: boolean) => void) => { close(): void };
  /** A device in use went away and a track of the default device took its place (null: none left). */
  onTrackReplaced?: (kind: 'audio' | 'video', track: MediaStreamTrack | null) => void;
}

type DeviceKind = DeviceOption['kind'];
type InputKind = Exclude<DeviceKind, 'audiooutput'>;

/** The devices the user chose (kept by main); each found again by id, else by name. */
export type PreferredDevices = Partial<Record<DeviceKind, DeviceChoice | null>>;

export interface OpenOptions {
  startMuted: boolean;
  startCameraOff: boolean;
  preferred?: PreferredDevices;
}

const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const NOUN: Record<DeviceKind, string> = { audioinput: 'microphone', videoinput: 'camera', audiooutput: 'speaker' };
const trackKindOf = (kind: InputKind): 'audio' | 'video' => (kind === 'audioinput' ? 'audio' : 'video');

/** The id of the chosen device among those present: the same id, or else the same name (ids can change). */
export function findPreferred(choice: DeviceChoice | null | undefined, kind: DeviceKind, devices: readonly MediaDeviceInfo[]): string | null {
  if (!choice) return null;
  const ofKind = devices.filter((d) => d.kind === kind && d.deviceId !== '');
  return (ofKind.find((d) => d.deviceId === choice.deviceId) ?? (choice.label ? ofKind.find((d) => d.label === choice.label) : undefined))?.deviceId ?? null;
}

/**
 * The camera, microphone and screen this app sends: one stream whose tracks are swapped on device
 * change, enabled flags for mute and camera off, and a level meter for the microphone. It keeps its
 * own view and reports each change as `LocalChanged`.
 */
export class LocalMedia extends TypedEmitter<LocalMediaEvents> {
  readonly stream = new MediaStream();
  private screenTrack: MediaStreamTrack | null = null;
  private meter: { close(): void } | null = null;
  private closed = false;
  private current: LocalView = initialLocalView;
  private readonly onDeviceChange = () => void this.listDevices().then(() => this.checkDevicesPresent());
  /** Tracks already being replaced (a device going away may say so twice: `ended` and `devicechange`). */
  private readonly replacing = new WeakSet<MediaStreamTrack>();

  constructor(private readonly deps: LocalMediaDeps) {
    super();
    deps.media.addEventListener?.('devicechange', this.onDeviceChange);
  }

  private patch(patch: Partial<LocalView>): void {
    this.current = { ...this.current, ...patch };
    this.emit(CallEvent.LocalChanged, patch);
  }

  /** The whole local view as it is now (devices listed, devices selected). */
  get view(): Readonly<LocalView> {
    return this.current;
  }

  /** What this side sends now (microphone and camera on, screen shared). */
  get flags(): MediaFlags {
    return this.current.media;
  }

  /**
   * Opens camera and microphone (either alone if the other is missing) for the preview and the call,
   * the chosen devices where they are present, the system's default otherwise.
   */
  async open({ startMuted, startCameraOff, preferred = {} }: OpenOptions): Promise<void> {
    const present = await this.deps.media.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    const micId = findPreferred(preferred.audioinput, 'audioinput', present) ?? preferred.audioinput?.deviceId;
    const camId = findPreferred(preferred.videoinput, 'videoinput', present) ?? preferred.videoinput?.deviceId;
    // `ideal`, not `exact`: a chosen device that is not there gives way to the default one.
    const audio: MediaTrackConstraints | boolean = micId ? { deviceId: { ideal: micId } } : true;
    const video: MediaTrackConstraints = camId ? { ...VIDEO, deviceId: { ideal: camId } } : VIDEO;
    let stream: MediaStream | null = null;
    let error: string | null = null;
    for (const constraints of [{ audio, video }, { audio }, { video }] as MediaStreamConstraints[]) {
      try {
        stream = await this.deps.media.getUserMedia(constraints);
        break;
      } catch (err) {
        error ??= mediaError(err);
      }
    }
    if (this.closed) {
      stream?.getTracks().forEach((t) => t.stop());
      return;
    }
    for (const track of stream?.getTracks() ?? []) {
      this.stream.addTrack(track);
      this.watchEnded(track);
    }
    const mic = this.track('audio');
    const camera = this.track('video');
    if (mic) mic.enabled = !startMuted;
    if (camera) camera.enabled = !startCameraOff;
    this.patch({
      stream: this.stream,
      media: { audio: Boolean(mic) && !startMuted, video: Boolean(camera) && !startCameraOff, screen: false },
      error: stream ? (mic && camera ? null : 'Only part of your media could be opened: ' + (error ?? '')) : error,
      selected: {
        audioinput: mic?.getSettings().deviceId ?? null,
        videoinput: camera?.getSettings().deviceId ?? null,
        audiooutput: findPreferred(preferred.audiooutput, 'audiooutput', present) ?? this.current.selected.audiooutput,
      },
    });
    this.watchLevel();
    await this.listDevices();
  }

  /** A device unplugged ends its track: carry on with the default device. */
  private watchEnded(track: MediaStreamTrack): void {
    track.addEventListener('ended', () => void this.fallBack(track.kind === 'audio' ? 'audioinput' : 'videoinput', track), { once: true });
  }

  /** After a device change: a device in use that is no longer listed has gone away. */
  private checkDevicesPresent(): void {
    const { devices, selected } = this.current;
    for (const kind of ['audioinput', 'videoinput'] as const) {
      const track = this.track(trackKindOf(kind));
      const id = selected[kind];
      // Listed ids are empty before permission: nothing can be said then.
      const listed = devices.filter((d) => d.kind === kind && d.deviceId !== '');
      if (track && id && listed.length > 0 && !listed.some((d) => d.deviceId === id)) void this.fallBack(kind, track);
    }
    const speaker = selected.audiooutput;
    if (speaker && speaker !== 'default' && !devices.some((d) => d.kind === 'audiooutput' && d.deviceId === speaker)) {
      this.patch({ selected: { ...this.current.selected, audiooutput: null }, deviceNotice: 'Your speaker was disconnected: sound plays on the default speaker now.' });
    }
  }

  /** Replaces the track of a device that went away with one from the default device, and says so. */
  private async fallBack(kind: InputKind, lost: MediaStreamTrack): Promise<void> {
    const trackKind = trackKindOf(kind);
    if (this.closed || this.replacing.has(lost) || this.track(trackKind) !== lost) return;
    this.replacing.add(lost);
    const name = lost.label ? `“${lost.label}”` : 'in use';
    const fresh = await this.deps.media
      .getUserMedia(trackKind === 'audio' ? { audio: true } : { video: VIDEO })
      .then((stream) => stream.getTracks()[0] ?? null)
      .catch(() => null); // none left: said below
    if (this.closed || this.track(trackKind) !== lost) {
      fresh?.stop(); // closed, or the user picked another device meanwhile
      return;
    }
    this.stream.removeTrack(lost);
    lost.stop();
    const media = { ...this.current.media };
    if (fresh) {
      fresh.enabled = lost.enabled;
      this.stream.addTrack(fresh);
      this.watchEnded(fresh);
    } else {
      media[trackKind] = false;
    }
    const now = fresh ? `using ${fresh.label ? `“${fresh.label}”` : `the default ${NOUN[kind]}`} now` : `no other ${NOUN[kind]} was found`;
    this.patch({
      stream: this.stream,
      media,
      selected: { ...this.current.selected, [kind]: fresh?.getSettings().deviceId ?? null },
      deviceNotice: `Your ${NOUN[kind]} ${name} was disconnected: ${now}.`,
    });
    if (trackKind === 'audio') this.watchLevel();
    this.deps.onTrackReplaced?.(trackKind, fresh);
  }

  private track(kind: 'audio' | 'video'): MediaStreamTrack | null {
    return (kind === 'audio' ? this.stream.getAudioTracks() : this.stream.getVideoTracks())[0] ?? null;
  }

  /** Tracks to send: microphone, and the screen while sharing, else the camera. */
  tracks(): MediaStreamTrack[] {
    const video = this.screenTrack ?? this.track('video');
    return [this.track('audio'), video].filter((t): t is MediaStreamTrack => t !== null);
  }

  private watchLevel(): void {
    this.meter?.close();
    const audio = this.track('audio');
    if (!audio) return;
    const create = this.deps.createMeter ?? ((stream, onLevel) => new LevelMeter(stream, onLevel));
    this.meter = create(new MediaStream([audio]), (level, speaking) => {
      const settled = level === 0 && this.current.level !== 0;
      if (settled || Math.abs(level - this.current.level) >= 0.02 || speaking !== this.current.speaking) this.patch({ level, speaking });
    });
  }

  private async listDevices(): Promise<void> {
    const devices = await this.deps.media.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    const counters: Record<string, number> = {};
    const options: DeviceOption[] = devices
      .filter((d): d is MediaDeviceInfo & { kind: DeviceOption['kind'] } => ['audioinput', 'videoinput', 'audiooutput'].includes(d.kind))
      .map((d) => {
        counters[d.kind] = (counters[d.kind] ?? 0) + 1;
        const fallback = `${d.kind === 'videoinput' ? 'Camera' : d.kind === 'audioinput' ? 'Microphone' : 'Speaker'} ${counters[d.kind]}`;
        return { deviceId: d.deviceId, kind: d.kind, label: d.label || fallback };
      });
    if (!this.closed) this.patch({ devices: options });
  }

  setAudioEnabled(on: boolean): void {
    const audio = this.track('audio');
    if (audio) audio.enabled = on;
    this.patch({ media: { ...this.current.media, audio: Boolean(audio) && on } });
  }

  setVideoEnabled(on: boolean): void {
    const camera = this.track('video');
    if (camera) camera.enabled = on;
    this.patch({ media: { ...this.current.media, video: Boolean(camera) && on } });
  }

  /** Switches to another device; returns the new track for the senders (null for speakers). */
  async switchDevice(kind: DeviceOption['kind'], deviceId: string): Promise<MediaStreamTrack | null> {
    if (kind === 'audiooutput') {
      this.patch({ selected: { ...this.current.selected, audiooutput: deviceId } });
      return null;
    }
    const trackKind = kind === 'audioinput' ? 'audio' : 'video';
    let fresh: MediaStream;
    try {
      fresh = await this.deps.media.getUserMedia({ [trackKind]: { deviceId: { exact: deviceId } } });
    } catch (err) {
      this.patch({ error: mediaError(err) });
      return null;
    }
    const track = fresh.getTracks()[0]!;
    const old = this.track(trackKind);
    track.enabled = old ? old.enabled : true;
    if (old) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this.stream.addTrack(track);
    this.watchEnded(track);
    this.patch({ selected: { ...this.current.selected, [kind]: deviceId }, error: null, deviceNotice: null, stream: this.stream });
    if (trackKind === 'audio') this.watchLevel();
    return track;
  }

  /** Starts sharing a screen or window; `onEnded` runs when the user stops it from the browser or OS. */
  async startScreen(onEnded: () => void): Promise<MediaStreamTrack | null> {
    try {
      const display = await this.deps.media.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
      this.screenTrack = display.getVideoTracks()[0] ?? null;
    } catch {
      return null; // the user cancelled the picker
    }
    if (!this.screenTrack) return null;
    this.screenTrack.addEventListener('ended', onEnded, { once: true });
    this.patch({ media: { ...this.current.media, screen: true } });
    return this.screenTrack;
  }

  /** Stops sharing; returns the camera track to send again. */
  stopScreen(): MediaStreamTrack | null {
    this.screenTrack?.stop();
    this.screenTrack = null;
    this.patch({ media: { ...this.current.media, screen: false } });
    return this.track('video');
  }

  close(): void {
    this.closed = true;
    this.deps.media.removeEventListener?.('devicechange', this.onDeviceChange);
    this.meter?.close();
    this.screenTrack?.stop();
    for (const track of this.stream.getTracks()) track.stop();
  }
}
