import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesktopService } from '../../electron/main/desktopService.js';
import { registerIpc, type IpcEventLike, type RendererLike } from '../../electron/main/ipc.js';
import { JoinLinkInbox } from '../../electron/main/JoinLinkInbox.js';
import { IPC_CHANNELS, type JoinLinkEvent, type Result } from '../../shared/ipc/desktopApi.js';
import { formatJoinLink } from '../../shared/links.js';
import { roomIdRules } from '../../shared/protocol/rooms.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

describe('JoinLinkInbox', () => {
  it('holds links that come before any page takes them, and hands them over in order', () => {
    const inbox = new JoinLinkInbox<string>();
    const delivered: string[] = [];
    inbox.connect((link) => delivered.push(link) > 0);
    inbox.push('a');
    inbox.push('b');
    expect(delivered).toEqual([]); // no page is reading yet
    expect(inbox.size).toBe(2);
    expect(inbox.take()).toEqual(['a', 'b']);
    inbox.push('c');
    expect(delivered).toEqual(['c']);
    expect(inbox.size).toBe(0);
  });

  it('hands each link out once: taken or delivered, never both', () => {
    const inbox = new JoinLinkInbox<string>();
    const delivered: string[] = [];
    inbox.connect((link) => delivered.push(link) > 0);
    inbox.push('cold-start');
    expect(inbox.take()).toEqual(['cold-start']);
    expect(inbox.take()).toEqual([]);
    inbox.push('live');
    expect(delivered).toEqual(['live']);
    expect(inbox.take()).toEqual([]);
  });

  it('keeps only the newest links when flooded', () => {
    const inbox = new JoinLinkInbox<string>(3);
    for (const link of ['1', '2', '3', '4', '5']) inbox.push(link);
    expect(inbox.size).toBe(3);
    expect(inbox.take()).toEqual(['3', '4', '5']);
    expect(() => new JoinLinkInbox(0)).toThrow(RangeError);
  });

  it('holds links across a reload: the leaving page gets none, the new one takes them', () => {
    const inbox = new JoinLinkInbox<string>();
    const delivered: string[] = [];
    inbox.connect((link) => delivered.push(link) > 0);
    inbox.take();
    inbox.pageLeaving();
    inbox.push('during-reload');
    expect(delivered).toEqual([]);
    expect(inbox.take()).toEqual([]); // the old page, still answering while it unloads
    inbox.pageCommitted();
    inbox.push('before-the-new-page-listens');
    expect(delivered).toEqual([]);
    expect(inbox.take()).toEqual(['during-reload', 'before-the-new-page-listens']);
    inbox.push('after');
    expect(delivered).toEqual(['after']);
  });

  it('keeps a link the page could not be sent, for the next page', () => {
    const inbox = new JoinLinkInbox<string>();
    let windowOpen = true;
    const delivered: string[] = [];
    inbox.connect((link) => windowOpen && delivered.push(link) > 0);
    inbox.take();
    windowOpen = false;
    inbox.push('while-closed');
    expect(delivered).toEqual([]);
    expect(inbox.size).toBe(1);
    windowOpen = true;
    inbox.pageCommitted();
    expect(inbox.take()).toEqual(['while-closed']);
  });
});

// The inbox as main runs it: the service resolves links, IPC sends them, the window reports its page.
const HOME = 'http://127.0.0.1:8787';
const OTHER = 'http://127.0.0.2:8787';
const APP = 'app://zerorange/index.html';

function clientConfig(origin: string) {
  return {
    issuer: 'http://127.0.0.1:9400',
    clientId: 'zerorange-desktop',
    scopes: ['openid'],
    audience: origin,
    signalingUrl: `${origin.replace('http', 'ws')}/v1/signal`,
    roomId: roomIdRules,
    protocolVersion: 1,
  };
}

