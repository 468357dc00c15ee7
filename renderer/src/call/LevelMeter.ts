/** Shared by every meter: one AudioContext per page is the browser's budget-friendly way. */
let context: AudioContext | null = null;

const SPEAKING_LEVEL = 0.06;
const HOLD_MS = 400;

/**
 * Audio level (0–1, RMS with a little gain) and a speaking flag with hold, sampled ten times a second.
 * Remote WebRTC audio must also play in a media element for Chromium to feed it to Web Audio.
 */
export class LevelMeter {
  private readonly source: MediaStreamAudioSourceNode | null = null;
  private readonly analyser: AnalyserNode | null = null;
  private readonly timer: ReturnType<typeof setInterval> | null = null;
  private lastLoud = 0;

  constructor(stream: MediaStream, onLevel: (level: number, speaking: boolean) => void, intervalMs = 100) {
    if (typeof AudioContext === 'undefined' || stream.getAudioTracks().length === 0) return;
    context ??= new AudioContext();
    this.source = context.createMediaStreamSource(stream);
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 512;
    this.source.connect(this.analyser);
    const samples = new Float32Array(this.analyser.fftSize);
    this.timer = setInterval(() => {
      if (context?.state === 'suspended') void context.resume();
      this.analyser!.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      const now = performance.now();
      if (level >= SPEAKING_LEVEL) this.lastLoud = now;
      onLevel(Math.round(level * 100) / 100, now - this.lastLoud < HOLD_MS);
    }, intervalMs);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.source?.disconnect();
  }
}
