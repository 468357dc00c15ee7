import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeLog from 'electron-log/node';
import { afterEach, describe, expect, it } from 'vitest';
import { configureMainLog } from '../../electron/main/mainLog.js';
import { findSecrets } from '../../shared/diagnostics/redact.js';
import { SECRETS } from '../support/diagnosticsFixture.js';

const dirs: string[] = [];
let logs = 0;

/** A fresh electron-log instance (the same file transport the app's main logger has) writing into a temporary folder. */
function mainLog(opts: { maxBytes?: number; now?: () => number; rendererReportsPerMinute?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'zr-log-'));
  dirs.push(dir);
  const log = nodeLog.create({ logId: `test-${(logs += 1)}` });
  log.transports.console.level = false;
  return { dir, log: configureMainLog(log, { dir, ...opts }) };
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const S = SECRETS;

describe('main-process log', () => {
  it('writes main.log in the log folder, owner-only, without tokens, credentials or SDP fingerprints', () => {
    const { dir, log } = mainLog();
    log.info('sign-in done', { accessToken: S.accessToken, refresh_token: S.refreshToken, user: 'alice' });
    log.warn(`join failed: Authorization: Bearer ${S.accessToken}`);
    log.info(`turn user ${S.turnUsername} credential=${S.turnCredential} password: ${S.password}`);
    log.info(`remote sdp:\r\na=fingerprint:sha-256 ${S.fingerprint}\r\na=ice-pwd:${S.icePwd}\r\na=ice-ufrag:${S.ufrag}`);
    log.info(`room token ${S.jwt}`);
    log.error(new Error(`refresh failed for refresh_token=${S.refreshToken}`));
    log.rendererError({ source: 'error', message: `TypeError at token ${S.jwt}`, stack: `at x (app://zerorange/index.js:1:2) pwd ${S.icePwd}` });

    const file = join(dir, 'main.log');
    expect(log.file).toBe(file);
    const text = readFileSync(file, 'utf8');
    expect(findSecrets(text, Object.values(S))).toEqual([]);
    // Still useful: what happened is there, only the secrets are gone.
    expect(text).toContain('sign-in done');
    expect(text).toContain('alice');
    expect(text).toMatch(/\[error\].*refresh failed/);
    expect(text).toMatch(/renderer \(error\): TypeError/);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(findSecrets(log.recent().join('\n'), Object.values(S))).toEqual([]);
  });

  it('rotates at the size limit into main.old.log; recent() reads across both, latest last', () => {
    const { dir, log } = mainLog({ maxBytes: 4_000 });
    for (let i = 0; i < 200; i += 1) log.info(`line ${String(i).padStart(3, '0')} ${'x'.repeat(40)}`);
    expect(existsSync(join(dir, 'main.old.log'))).toBe(true);
    // One rotation keeps the file near its limit (one line over at most).
    expect(statSync(join(dir, 'main.log')).size).toBeLessThan(4_000 + 200);
    // About 48 lines fit in each file, and the current one holds 11: 50 reach back into the rotated one.
    const recent = log.recent(50);
    expect(recent).toHaveLength(50);
    expect(recent.at(-1)).toContain('line 199');
    expect(recent[0]).toContain('line 150');
    expect(log.recent(5).map((l) => l.match(/line (\d+)/)?.[1])).toEqual(['195', '196', '197', '198', '199']);
  });

  it('a renderer report cannot pose as lines of the main process', () => {
    const { log } = mainLog();
    log.rendererError({ source: 'error', message: 'boom\n[2026-12-03 10:00:00.000] [info]  update: 9.9.9 downloaded and verified', stack: 'Error: boom\n[2026-12-03 10:00:00.000] [info]  forged' });
    const lines = log.recent();
    expect(lines.filter((l) => /^\[\d{4}-/.test(l))).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/\n {4}\[2026-12-03 10:00:00\.000\] \[info\] {2}forged/);
  });

  it('keeps at most N renderer reports a minute and then says how many it dropped', () => {
    let now = 1_000_000;
    const { log } = mainLog({ now: () => now, rendererReportsPerMinute: 3 });
    for (let i = 0; i < 10; i += 1) log.rendererError({ source: 'unhandledrejection', message: `boom ${i}` });
    now += 60_000;
    log.rendererError({ source: 'error', message: 'after a minute' });
    const text = log.recent().join('\n');
    expect(text.match(/boom \d/g)).toEqual(['boom 0', 'boom 1', 'boom 2']);
    expect(text).toContain('7 more error reports');
    expect(text).toContain('after a minute');
  });
});
