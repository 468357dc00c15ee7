/**
 * The call test harness driven from a script: test network, the real stack in its server namespace,
 * Alice and Bob as app participants (each Chromium in a client namespace), and a floor page in Bob's
 * browser. Everything set up here is torn down by close(), which also runs on SIGINT.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { chromiumArgs } from '../../playwright.config.js';
import { turnserverPath } from '../../dev/coturn.js';
import { NETWORK_POLICY_LABELS, rtcConfigurationFor, type NetworkPolicy } from '../../renderer/src/call/networkPolicy.js';
import { SYSTEM_CHROMIUM } from '../../test/support/callBrowser.js';
import { Participant } from '../../test/support/callParticipant.js';
import { createTestNetwork, isNetnsAvailable, type TestNetwork } from '../../test/support/netns.js';
import { serveRendererOnRoute } from '../../test/support/rendererRoute.js';
import { startStackIn, TEST_ORIGIN, type StackInNamespace } from '../../test/support/stackInNamespace.js';
import { FLOOR_PEER_SCRIPT, PROBE_SCRIPT, type FloorArgs, type FloorMessage, type FloorResult, type ProbeDump } from './probe.js';

const root = path.resolve(import.meta.dirname, '../..');
export const DEFAULT_RENDERER_DIR = 'build/renderer';

/** The app's camera constraints (LocalMedia.open), so the floor encodes the same picture. */
export const APP_CONSTRAINTS: MediaStreamConstraints = { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } } };

