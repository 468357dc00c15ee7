import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test } from '@playwright/test';
import { DESKTOP_CALLS, DESKTOP_EVENTS } from '../../shared/ipc/desktopApi.js';

// The built app in a real Electron. Where no Electron binary can run (it cannot be downloaded here), the
// test is skipped and says why; the shell's policy itself is covered by test/unit/electronShell.test.ts.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n').map((l) => l.trim()).find((l) => /error|failed/i.test(l)) ?? (text ?? '').trim().split('\n')[0] ?? '';
}

/** Asked in a child process: `require('electron')` downloads the binary on first use, which must not happen in here. */
function electronBinary(): { path: string } | { skip: string } {
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (probe.status !== 0 || !probe.stdout) {
    const cause = firstLine(probe.stderr) || probe.error?.message || `exit ${probe.status}`;
    const downloading = `${probe.stdout}${probe.stderr}`.includes('Downloading Electron binary');
    return { skip: `require('electron') gives no binary here${downloading ? ' (its download failed)' : ''}: ${cause}` };
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { skip: 'Electron needs a display on Linux (run under xvfb-run)' };
  }
  const version = spawnSync(probe.stdout, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (version.status !== 0) return { skip: `the Electron binary ${probe.stdout} does not run: ${firstLine(version.stderr) || version.error?.message}` };
  return { path: probe.stdout };
}

test('the built app: app://zerorange, exactly the DesktopApi bridge, no Node in the page', async () => {
  const binary = electronBinary();
  if ('skip' in binary) {
    console.warn(`electron.spec: skipped: ${binary.skip}`);
    test.skip(true, binary.skip);
    return;
  }
  test.setTimeout(240_000);
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  expect(build.status, build.stderr).toBe(0);

  const userData = await mkdtemp(path.join(tmpdir(), 'zr-e2e-electron-'));
  const app = await electron.launch({
    executablePath: binary.path,
    args: [ROOT, `--user-data-dir=${userData}`],
    // Not packaged: keep the machine's zerorange: handler as it is.
    env: { ...process.env, ZR_NO_PROTOCOL_CLIENT: '1' },
  });
  try {
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(page.url()).toMatch(/^app:\/\/zerorange\//);

    const keys = await page.evaluate(() => Object.keys((window as unknown as { desktop: object }).desktop).sort());
    expect(keys).toEqual([...DESKTOP_CALLS, ...DESKTOP_EVENTS].sort());

    const node = await page.evaluate(() => {
      const g = globalThis as Record<string, unknown>;
      return { require: typeof g.require, process: typeof g.process, module: typeof g.module, Buffer: typeof g.Buffer };
    });
    expect(node).toEqual({ require: 'undefined', process: 'undefined', module: 'undefined', Buffer: 'undefined' });

    const csp = await page.evaluate(async () => (await fetch('app://zerorange/index.html')).headers.get('content-security-policy'));
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
  } finally {
    await app.close();
    await rm(userData, { recursive: true, force: true });
  }
});
