import { useAppStore } from '../../store/index.js';

/** The microphone's level, 0–100, as a bar (its own component: it re-renders many times a second). */
export function LevelMeter() {
  const level = useAppStore((s) => s.call.local.level);
  const muted = useAppStore((s) => !s.call.local.media.audio);
  const value = Math.round(Math.min(1, Math.max(0, Number.isFinite(level) ? level : 0)) * 100);
  return (
    <div className="meter-field">
      <span className="meter-caption" aria-hidden="true">
        Microphone level{muted && <span className="muted"> · muted</span>}
      </span>
      <div
        className="meter"
        role="meter"
        aria-label="Microphone level"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value}
        aria-valuetext={muted ? `${value}%, muted` : `${value}%`}
      >
        <div className="meter-fill" style={{ transform: `scaleX(${value / 100})` }} />
      </div>
    </div>
  );
}