/** Why the benchmark cannot run here, or null. */
export async function unavailable(): Promise<string | null> {
  const netns = await isNetnsAvailable();
  if (!netns.ok) return netns.reason;
  if (!existsSync(SYSTEM_CHROMIUM)) return `${SYSTEM_CHROMIUM} is not installed`;
  if (!turnserverPath()) return 'coturn is not installed';
  return null;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the renderer when asked, or when its build is missing or older than its sources. */
export function ensureRendererBuild(mode: string): void {
  const index = path.join(root, DEFAULT_RENDERER_DIR, 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(newestMtime(path.join(root, 'renderer')), newestMtime(path.join(root, 'shared')), statSync(path.join(root, 'vite.config.ts')).mtimeMs);
  const stale = built < sources;
  if (mode === 'never') {
    if (!built) throw new Error('no renderer build (build/renderer): run `npx vite build` or drop --build never');
    if (stale) console.warn('warning: build/renderer is older than renderer/ or shared/ sources (--build never)');
    return;
  }
  if (mode !== 'always' && !stale) return;
  console.log(`building the renderer (${mode === 'always' ? 'asked' : built ? 'stale' : 'missing'})…`);
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`vite build failed (${r.status})`);
}

export interface Marked {
  page: Page;
  participant: Participant;
  /** Service-side durations of bridge calls, in call order. */
  serviceCalls: { method: string; ms: number }[];
}

export class CallBench {
  net: TestNetwork | null = null;
  stack: StackInNamespace | null = null;
  private hostBrowser: Browser | null = null;
  alice: Marked | null = null;
  bob: Marked | null = null;
  private floorContexts: BrowserContext[] = [];
  /** Blank pages in Bob's and in Alice's browser (the two-page floor uses both). */
  floorPage: Page | null = null;
  aliceFloorPage: Page | null = null;
  link = '';
  /** Alice's state in the room: on the pre-join screen (after creating it) or in the call with a policy. */
  private aliceIn: NetworkPolicy | 'prejoin' | null = null;
  private closing: Promise<void> | null = null;

  /**
   * `joinPacer` keeps Bob's room joins (HTTP) under the server's per-user join limit; `rendererDir`,
   * when not the default build, is served to both participants instead (an older build to compare).
   */
  constructor(
    private readonly joinPacer: JoinPacer,
    private readonly rendererDir = DEFAULT_RENDERER_DIR,
  ) {}

  async open(): Promise<void> {
    this.net = await createTestNetwork({ clients: 2 });
    this.stack = await startStackIn(this.net);
    this.hostBrowser = await chromium.launch({ executablePath: SYSTEM_CHROMIUM, args: chromiumArgs });
    // Playwright's Ctrl-C handler (installed once, at the first launch) exits as soon as its browsers
    // are closed, before the participants' folders are removed: close() does it all instead.
    for (const listener of process.listeners('SIGINT')) if (listener.name === 'sigintHandler') process.off('SIGINT', listener);
    this.alice = await this.participant(0, 'alice');
    this.bob = await this.participant(1, 'bob');
    // The floor runs in Bob's browser (his namespace and firewall), on a blank page of a context of its own.
    this.floorPage = await this.blankPage(this.bob.page);
    this.aliceFloorPage = await this.blankPage(this.alice.page);
    await this.wireFloor(this.floorPage, this.aliceFloorPage);
    await this.wireFloor(this.aliceFloorPage, this.floorPage);
    this.link = await this.alice.participant.createRoom();
    this.aliceIn = 'prejoin';
    // TURN credentials for a floor run before Bob's first join: a join of his own, as the app makes.
    const resolved = await this.bob.participant.service.resolveLink(this.link);
    if (!resolved.ok) throw new Error(`cannot resolve the room link: ${resolved.error.message}`);
    await this.joinPacer.take();
    const joined = await this.bob.participant.service.joinRoom(resolved.value.roomId);
    if (!joined.ok) throw new Error(`Bob cannot join the room: ${joined.error.message}`);
  }

  private async blankPage(beside: Page): Promise<Page> {
    const context = await beside.context().browser()!.newContext();
    this.floorContexts.push(context);
    await context.route(`${TEST_ORIGIN}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>floor</title>' }));
    await context.addInitScript({ content: PROBE_SCRIPT });
    await context.addInitScript({ content: FLOOR_PEER_SCRIPT });
    const page = await context.newPage();
    await page.goto(`${TEST_ORIGIN}/floor`);
    return page;
  }

  /** Carries one floor page's messages to the other, in order. */
  private async wireFloor(from: Page, to: Page): Promise<void> {
    let chain = Promise.resolve();
    await from.exposeFunction('__zrFloorSend', (msg: FloorMessage) => {
      chain = chain.then(() => to.evaluate((m) => window.__zrFloorPeer!.receive(m), msg)).catch(() => undefined);
    });
  }

  private async participant(index: number, username: string): Promise<Marked> {
    const participant = await Participant.open(this.net!, this.stack!, index, this.hostBrowser!);
    const marked: Marked = { page: participant.page, participant, serviceCalls: [] };
    // Main's side of the bridge calls that matter: the HTTP join, and a call that does nothing.
    for (const method of ['joinRoom', 'getState'] as const) {
      const original = participant.service[method] as (...a: unknown[]) => Promise<unknown>;
      (participant.service as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        const start = performance.now();
        try {
          return await original(...args);
        } finally {
          marked.serviceCalls.push({ method, ms: performance.now() - start });
        }
      };
    }
    // As Electron's permission handler grants the app 'media': Participant's CDP grant of
    // local-network-access alone leaves camera and microphone "denied", and Chromium then hides host
    // candidates (the app would meet srflx to srflx, and have no host candidate behind a firewall).
    await participant.page.context().grantPermissions(['local-network-access', 'camera', 'microphone'], { origin: TEST_ORIGIN });
    // The route registered last wins: this build instead of Participant's.
    if (this.rendererDir !== DEFAULT_RENDERER_DIR) await serveRendererOnRoute(participant.page.context(), { origin: TEST_ORIGIN, dir: this.rendererDir });
    // The probe must run before the app's scripts: install it, then load the app again.
    await participant.page.addInitScript({ content: PROBE_SCRIPT });
    await participant.page.reload();
    await participant.signIn(this.stack!, username);
    return marked;
  }

  controlPorts(): number[] {
    return [Number(new URL(this.stack!.info.signaling.url).port), Number(new URL(this.stack!.info.idp.issuer).port)];
  }

  /** Alice in the call with `policy` (she leaves and comes back when it changes). */
  async aliceInCall(policy: NetworkPolicy): Promise<void> {
    if (this.aliceIn === policy) return;
    const { participant, page } = this.alice!;
    if (this.aliceIn !== 'prejoin') {
      if (this.aliceIn !== null) await leaveCall(page);
      await participant.openLink(this.link);
    }
    await prejoinReady(page);
    await choosePolicy(page, policy);
    await participant.joinCall();
    await page.getByRole('button', { name: 'Leave call' }).waitFor({ timeout: 15_000 });
    this.aliceIn = policy;
  }

  /** Bob from the home screen to the pre-join screen of the room, camera open, with `policy` chosen. */
  async bobPrejoin(policy: NetworkPolicy | null, expectPolicy: NetworkPolicy): Promise<void> {
    const { participant, page } = this.bob!;
    await this.joinPacer.take();
    await participant.openLink(this.link);
    await prejoinReady(page);
    if (policy) await choosePolicy(page, policy);
    const shown = await page.getByLabel('Network', { exact: true }).inputValue();
    if (shown !== expectPolicy) throw new Error(`Bob's pre-join shows policy ${shown}, expected ${expectPolicy}`);
  }

  /** Bob's latest TURN credentials, from his latest join response: the same servers the app gets. */
  floorConfigs(bobPolicy: NetworkPolicy, alicePolicy: NetworkPolicy): { configA: RTCConfiguration; configB: RTCConfiguration } {
    const join = this.bob!.participant.joins.at(-1);
    if (!join) throw new Error('Bob has no join response yet');
    const config = (p: NetworkPolicy) => {
      const r = rtcConfigurationFor(p, join.iceServers);
      if (!r.ok) throw new Error(r.error);
      return r.config;
    };
    return { configA: config(alicePolicy), configB: config(bobPolicy) };
  }

  /** Both peer connections in Bob's floor page. */
  async floor(args: FloorArgs): Promise<FloorResult> {
    return this.floorPage!.evaluate((a) => window.__zrFloor!(a), args);
  }

  /** Alice's peer connection in her browser, Bob's in his, descriptions and candidates carried by this process. */
  async floorTwoPage(args: FloorArgs): Promise<FloorResult> {
    const a = this.aliceFloorPage!;
    const b = this.floorPage!;
    await Promise.all([a, b].map((p) => p.evaluate((c) => window.__zrFloorPeer!.prepare(c), args.constraints)));
    try {
      await a.evaluate((c) => window.__zrFloorPeer!.start(c), args.configA);
      const { t0, pc } = await b.evaluate((c) => window.__zrFloorPeer!.start(c), args.configB);
      await b.evaluate(() => window.__zrFloorPeer!.offer());
      const { ok, path } = await b.evaluate((ms) => window.__zrFloorPeer!.wait(ms), args.timeoutMs);
      return { t0, pcB: pc, outcome: ok ? 'ok' : 'timeout', path, dump: await dump(b) };
    } finally {
      await Promise.all([a, b].map((p) => p.evaluate(() => window.__zrFloorPeer!.close())));
    }
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      const failures: unknown[] = [];
      const step = async (f: () => Promise<unknown> | undefined) => {
        try {
          await f();
        } catch (err) {
          failures.push(err);
        }
      };
      for (const context of this.floorContexts) await step(() => context.close());
      await step(() => this.alice?.participant.close());
      await step(() => this.bob?.participant.close());
      await step(() => this.hostBrowser?.close());
      if (this.net) for (const i of this.net.clients.keys()) await step(() => this.net!.clearFirewall(i));
      await step(() => this.stack?.stop());
      await step(() => this.net?.destroy());
      if (failures.length) throw new AggregateError(failures, 'cleaning up bench:call failed');
    })();
    return this.closing;
  }
}

