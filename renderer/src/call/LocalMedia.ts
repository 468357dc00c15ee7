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
  private readonly onDeviceChange = () => void this.listDevices();

  constructor(private readonly deps: LocalMediaDeps) {
    super();
    deps.media.addEventListener?.('devicechange', this.onDeviceChange);
  }

  private patch(patch: Partial<LocalView>): void {
    this.current = { ...this.current, ...patch };
    this.emit(CallEvent.LocalChanged, patch);
  }

  /** What this side sends now (microphone and camera on, screen shared). */
  get flags(): MediaFlags {
    return this.current.media;
  }

  /** Opens camera and microphone (either alone if the other is missing) for the preview and the call. */
  async open({ startMuted, startCameraOff }: { startMuted: boolean; startCameraOff: boolean }): Promise<void> {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    let stream: MediaStream | null = null;
    let error: string | null = null;
    for (const constraints of [{ audio: true, video }, { audio: true }, { video }] as MediaStreamConstraints[]) {
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
    for (const track of stream?.getTracks() ?? []) this.stream.addTrack(track);
    const audio = this.track('audio');
    const camera = this.track('video');
    if (audio) audio.enabled = !startMuted;
    if (camera) camera.enabled = !startCameraOff;
    this.patch({
      stream: this.stream,
      media: { audio: Boolean(audio) && !startMuted, video: Boolean(camera) && !startCameraOff, screen: false },
      error: stream ? (audio && camera ? null : 'Only part of your media could be opened: ' + (error ?? '')) : error,
      selected: {
        ...this.current.selected,
        audioinput: audio?.getSettings().deviceId ?? null,
        videoinput: camera?.getSettings().deviceId ?? null,
      },
    });
    this.watchLevel();
    await this.listDevices();
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
    this.patch({ selected: { ...this.current.selected, [kind]: deviceId }, error: null, stream: this.stream });
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
