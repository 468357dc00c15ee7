import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { DesktopService } from '../../electron/main/desktopService.js';
import { startStack, type Stack } from '../../dev/stack.js';
import { installDesktopBridge } from '../support/desktopBridge.js';
import { SystemBrowser } from '../support/systemBrowser.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

const APP_URL = 'http://127.0.0.1:4173/';

let stack: Stack;
let work: string;

test.beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'zr-e2e-shell-'));
  stack = await startStack({ turn: false, idpPort: 0, signalingPort: 0, stateDir: path.join(work, 'state'), log: () => undefined });
});
test.afterAll(async () => {
  await stack?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Harness {
  page: Page;
  service: DesktopService;
  systemBrowser: SystemBrowser;
  userData: string;
  dispose(): Promise<void>;
}

async function openApp(page: Page, name: string): Promise<Harness> {
  const userData = path.join(work, name);
  const systemBrowser = new SystemBrowser(page.context().browser()!);
  const service = createTestDesktopService({ openExternal: systemBrowser.openExternal, userDataDir: userData, networkInterfaces });
  const unbridge = await installDesktopBridge(page, service);
  await page.goto(APP_URL);
  return {
    page,
    service,
    systemBrowser,
    userData,
    async dispose() {
      unbridge();
      await service.dispose();
      await systemBrowser.close();
    },
  };
}

async function signIn(h: Harness, username = 'alice'): Promise<void> {
  const user = stack.info.idp.users.find((u) => u.username === username)!;
  h.systemBrowser.user = user;
  await h.page.getByLabel('Server address').fill(stack.info.signaling.url);
  await h.page.getByRole('button', { name: 'Connect', exact: true }).click();
  await h.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(h.page.getByText(`Signed in as ${user.name}`)).toBeVisible();
}

test('signs in through the IdP in the system browser, joins by link and signs out', async ({ page }) => {
  const h = await openApp(page, 'alice');
  try {
    await signIn(h);
    const authUrl = new URL(h.systemBrowser.opened[0]!);
    expect(authUrl.origin).toBe(stack.info.idp.issuer);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    // Nothing secret reaches the renderer: no token in its storage or globals.
    const leaked = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));
    expect(leaked).not.toMatch(/eyJ/);

    await page.getByRole('button', { name: 'New room' }).click();
    const link = await page.getByLabel('Room link', { exact: true }).inputValue();
    const match = new RegExp(`^${stack.info.signaling.url}/join/([0-9a-z]{26})$`).exec(link);
    expect(match, link).not.toBeNull();

    // A link from the OS (protocol handler) for that room.
    h.service.handleIncomingLink(`zerorange://join/${match![1]}?server=${encodeURIComponent(stack.info.signaling.url)}`);
    await expect(page.getByRole('heading', { name: `Room ${match![1]}` })).toBeVisible();
    await expect(page.getByText('Ready to join')).toBeVisible();
    await page.getByRole('button', { name: 'Leave' }).click();

    // A pasted web link.
    await page.getByLabel('Room link or ID').fill(`${stack.info.signaling.url}/join/team-standup`);
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Room team-standup' })).toBeVisible();
    await page.getByRole('button', { name: 'Leave' }).click();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
    expect((await h.service.getState()).ok && (await h.service.getState())).toMatchObject({ value: { user: null } });
    // Nothing of the session is left on disk.
    expect(await readdir(path.join(h.userData, 'sessions')).catch(() => [])).toEqual([]);
  } finally {
    await h.dispose();
  }
});

test('a malformed link changes nothing and says why', async ({ page }) => {
  const h = await openApp(page, 'malformed');
  try {
    await signIn(h, 'bob');
    h.service.handleIncomingLink('zerorange://join/../../etc?server=https://evil.example');
    await expect(page.getByRole('alert')).toContainText(/room|link/i);
    await expect(page.getByText('Signed in as Bob Berger')).toBeVisible();

    await page.getByLabel('Room link or ID').fill('javascript:alert(1)');
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText(/not ZeroRange links|link/i);
    await expect(page.getByText('Signed in as Bob Berger')).toBeVisible();
  } finally {
    await h.dispose();
  }
});

