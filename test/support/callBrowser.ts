/**
 * Chromium inside a network namespace, driven by Playwright: a wrapper script used as the
 * executable runs `ip netns exec <ns> /usr/bin/chromium "$@"`. The wrapper execs, so the process
 * Playwright launched and closes is Chromium itself, with its pipe to Playwright intact.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { chromiumArgs } from '../../playwright.config.js';
import type { TestNetwork } from './netns.js';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export interface NamespaceBrowserOptions {
  /** base64 SHA-256 SPKI hashes of certificates to trust (the stack's TURN certificate). */
  spkiList?: string[];
  /** http origins treated as secure, so getUserMedia works there. */
  insecureOrigins?: string[];
}

export async function launchBrowserInNamespace(net: TestNetwork, ns: string, opts: NamespaceBrowserOptions = {}): Promise<Browser> {
  if (![net.serverNs, ...net.clients.map((c) => c.ns)].includes(ns)) throw new Error(`${ns} is not a namespace of this test network`);
  // The name goes into a shell script: it must be plain.
  if (!/^[a-z0-9-]+$/.test(ns)) throw new Error(`unexpected namespace name ${JSON.stringify(ns)}`);
  for (const spki of opts.spkiList ?? []) if (!/^[A-Za-z0-9+/]+=*$/.test(spki)) throw new Error(`not a base64 SPKI hash: ${spki}`);
  for (const origin of opts.insecureOrigins ?? []) if (new URL(origin).origin !== origin) throw new Error(`not an origin: ${origin}`);

  const dir = await mkdtemp(path.join(tmpdir(), 'zr-netns-browser-'));
  try {
    await chmod(dir, 0o700);
    const wrapper = path.join(dir, 'chromium');
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${SYSTEM_CHROMIUM} "$@"\n`, { mode: 0o700 });
    const args = [...chromiumArgs];
    if (opts.spkiList?.length) args.push(`--ignore-certificate-errors-spki-list=${opts.spkiList.join(',')}`);
    if (opts.insecureOrigins?.length) args.push(`--unsafely-treat-insecure-origin-as-secure=${opts.insecureOrigins.join(',')}`);
    return await chromium.launch({ executablePath: wrapper, headless: true, args });
  } finally {
    // Playwright needs the wrapper only to start the process, which has exec'd past it by now.
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Closes the browser and waits until no process is left in its namespace; SIGKILLs stragglers (by
 * pid: only Chromium runs there) and returns their pids, which a test may assert to be empty.
 */
export async function closeBrowserInNamespace(net: TestNetwork, ns: string, browser: Browser, timeoutMs = 5000): Promise<number[]> {
  await browser.close();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await net.pids(ns);
    if (left.length === 0) return [];
    if (Date.now() > deadline) {
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      return left;
    }
    // Chromium's helpers exit just after the browser process; there is no event for that here.
    await new Promise((r) => setTimeout(r, 50));
  }
}
