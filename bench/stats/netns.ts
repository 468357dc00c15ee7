/**
 * A network namespace of this benchmark's own, with one dummy interface (a veth pair where the kernel
 * has no dummy driver): Chromium never offers `lo` as a host candidate, so both ends of each peer
 * connection meet on that interface's address, and the traffic never leaves the namespace. Not test/support/netns.ts: that one takes a machine-wide lock.
 *
 * Cleanup is synchronous so it also runs from signal handlers and the process's `exit` event.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { SYSTEM_CHROMIUM } from '../../test/support/callBrowser.js';

export { SYSTEM_CHROMIUM };

export interface BenchNamespace {
  name: string;
  /** The interface's address, where the host candidates are. */
  address: string;
  /** A wrapper to give Playwright as executablePath: it execs Chromium inside the namespace. */
  executable: string;
  /** Kills what still runs in the namespace (only the Chromium this benchmark started), deletes it and the wrapper. Idempotent. */
  cleanup(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** Why namespaces cannot be used here, or null when they can. */
export function namespacesUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces are Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating a network namespace needs root';
  try {
    ip('netns', 'list');
  } catch (err) {
    return `\`ip netns\` does not work: ${(err as Error).message.split('\n')[0]}`;
  }
  return null;
}

export function createBenchNamespace(chromium = SYSTEM_CHROMIUM): BenchNamespace {
  // The pid keeps concurrent runs apart; the name goes into a shell script, so it stays plain.
  const name = `zr-bench-stats-${process.pid}`;
  const address = '10.79.0.1';
  let dir: string | null = null;
  let done = false;
  const cleanup = () => {
    if (done) return;
    done = true;
    try {
      const pids = ip('netns', 'pids', name).split('\n').filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    } catch {
      // no such namespace (creation failed half way)
    }
    try {
      ip('netns', 'del', name);
    } catch {
      // never created
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    ip('netns', 'add', name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    try {
      ip('-n', name, 'link', 'add', 'd0', 'type', 'dummy');
    } catch {
      // No dummy driver in this kernel: a veth pair with both ends inside serves as well.
      ip('-n', name, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
      ip('-n', name, 'link', 'set', 'd1', 'up');
    }
    ip('-n', name, 'addr', 'add', `${address}/24`, 'dev', 'd0');
    ip('-n', name, 'link', 'set', 'd0', 'up');
    dir = mkdtempSync(path.join(tmpdir(), 'zr-bench-stats-'));
    const executable = path.join(dir, 'chromium');
    if (/["$`\\]/.test(chromium)) throw new Error(`unexpected characters in the Chromium path ${chromium}`);
    // exec: the process Playwright launched and talks to over its pipe is Chromium itself.
    writeFileSync(executable, `#!/bin/sh\nexec ip netns exec ${name} "${chromium}" "$@"\n`, { mode: 0o700 });
    return { name, address, executable, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