test('a link to a Punycode server, or one ending in a dot, shows how it reads and warns before anything is sent', async ({ page }) => {
  const h = await openApp(page, 'punycode-server');
  try {
    await signIn(h, 'carol');
    const dialog = page.getByRole('dialog', { name: 'Open a link to another server?' });
    h.service.handleIncomingLink('zerorange://join/abc?server=https://xn--80ak6aa92e.com');
    await expect(dialog.locator('.server-origin')).toHaveText('https://аррӏе.com');
    await expect(dialog).toContainText('Written in the link as https://xn--80ak6aa92e.com');
    await expect(dialog.getByTestId('server-warning')).toContainText(/Punycode.*imitate/);
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(dialog).toBeHidden();

    h.service.handleIncomingLink('zerorange://join/abc?server=https://signal.example.com.');
    await expect(dialog.getByTestId('server-warning')).toContainText('ends in a dot');
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(page.getByText('Signed in as Carol Castro')).toBeVisible();
  } finally {
    await h.dispose();
  }
});

test('a link to an unknown server asks first, and sends it nothing unless confirmed', async ({ page }) => {
  const requests: string[] = [];
  const other: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const otherOrigin = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
  const h = await openApp(page, 'unknown-server');
  try {
    await signIn(h, 'carol');
    h.service.handleIncomingLink(`zerorange://join/abc?server=${encodeURIComponent(otherOrigin)}`);
    const dialog = page.getByRole('dialog', { name: 'Open a link to another server?' });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText(otherOrigin);
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByText('Signed in as Carol Castro')).toBeVisible();
    expect(requests).toEqual([]);

    // Confirming contacts it (and reports that it is not a ZeroRange server).
    h.service.handleIncomingLink(`zerorange://join/abc?server=${encodeURIComponent(otherOrigin)}`);
    await page.getByRole('dialog', { name: 'Open a link to another server?' }).getByRole('button', { name: 'Connect and join' }).click();
    await expect(page.getByRole('alert')).toContainText(/ZeroRange server|answered 404/);
    expect(requests).toEqual(['/v1/client-config']);
  } finally {
    await h.dispose();
    await new Promise((resolve) => other.close(resolve));
  }
});

test('a join confirmed for another server carries on after main reloads the window for that server', async ({ page }) => {
  // The same server under another origin is, to the app, a server the user has not trusted yet.
  const otherOrigin = stack.info.signaling.url.replace('127.0.0.1', 'localhost');
  const h = await openApp(page, 'confirmed-reload');
  // As main does in Electron: the page reloads when the server changes (its CSP), and tells the
  // service when the page goes away and when the new document commits.
  let reloads = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) h.service.pageCommitted();
  });
  const offState = h.service.subscribe('state', (state) => {
    if (state.server?.origin !== otherOrigin || reloads > 0) return;
    reloads += 1;
    h.service.pageLeaving();
    void page.reload().catch(() => undefined);
  });
  try {
    await signIn(h, 'alice');
    h.service.handleIncomingLink(`zerorange://join/abc?server=${encodeURIComponent(otherOrigin)}`);
    const dialog = page.getByRole('dialog', { name: 'Open a link to another server?' });
    await dialog.getByRole('button', { name: 'Connect and join' }).click();
    // The reloaded page signs in there (the user already asked to join) and joins, once.
    await expect(page.getByRole('heading', { name: 'Room abc' })).toBeVisible();
    await expect(page.getByText('Ready to join')).toBeVisible();
    expect(reloads).toBe(1);
    const state = await h.service.getState();
    expect(state.ok && state.value.server?.origin).toBe(otherOrigin);
    expect(state.ok && state.value.user?.name).toBe(stack.info.idp.users.find((u) => u.username === 'alice')!.name);
    // One sign-in here, one there: the page that went away started none.
    expect(h.systemBrowser.opened).toHaveLength(2);
  } finally {
    offState();
    await h.dispose();
  }
});