/**
 * A mirror of the signaling server's per-user join limit (a token bucket: `burst`, refilled at
 * `perMinute`): waits rather than letting a join be refused with 429.
 */
export class JoinPacer {
  private tokens: number;
  private at = performance.now();

  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
  ) {
    this.tokens = burst;
  }

  async take(): Promise<void> {
    const refill = () => {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 60_000) * this.perMinute);
      this.at = now;
    };
    refill();
    // A little short of a whole token is not enough: the server's clock is not ours.
    if (this.tokens < 1.05) await new Promise((r) => setTimeout(r, ((1.05 - this.tokens) * 60_000) / this.perMinute));
    refill();
    this.tokens -= 1;
  }
}

export async function prejoinReady(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Join call' }).waitFor({ timeout: 15_000 });
  // The camera is open (the preview shows its live track): what the app does before the user can join.
  await page.waitForFunction(() => {
    const v = document.querySelector<HTMLVideoElement>('video[aria-label="Your camera preview"]');
    return v?.srcObject instanceof MediaStream && v.srcObject.getVideoTracks().some((t) => t.readyState === 'live');
  }, undefined, { timeout: 15_000 });
}

export async function choosePolicy(page: Page, policy: NetworkPolicy): Promise<void> {
  const select = page.getByLabel('Network', { exact: true });
  if ((await select.inputValue()) === policy) return;
  await select.selectOption({ label: NETWORK_POLICY_LABELS[policy] });
  // setPolicy goes through main first; the select follows once it is stored.
  for (const deadline = Date.now() + 5000; (await select.inputValue()) !== policy; ) {
    if (Date.now() > deadline) throw new Error(`the network policy did not change to ${policy}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function leaveCall(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Leave call' }).click();
  await page.getByLabel('Room link or ID').waitFor({ timeout: 10_000 });
}

export function dump(page: Page): Promise<ProbeDump> {
  return page.evaluate(() => window.__zrProbe!.dump());
}

export function resetProbe(page: Page): Promise<void> {
  return page.evaluate(() => window.__zrProbe!.reset());
}
