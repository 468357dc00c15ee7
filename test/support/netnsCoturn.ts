/**
 * coturn inside a test network's server namespace, with its log, pid file and database in a
 * folder of its own. Resolves once it answers STUN from the test process (the root namespace
 * reaches the server namespace's address). stop() ends it by PID and removes its folder.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { turnserverPath, withProcessFiles } from '../../dev/coturn.js';
import { SYSTEM_CHROMIUM } from './callBrowser.js';
import { isNetnsAvailable, type TestNetwork } from './netns.js';
import { TurnClient } from './stunClient.js';

/** Skips the calling spec (saying why, under its name) where namespaces, Chromium or coturn are missing. */
export async function skipUnlessNetnsCoturn(name: string): Promise<void> {
  const netns = await isNetnsAvailable();
  const reason = !netns.ok ? netns.reason : !existsSync(SYSTEM_CHROMIUM) ? `${SYSTEM_CHROMIUM} is not installed` : !turnserverPath() ? 'coturn is not installed' : null;
  if (reason) console.log(`${name}: skipped: ${reason}`);
  test.skip(reason !== null, reason ?? '');
}

export interface NamespaceCoturn {
  pid: number;
  /** SIGKILL: the host dies. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), then removes its folder. Idempotent. */
  stop(): Promise<void>;
}

export async function startCoturnInServerNs(net: TestNetwork, config: string, port: number): Promise<NamespaceCoturn> {
  const dir = await mkdtemp(path.join(tmpdir(), 'zr-ns-coturn-'));
  const file = path.join(dir, 'turnserver.conf');
  await writeFile(file, withProcessFiles(config, dir), { mode: 0o600 });
  const child = net.spawnIn(net.serverNs, turnserverPath()!, ['-c', file], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const end = async (signal: NodeJS.Signals) => {
    if (!gone) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const handle: NamespaceCoturn = {
    pid: child.pid ?? -1,
    kill: () => end('SIGKILL'),
    stop: async () => {
      await end('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await expect
      .poll(async () => {
        if (gone) throw new Error(`turnserver exited at start (${child.exitCode})`);
        const c = await TurnClient.connect({ transport: 'udp', host: net.serverIp, port, timeoutMs: 300 }).catch(() => null);
        const answer = await c?.bindingRequest().catch(() => null);
        await c?.close();
        return answer?.ok ?? false;
      }, { timeout: 10_000 })
      .toBe(true);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
