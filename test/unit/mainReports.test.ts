import { describe, expect, it } from 'vitest';
import { installMainReports } from '../../renderer/src/controllers/mainReports.js';
import type { CallPhase } from '../../renderer/src/call/events.js';
import type { RendererErrorReport } from '../../shared/ipc/shellServices.js';

function harness() {
  let phase: CallPhase = 'idle';
  const listeners = new Set<() => void>();
  const store = {
    getState: () => ({ call: { phase } }),
    subscribe: (l: () => void) => (listeners.add(l), () => void listeners.delete(l)),
  };
  const setPhase = (next: CallPhase) => {
    phase = next;
    for (const l of listeners) l();
  };
  const inCall: boolean[] = [];
  const reports: RendererErrorReport[] = [];
  const desktop = {
    setInCall: async (value: boolean) => (inCall.push(value), null),
    reportError: async (report: RendererErrorReport) => (reports.push(report), null),
  };
  const target = new EventTarget() as unknown as Window;
  const stop = installMainReports(store, desktop, target);
  return { setPhase, inCall, reports, target, stop, listeners };
}

describe('what the page tells main', () => {
  it('says when a call starts and ends, once per change', () => {
    const h = harness();
    expect(h.inCall).toEqual([false]);
    h.setPhase('prejoin');
    h.setPhase('connecting');
    h.setPhase('in-call');
    h.setPhase('in-call');
    h.setPhase('idle');
    h.setPhase('failed');
    expect(h.inCall).toEqual([false, true, false]);
  });

  it('forwards unhandled errors and rejections, bounded in size; stops when asked', () => {
    const h = harness();
    const error = new TypeError('x'.repeat(5000));
    h.target.dispatchEvent(Object.assign(new Event('error'), { error, message: error.message }));
    h.target.dispatchEvent(Object.assign(new Event('unhandledrejection'), { reason: 'network down' }));
    expect(h.reports).toHaveLength(2);
    expect(h.reports[0]).toMatchObject({ source: 'error', message: expect.stringMatching(/^TypeError: x+$/) });
    expect(h.reports[0]!.message.length).toBe(2000);
    expect(h.reports[0]!.stack).toContain('TypeError');
    expect(h.reports[1]).toEqual({ source: 'unhandledrejection', message: 'network down' });
    h.stop();
    h.target.dispatchEvent(Object.assign(new Event('unhandledrejection'), { reason: 'later' }));
    expect(h.reports).toHaveLength(2);
    expect(h.listeners.size).toBe(0);
  });
});
