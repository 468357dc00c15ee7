import type { SeriesPoint } from '../../call/stats/StatsHistory.js';

const W = 160;
const H = 36;

/** A small live chart of the recent history: an SVG polyline, gaps where there was no value. */
export function Sparkline({ label, points }: { label: string; points: SeriesPoint[] }) {
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const max = Math.max(1, ...values);
  const last = values.at(-1);
  const step = points.length > 1 ? W / (points.length - 1) : W;
  const segments: string[][] = [[]];
  points.forEach((p, i) => {
    if (p.value === null) {
      if (segments.at(-1)!.length) segments.push([]);
      return;
    }
    segments.at(-1)!.push(`${(i * step).toFixed(1)},${(H - (p.value / max) * (H - 2) - 1).toFixed(1)}`);
  });
  return (
    <figure className="sparkline">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${last === undefined ? 'no data' : Math.round(last * 10) / 10}`}>
        {segments.filter((s) => s.length > 1).map((s, i) => (
          <polyline key={i} points={s.join(' ')} fill="none" stroke="currentColor" strokeWidth="1.5" />
        ))}
      </svg>
      <figcaption>
        {label}: {last === undefined ? '–' : Math.round(last * 10) / 10}
      </figcaption>
    </figure>
  );
}
