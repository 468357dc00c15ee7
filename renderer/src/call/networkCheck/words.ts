import type { CheckStatus, CheckStep } from './types.js';

// Plain words for the screen and the verdicts.

const STATUS_WORDS: Readonly<Record<CheckStatus, string>> = {
  pending: 'Not run yet',
  running: 'Checking…',
  passed: 'Works',
  failed: 'Failed',
  skipped: 'Skipped',
};

/** A step's status in words (never colour alone). */
export function statusText(step: Pick<CheckStep, 'status' | 'blocked'>): string {
  return step.status === 'failed' && step.blocked ? 'Blocked' : STATUS_WORDS[step.status];
}

/** `12 ms`, `4.2 s`, or `—`. */
export function formatMs(ms: number | null): string {
  if (ms == null) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** Hides most of an address (IPv4: the last two parts; IPv6: all but the first two groups). */
export function maskAddress(address: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(address);
  if (v4) return `${v4[1]}.${v4[2]}.x.x`;
  if (address.includes(':')) {
    const groups = address.replace(/^\[|\]$/g, '').split(':').filter(Boolean);
    return `${groups.slice(0, 2).join(':')}:…`;
  }
  return '(hidden)';
}
