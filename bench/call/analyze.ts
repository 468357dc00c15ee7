/** From probe dumps to per-run samples (ms from t0 on Bob's clock). */
import type { Mark, ProbeDump } from './probe.js';

export interface RunSample {
  ok: boolean;
  error?: string;
  connectedMs: number | null;
  iceConnectedMs: number | null;
  firstFrameMs: number | null;
  /** The app's own tile presenting its first frame (ZeroRange only). */
  tileFrameMs: number | null;
  /** Selected pair on Bob's side, e.g. "host/host" or "relay/host tls". */
  path: string | null;
  /** Every step seen, ms from t0 (Alice's marks prefixed `alice:`, moved onto Bob's clock). */
  steps: Record<string, number>;
}

/** Steps in the order they happen, for the breakdown table. */
export const STEP_ORDER = [
  'ws-new',
  'ws-open',
  'sent-join',
  'recv-welcome',
  'pc-new',
  'local-offer',
  'sent-offer',
  'alice:recv-peer-joined',
  'alice:recv-offer',
  'alice:pc-new',
  'alice:remote-offer',
  'alice:local-answer',
  'alice:sent-answer',
  'alice:first-candidate',
  'alice:first-relay-candidate',
  'first-candidate',
  'first-relay-candidate',
  'recv-answer',
  'remote-answer',
  'recv-first-candidate',
  'ice-checking',
  'ice-connected',
  'connected',
  'remote-video-track',
  'first-frame',
  'tile-frame',
] as const;

const round = (ms: number) => Math.round(ms * 10) / 10;

/** The first peer connection active from `t` on: the app may make it earlier (on the pre-join screen). */
function pcAfter(marks: Mark[], t: number): number | null {
  return marks.find((m) => m.pc !== undefined && m.at >= t)?.pc ?? null;
}

/** Bob's own marks from t0: connection-independent ones and those of peer connection `pc`. */
function stepsOf(marks: Mark[], t0: number, pc: number | null, prefix = '', shift = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of marks) {
    if (m.pc !== undefined && m.pc !== pc) continue;
    if (m.name === 'join-click') continue;
    const key = `${prefix}${m.name}`;
    if (!(key in out)) out[key] = round(m.at + shift - t0);
  }
  return out;
}

function sample(steps: Record<string, number>, path: string | null, ok: boolean, error?: string): RunSample {
  return {
    ok,
    ...(error ? { error } : {}),
    connectedMs: steps.connected ?? null,
    iceConnectedMs: steps['ice-connected'] ?? null,
    firstFrameMs: steps['first-frame'] ?? null,
    tileFrameMs: steps['tile-frame'] ?? null,
    path,
    steps,
  };
}

/** A ZeroRange run: t0 is Bob's click on "Join call". */
export function appSample(bob: ProbeDump, alice: ProbeDump | null, path: string | null, ok: boolean, error?: string): RunSample {
  const t0 = bob.marks.find((m) => m.name === 'join-click')?.at;
  if (t0 === undefined) return sample({}, path, false, error ?? 'no join click was seen');
  const steps = stepsOf(bob.marks, t0, pcAfter(bob.marks, t0));
  if (alice) {
    // Both browsers run on this machine: epoch times (timeOrigin + now) are comparable.
    const shift = alice.timeOrigin - bob.timeOrigin;
    const aliceT0 = t0 - shift;
    const wanted = new Set(['recv-peer-joined', 'recv-offer', 'pc-new', 'remote-offer', 'local-answer', 'sent-answer', 'first-candidate', 'first-relay-candidate', 'connected']);
    const aliceSteps = stepsOf(alice.marks.filter((m) => wanted.has(m.name)), t0, pcAfter(alice.marks, aliceT0), 'alice:', shift);
    Object.assign(steps, aliceSteps);
  }
  return sample(steps, path, ok && steps.connected !== undefined && steps['first-frame'] !== undefined, error);
}

/** A floor run: t0 is just before the two peer connections are created; Bob's is the one timed. */
export function floorSample(t0: number, pcB: number, d: ProbeDump, path: string | null, ok: boolean, error?: string): RunSample {
  return sample(stepsOf(d.marks, t0, pcB), path, ok, error);
}

export function failedSample(error: string): RunSample {
  return sample({}, null, false, error);
}
