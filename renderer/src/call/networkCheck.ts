import type { NetworkCheckConfig } from '../../../shared/ipc/desktopApi.js';
import { checkRelay, checkStun } from './networkCheck/iceProbes.js';
import { checkLoopback } from './networkCheck/loopback.js';
import { passed, summarize } from './networkCheck/summary.js';
import { initialSteps } from './networkCheck/targets.js';
import {
  DEFAULT_TIMEOUTS,
  type CheckStep,
  type CheckStepId,
  type NetworkCheckDeps,
  type NetworkCheckResult,
  type NetworkCheckRun,
  type NetworkCheckTimeouts,
  type StepResult,
} from './networkCheck/types.js';
import { checkHttps, checkSocket } from './networkCheck/webProbes.js';
import { clockFrom } from './timers.js';

/**
 * "Check my network": the paths a call needs, one at a time, in words a user and their network
 * administrator can act on. Everything outside (RTCPeerConnection, WebSocket, fetch, the clock) is
 * injected, so the logic runs against fakes in unit tests and against the real stack in the browser.
 *
 * What the machine facts say the probes must live with (Chromium): a relay-only connection that
 * gathers nothing stays `new` for ever, a dropped UDP TURN reports 701 only after ~40 s and a dropped
 * TCP SYN reports nothing at all, so every probe has a deadline and no answer by then is "blocked".
 * A TLS relay candidate arrives in ~70 ms when 443 is open.
 */

// The pieces live in networkCheck/; this module runs them in order and keeps the public surface.
export type {
  CheckOutcome,
  CheckPath,
  CheckStatus,
  CheckStep,
  CheckStepId,
  NetworkCheckDeps,
  NetworkCheckResult,
  NetworkCheckRun,
  NetworkCheckSummary,
  NetworkCheckTimeouts,
} from './networkCheck/types.js';
export { DEFAULT_TIMEOUTS, RELAY_PORT_RANGE } from './networkCheck/types.js';
export { formatMs, maskAddress, statusText } from './networkCheck/words.js';
export { summarize } from './networkCheck/summary.js';

/** Runs every step (the STUN and TURN probes side by side) and summarises; never rejects. */
export async function runNetworkCheck(config: NetworkCheckConfig, deps: NetworkCheckDeps): Promise<NetworkCheckRun> {
  const clock = clockFrom(deps);
  const timeouts: NetworkCheckTimeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const wallNow = deps.wallNow ?? Date.now;
  const steps = initialSteps(config);
  const result: NetworkCheckResult = { server: config.server, startedAt: new Date(wallNow()).toISOString(), finishedAt: null, steps, summary: null };
  const snapshot = (): NetworkCheckResult => ({ ...result, steps: steps.map((s) => ({ ...s })) });
  const emit = () => deps.onUpdate?.(snapshot());
  const stopped = () => deps.signal?.aborted === true;
  let publicAddress: string | null = null;

  const set = (id: CheckStepId, changes: Partial<CheckStep>) => {
    const i = steps.findIndex((s) => s.id === id);
    steps[i] = { ...steps[i]!, ...changes };
    emit();
  };
  const begin = (id: CheckStepId) => set(id, { status: 'running', verdict: 'Checking…' });
  const end = (id: CheckStepId, r: StepResult) => {
    if (stopped()) set(id, { status: 'skipped', verdict: 'Stopped.', ms: null, detail: null, blocked: false });
    else set(id, { ms: null, detail: null, blocked: false, rttMs: null, kbitPerSecond: null, ...r });
  };
  const step = async (id: CheckStepId, work: () => Promise<StepResult>) => {
    if (stopped()) return end(id, { status: 'skipped', verdict: 'Stopped.' });
    begin(id);
    let r: StepResult;
    try {
      r = await work();
    } catch (err) {
      r = { status: 'failed', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err), verdict: 'This app could not run this step.' };
    }
    end(id, r);
  };

  emit();
  await step('https', () => checkHttps(config.healthUrl, clock, deps.fetch, timeouts.httpMs, deps.signal));
  await step('wss', () => checkSocket(config.signalingUrl, clock, deps.WebSocket, timeouts.socketMs, deps.signal));
  // Independent probes, each on its own peer connection with one URL: side by side, so a blocked
  // network costs one deadline, not four.
  await Promise.all([
    step('stun', async () => {
      const r = await checkStun(config, clock, deps, timeouts.stunMs);
      publicAddress = r.publicAddress;
      return r.step;
    }),
    step('turn-udp', () => checkRelay(config, 'udp', clock, deps, timeouts.turnMs)),
    step('turn-tcp', () => checkRelay(config, 'tcp', clock, deps, timeouts.turnMs)),
    step('turn-tls', () => checkRelay(config, 'tls', clock, deps, timeouts.tlsMs)),
  ]);
  if (passed(steps, 'turn-tls')) {
    await step('loopback', () => checkLoopback(config, clock, deps, timeouts));
  } else {
    end('loopback', { status: 'skipped', verdict: 'Skipped — needs TURN over TLS, which did not work.' });
  }

  result.finishedAt = new Date(wallNow()).toISOString();
  result.summary = stopped() ? null : summarize(steps, config);
  emit();
  return { result: snapshot(), publicAddress: stopped() ? null : publicAddress };
}