const dirs: string[] = [];
const services: DesktopService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.dispose();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function mainProcess() {
  const dir = mkdtempSync(join(tmpdir(), 'zr-inbox-'));
  dirs.push(dir);
  const links = new JoinLinkInbox<{ raw: string; confirmed?: boolean }>();
  // Main takes links from the OS before the service exists (macOS open-url before `ready`).
  links.push({ raw: formatJoinLink({ roomId: 'cold-start', server: HOME }) });
  const service = createTestDesktopService({
    userDataDir: dir,
    openExternal: async () => undefined,
    networkInterfaces: () => ({}),
    links,
    fetch: (async (url: string | URL | Request) => {
      const origin = new URL(String(url)).origin;
      return new Response(JSON.stringify(clientConfig(origin)), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
  });
  services.push(service);
  const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => unknown>();
  const sent: JoinLinkEvent[] = [];
  let page: RendererLike | null = { send: (channel, payload) => channel === IPC_CHANNELS.onJoinLink && sent.push(payload as JoinLinkEvent), isDestroyed: () => false };
  registerIpc({ handle: (channel, listener) => handlers.set(channel, listener), removeHandler: (channel) => handlers.delete(channel) }, service, { mainContents: () => page });
  const take = async () => {
    const result = (await handlers.get(IPC_CHANNELS.takeJoinLinks)!({ senderFrame: { url: APP, parent: null } })) as Result<JoinLinkEvent[]>;
    if (!result.ok) throw new Error(result.error.message);
    return result.value;
  };
  return {
    service,
    sent,
    take,
    closeWindow: () => {
      service.pageLeaving();
      page = null;
    },
    openWindow: (contents: RendererLike) => {
      page = contents;
      service.pageCommitted();
    },
  };
}

const linkTo = (roomId: string, server: string, knownServer: boolean): JoinLinkEvent => ({ ok: true, link: { roomId, server, knownServer } });

describe('join links in main', () => {
  it('a link from before the page was ready, and those while the window was closed, reach the next page once', async () => {
    const main = mainProcess();
    await main.service.setServer(HOME);
    main.service.pageCommitted();
    expect(await main.take()).toEqual([linkTo('cold-start', HOME, true)]); // resolved when taken: HOME is known by now
    main.service.handleIncomingLink(formatJoinLink({ roomId: 'live', server: HOME }));
    expect(main.sent).toEqual([linkTo('live', HOME, true)]);

    main.closeWindow();
    main.service.handleIncomingLink(formatJoinLink({ roomId: 'while-closed', server: HOME }));
    main.service.handleIncomingLink('zerorange://join/../../etc?server=https://evil.example');
    const later: JoinLinkEvent[] = [];
    main.openWindow({ send: (_channel, payload) => later.push(payload as JoinLinkEvent), isDestroyed: () => false });
    const held = await main.take();
    expect(held).toEqual([linkTo('while-closed', HOME, true), { ok: false, reason: expect.any(String) }]);
    expect(await main.take()).toEqual([]);
    expect(main.sent).toHaveLength(1);
    expect(later).toEqual([]);
  });

  it('carries a join the user confirmed across the reload main does for the new server', async () => {
    const main = mainProcess();
    await main.service.setServer(HOME);
    await main.take();
    main.service.handleIncomingLink(formatJoinLink({ roomId: 'abc', server: OTHER }));
    expect(main.sent).toEqual([linkTo('abc', OTHER, false)]); // the page asks the user first

    // "Connect and join": the page connects to it for that room, main reloads the page for the new server's CSP.
    await main.service.setServer(OTHER, 'abc');
    main.service.pageLeaving();
    expect(await main.take()).toEqual([]); // not to the page that is going away
    // Nor does that page start the sign-in: the new page does, so there are not two.
    expect(await main.service.signIn()).toMatchObject({ ok: false, error: { code: 'busy' } });
    main.service.pageCommitted();
    expect(await main.take()).toEqual([{ ...linkTo('abc', OTHER, true), confirmed: true }]);
    // Once: another reload does not bring it back.
    main.service.pageLeaving();
    main.service.pageCommitted();
    expect(await main.take()).toEqual([]);
  });

  it('a link cancelled, then its server connected to by hand, joins nothing after the reload', async () => {
    const main = mainProcess();
    await main.service.setServer(HOME);
    await main.take();
    main.service.handleIncomingLink(formatJoinLink({ roomId: 'abc', server: OTHER }));
    expect(main.sent).toEqual([linkTo('abc', OTHER, false)]);
    // Cancel in the dialog, then Settings: the same server typed in, for no room.
    await main.service.setServer(OTHER);
    main.service.pageLeaving();
    main.service.pageCommitted();
    expect(await main.take()).toEqual([]);
    // Nor does a connect for another room confirm this link.
    main.service.handleIncomingLink(formatJoinLink({ roomId: 'abc', server: OTHER }));
    await main.service.setServer(OTHER, 'other-room');
    main.service.pageLeaving();
    main.service.pageCommitted();
    expect((await main.take()).filter((e) => e.ok && e.confirmed)).toEqual([]);
  });

  it('brings back no join the user did not confirm, or has already made', async () => {
    const main = mainProcess();
    await main.service.setServer(HOME);
    await main.take();
    // Shown, never confirmed: the page reloads for another reason.
    main.service.handleIncomingLink(formatJoinLink({ roomId: 'abc', server: OTHER }));
    main.service.pageLeaving();
    main.service.pageCommitted();
    expect(await main.take()).toEqual([]);

    // Confirmed and joined on the same page (no reload was needed): closing the window later brings nothing back.
    main.service.handleIncomingLink(formatJoinLink({ roomId: 'abc', server: OTHER }));
    await main.service.setServer(OTHER, 'abc');
    await main.service.joinRoom('abc'); // signed out here, so it fails, but the page did carry on with the join
    main.closeWindow();
    main.openWindow({ send: () => undefined, isDestroyed: () => false });
    expect(await main.take()).toEqual([]);
  });
});
