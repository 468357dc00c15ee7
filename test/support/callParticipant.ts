import { mkdtempSync, rmSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { DesktopService } from '../../electron/main/desktopService.js';
import type { JoinResponse } from '../../shared/protocol/index.js';
import { closeBrowserInNamespace, launchBrowserInNamespace } from './callBrowser.js';
import { installDesktopBridge } from './desktopBridge.js';
import { createTestDesktopService } from './testDesktopService.js';
import type { TestNetwork } from './netns.js';
import { serveRendererOnRoute } from './rendererRoute.js';
import { TEST_ORIGIN, type StackInNamespace } from './stackInNamespace.js';
import { SystemBrowser } from './systemBrowser.js';

export interface MediaCounters {
  peers: number;
  framesDecoded: number;
  videoBytes: number;
  audioBytes: number;
}

export interface SelectedPath {
  localType: string | null;
  remoteType: string | null;
  relayProtocol: string | null;
  url: string | null;
  /** The local candidate's address (a relay candidate's is the relay's; Chromium leaves a peer-reflexive one empty). */
  address: string | null;
  /** The selected candidate pair's stats id: a new pair gets a new one. */
  pairId: string | null;
}

/** What a page-side observer saw of one person's tile, and of advice blaming the network. */
export interface TileWatch {
  /** Fewest and most tiles of that person at any moment since watching began. */
  min: number;
  max: number;
  /** How long (ms) the tile was absent in all, and at the longest stretch. */
  absentMs: number;
  longestAbsentMs: number;
  /** Whether the tile showed `Away` at any moment. */
  away: boolean;
  /** Text seen on the page that blames the user's network (null: none). */
  blame: string | null;
}

/** Advice that is about the user's own network; a server restart or a peer's reload never warrants it. */
export const NETWORK_BLAME = /administrator|IT team|firewall|network blocks|direct path failed|TURN over TLS 443/i;

declare global {
  interface Window {
    __zrPcs?: RTCPeerConnection[];
    __zrTileWatch?: () => TileWatch;
  }
}

/**
 * One person in a call test: Chromium in a client namespace with the built renderer, `window.desktop`
 * bridged to a real DesktopService in the test process, and a system browser for sign-in.
 */
export class Participant {
  private constructor(
    readonly page: Page,
    readonly service: DesktopService,
    private readonly browser: Browser,
    private readonly context: BrowserContext,
    private readonly systemBrowser: SystemBrowser,
    private readonly net: TestNetwork,
    private readonly index: number,
    private readonly userData: string,
    private readonly unbridge: () => void,
    /** Every JoinResponse main handed this participant's renderer (room tokens, TURN credentials). */
    readonly joins: JoinResponse[],
    /** Files the app saved through its save dialog. */
    readonly saved: string[],
  ) {}

  /**
   * `hostBrowser` runs where main runs (the root namespace): the system browser must reach main's
   * loopback redirect listener, as it does on a real machine.
   */
  static async open(net: TestNetwork, stack: StackInNamespace, index: number, hostBrowser: Browser): Promise<Participant> {
    const client = net.clients[index]!;
    const spki = stack.info.turn.enabled ? [stack.info.turn.spkiSha256] : [];
    const browser = await launchBrowserInNamespace(net, client.ns, { spkiList: spki, insecureOrigins: [TEST_ORIGIN] });
    const context = await browser.newContext();
    // As the Electron app grants its own origin: the signaling server is on a private address.
    await context.grantPermissions(['local-network-access'], { origin: TEST_ORIGIN });
    await serveRendererOnRoute(context, { origin: TEST_ORIGIN, dir: 'build/renderer' });
    const page = await context.newPage();
    if (process.env.ZR_DEBUG_PAGES) page.on('console', (m) => console.log(`[page ${index}] ${m.type()}: ${m.text()}`));
    // Test-only instrumentation: keep every peer connection the app makes, to read its stats.
    await page.addInitScript(() => {
      const Native = window.RTCPeerConnection;
      window.__zrPcs = [];
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super(config);
          window.__zrPcs!.push(this);
        }
      } as typeof RTCPeerConnection;
    });
    const systemBrowser = new SystemBrowser(hostBrowser);
    const userData = mkdtempSync(path.join(tmpdir(), `zr-participant-${index}-`));
    // This client's network as main would see it: its own address (for the per-network record).
    const ifs: NodeJS.Dict<NetworkInterfaceInfo[]> = {
      eth0: [{ address: client.ip, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:00', internal: false, cidr: `${client.ip}/24` }],
    };
    const saved: string[] = [];
    let saves = 0;
    const service = createTestDesktopService({
      // The save dialog: a file in this participant's folder, as if the user had picked it.
      saveDialog: async (req) => {
        const file = path.join(userData, `saved-${++saves}-${path.basename(req.defaultPath)}`);
        saved.push(file);
        return file;
      },
      openExternal: systemBrowser.openExternal,
      userDataDir: userData,
      allowInsecureLoopback: false,
      insecureHosts: [net.serverIp],
      networkInterfaces: () => ifs,
    });
    // Record what main hands the renderer, to search exports for it later.
    const joins: JoinResponse[] = [];
    const joinRoom = service.joinRoom;
    service.joinRoom = async (roomId) => {
      const result = await joinRoom(roomId);
      if (result.ok) joins.push(result.value);
      return result;
    };
    const unbridge = await installDesktopBridge(page, service);
    await page.goto(`${TEST_ORIGIN}/`);
    return new Participant(page, service, browser, context, systemBrowser, net, index, userData, unbridge, joins, saved);
  }

  async signIn(stack: StackInNamespace, username: string): Promise<void> {
    await this.connect(stack);
    await this.signInAs(stack, username);
  }

  /** Enters the stack's server address: the app shows its sign-in screen. */
  async connect(stack: StackInNamespace): Promise<void> {
    await this.page.getByLabel('Server address').fill(stack.info.signaling.url);
    await this.page.getByRole('button', { name: 'Connect', exact: true }).click();
  }

  /** On the sign-in screen: Sign in, and `username` signs in at the IdP's page in the system browser. */
  async signInAs(stack: StackInNamespace, username: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    const user = stack.info.idp.users.find((u) => u.username === username)!;
    this.systemBrowser.user = user;
    this.systemBrowser.lastError = undefined;
    await this.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    try {
      // The code exchange, the user info and the state's way to the page: seconds on a loaded two-core machine.
      await expect(this.page.getByText(`Signed in as ${user.name}`)).toBeVisible({ timeout: opts.timeoutMs ?? 15_000 });
    } catch (err) {
      const at = this.systemBrowser.page?.isClosed() === false ? this.systemBrowser.page.url() : 'no page';
      throw new Error(`not signed in; the system browser is at ${at}, last error: ${this.systemBrowser.lastError ?? 'none'}`, { cause: err });
    }
  }

  /** New room → its shareable link, and this participant on its pre-join screen. */
  async createRoom(): Promise<string> {
    await this.page.getByRole('button', { name: 'New room' }).click();
    const link = await this.page.getByLabel('Room link', { exact: true }).inputValue();
    await this.page.getByRole('button', { name: 'Enter this room' }).click();
    return link;
  }

  async openLink(link: string): Promise<void> {
    await this.page.getByLabel('Room link or ID').fill(link);
    await this.page.getByRole('button', { name: 'Join', exact: true }).click();
  }

  async joinCall(policyLabel?: string): Promise<void> {
    if (policyLabel) await this.page.getByLabel('Network', { exact: true }).selectOption({ label: policyLabel });
    await this.page.getByRole('button', { name: 'Join call' }).click();
  }

  tile(name: string) {
    return this.page.getByRole('group', { name, exact: true });
  }

  /**
   * Starts recording, in the page, every change in how many tiles `name` has (a MutationObserver sees
   * each DOM change, so even a tile gone for one frame is caught), whether it showed `Away`, and any
   * text blaming the network. `tileWatch()` reads what was seen so far.
   */
  async watchTile(name: string): Promise<void> {
    await this.page.evaluate(({ name, blame }) => {
      const pattern = new RegExp(blame, 'i');
      const selector = `[role="group"][aria-label="${CSS.escape(name)}"]`;
      const seen = { min: Infinity, max: 0, absentMs: 0, longestAbsentMs: 0, away: false, blame: null as string | null };
      let absentSince: number | null = null;
      const check = () => {
        const tiles = document.querySelectorAll(selector);
        seen.min = Math.min(seen.min, tiles.length);
        seen.max = Math.max(seen.max, tiles.length);
        if (tiles.length === 0) absentSince ??= performance.now();
        else if (absentSince !== null) {
          const gap = performance.now() - absentSince;
          seen.absentMs += gap;
          seen.longestAbsentMs = Math.max(seen.longestAbsentMs, gap);
          absentSince = null;
        }
        for (const tile of tiles) if (/\bAway\b/.test(tile.textContent ?? '')) seen.away = true;
        const text = document.body.textContent ?? '';
        const m = pattern.exec(text);
        if (m && seen.blame === null) seen.blame = text.slice(Math.max(0, m.index - 80), m.index + 80);
      };
      check();
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      window.__zrTileWatch = () => {
        const open = absentSince === null ? 0 : performance.now() - absentSince;
        return { ...seen, absentMs: seen.absentMs + open, longestAbsentMs: Math.max(seen.longestAbsentMs, open) };
      };
    }, { name, blame: NETWORK_BLAME.source });
  }

  tileWatch(): Promise<TileWatch> {
    return this.page.evaluate(() => window.__zrTileWatch!());
  }

  /** Media received so far, summed over this participant's peer connections. */
  media(): Promise<MediaCounters> {
    return this.page.evaluate(async () => {
      const total = { peers: 0, framesDecoded: 0, videoBytes: 0, audioBytes: 0 };
      for (const pc of window.__zrPcs ?? []) {
        if (pc.connectionState === 'closed') continue;
        total.peers += 1;
        (await pc.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number; bytesReceived?: number }) => {
          if (s.type !== 'inbound-rtp') return;
          if (s.kind === 'video') {
            total.framesDecoded += s.framesDecoded ?? 0;
            total.videoBytes += s.bytesReceived ?? 0;
          } else if (s.kind === 'audio') total.audioBytes += s.bytesReceived ?? 0;
        });
      }
      return total;
    });
  }

  /** The selected candidate pair of each open peer connection. */
  paths(): Promise<SelectedPath[]> {
    return this.page.evaluate(async () => {
      const out: { localType: string | null; remoteType: string | null; relayProtocol: string | null; url: string | null; address: string | null; pairId: string | null }[] = [];
      for (const pc of window.__zrPcs ?? []) {
        if (pc.connectionState !== 'connected') continue;
        const stats = await pc.getStats();
        const byId = new Map<string, Record<string, unknown>>();
        stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
        const transport = [...byId.values()].find((s) => s.type === 'transport');
        const pair = byId.get(transport?.selectedCandidatePairId as string);
        const local = byId.get(pair?.localCandidateId as string);
        const remote = byId.get(pair?.remoteCandidateId as string);
        out.push({
          localType: (local?.candidateType as string) ?? null,
          remoteType: (remote?.candidateType as string) ?? null,
          relayProtocol: (local?.relayProtocol as string) ?? null,
          url: (local?.url as string) ?? null,
          address: (local?.address as string) ?? null,
          pairId: (pair?.id as string) ?? null,
        });
      }
      return out;
    });
  }

  /** The local ICE username fragment of each open peer connection: it changes with every ICE restart. */
  iceUfrags(): Promise<string[]> {
    return this.page.evaluate(() =>
      (window.__zrPcs ?? []).filter((pc) => pc.connectionState !== 'closed').map((pc) => /^a=ice-ufrag:(.+)$/m.exec(pc.localDescription?.sdp ?? '')?.[1] ?? ''),
    );
  }

  /** The TURN credentials each open peer connection would gather with now (what the app last applied). */
  turnCredentials(): Promise<{ username: string; credential: string }[]> {
    return this.page.evaluate(() =>
      (window.__zrPcs ?? [])
        .filter((pc) => pc.connectionState !== 'closed')
        .flatMap((pc) => pc.getConfiguration().iceServers ?? [])
        // STUN entries read back with an empty username: only TURN entries carry credentials.
        .filter((s) => typeof s.username === 'string' && s.username !== '' && typeof s.credential === 'string')
        .map((s) => ({ username: s.username!, credential: s.credential as string })),
    );
  }

  /**
   * Sets this page's wall clock `offsetMs` off (Date and Date.now; timers and performance.now keep real
   * time), as a machine whose clock is wrong. Applies to code running from now on.
   */
  async shiftClock(offsetMs: number): Promise<void> {
    await this.page.evaluate((offset) => {
      const RealDate = Date;
      const realNow = RealDate.now.bind(RealDate);
      class SkewedDate extends RealDate {
        constructor(...args: unknown[]) {
          if (args.length === 0) super(realNow() + offset);
          else super(...(args as [string | number | Date]));
        }
        static override now(): number {
          return realNow() + offset;
        }
      }
      window.Date = SkewedDate as DateConstructor;
    }, offsetMs);
  }

  /** Waits until received media grows on every expected peer connection (real audio and decoded video). */
  async expectMediaFlowing(peers: number, timeoutMs = 15_000): Promise<void> {
    const first = await this.media();
    let last = first;
    try {
      await expect
        .poll(async () => {
          last = await this.media();
          return last.peers >= peers && last.framesDecoded > first.framesDecoded + 5 * peers && last.audioBytes > first.audioBytes && last.videoBytes > first.videoBytes;
        }, { timeout: timeoutMs })
        .toBe(true);
    } catch (err) {
      const screen = await this.page.locator('main').innerText().catch(() => '(no page)');
      const states = await this.page.evaluate(() => (window.__zrPcs ?? []).map((pc) => `${pc.connectionState}/${pc.iceConnectionState}/${pc.signalingState}`));
      throw new Error(`media not flowing to participant ${this.index}: first ${JSON.stringify(first)}, last ${JSON.stringify(last)}, peer connections ${JSON.stringify(states)}\n--- screen ---\n${screen}`, { cause: err });
    }
  }

  /** Every step runs even when one before it fails (a browser already gone), so nothing is left behind. */
  async close(): Promise<void> {
    this.unbridge();
    const steps = [
      () => this.service.dispose(),
      () => this.systemBrowser.close(),
      // A crashed browser has no context left to close.
      () => this.context.close().catch(() => undefined),
      () => closeBrowserInNamespace(this.net, this.net.clients[this.index]!.ns, this.browser),
    ];
    const failures: unknown[] = [];
    for (const step of steps) await step().catch((err: unknown) => failures.push(err));
    rmSync(this.userData, { recursive: true, force: true });
    if (failures.length) throw new AggregateError(failures, 'closing a participant failed');
  }
}
