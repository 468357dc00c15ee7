import { existsSync } from 'node:fs';
import { chromium, test, type Browser } from '@playwright/test';
import { chromiumArgs } from '../../playwright.config.js';
import { turnserverPath } from '../../dev/coturn.js';
import { SYSTEM_CHROMIUM } from './callBrowser.js';
import { Participant } from './callParticipant.js';
import { createTestNetwork, isNetnsAvailable, type TestNetwork } from './netns.js';
import { startStackIn, type StackInNamespace, type StackInNamespaceOptions } from './stackInNamespace.js';

export interface CallSuite {
  net(): TestNetwork;
  stack(): StackInNamespace;
  /** A participant in client namespace `index`, signed in as `username`; closed after the test. */
  participant(index: number, username: string): Promise<Participant>;
  /** The app open in client namespace `index`, nobody signed in; closed after the test. */
  signedOut(index: number): Promise<Participant>;
  /** Alice creates a room, Bob opens its link; both join the call (with the given policy labels). */
  twoInACall(policies?: { alice?: string; bob?: string }): Promise<{ alice: Participant; bob: Participant; link: string }>;
  /** The signaling and IdP ports a restrictive firewall must still let through. */
  controlPorts(): number[];
}

/**
 * Registers the hooks of a call test file: a test network with `clients` client namespaces, the stack
 * in the server namespace, and the users' system browser beside main. Skips, saying why, where
 * namespaces, Chromium or coturn are missing.
 */
export function useCallSuite(name: string, clients = 3, stackOptions: StackInNamespaceOptions = {}): CallSuite {
  let net: TestNetwork | undefined;
  let stack: StackInNamespace | undefined;
  let hostBrowser: Browser | undefined;
  const open: Participant[] = [];

  test.describe.configure({ mode: 'serial' });
  test.beforeAll(async () => {
    test.setTimeout(90_000);
    const netns = await isNetnsAvailable();
    const reason = !netns.ok ? netns.reason : !existsSync(SYSTEM_CHROMIUM) ? `${SYSTEM_CHROMIUM} is not installed` : !turnserverPath() ? 'coturn is not installed' : null;
    if (reason) console.log(`${name}: skipped: ${reason}`);
    test.skip(reason !== null, reason ?? '');
    net = await createTestNetwork({ clients });
    stack = await startStackIn(net, stackOptions);
    // The users' system browser runs beside main (the root namespace), to reach its loopback listener.
    hostBrowser = await chromium.launch({ executablePath: SYSTEM_CHROMIUM, args: chromiumArgs });
  });
  test.afterEach(async () => {
    // Every participant is closed and every firewall cleared even if one of them fails.
    const results = await Promise.allSettled([
      ...open.splice(0).map((p) => p.close()),
      ...(net ? [...net.clients.keys()].map((i) => net!.clearFirewall(i)) : []),
    ]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new AggregateError(failed.map((r) => r.reason as unknown), 'cleaning up after a call test failed');
  });
  test.afterAll(async () => {
    if (process.env.ZR_DEBUG_STACK) console.log(stack?.output());
    await hostBrowser?.close();
    await stack?.stop();
    await net?.destroy();
  });

  const suite: CallSuite = {
    net: () => net!,
    stack: () => stack!,
    async participant(index, username) {
      const p = await suite.signedOut(index);
      await p.signIn(stack!, username);
      return p;
    },
    async signedOut(index) {
      const p = await Participant.open(net!, stack!, index, hostBrowser!);
      open.push(p);
      return p;
    },
    async twoInACall(policies = {}) {
      const alice = await suite.participant(0, 'alice');
      const bob = await suite.participant(1, 'bob');
      const link = await alice.createRoom();
      await bob.openLink(link);
      await alice.joinCall(policies.alice);
      await bob.joinCall(policies.bob);
      return { alice, bob, link };
    },
    controlPorts: () => [Number(new URL(stack!.info.signaling.url).port), Number(new URL(stack!.info.idp.issuer).port)],
  };
  return suite;
}
