/**
 * The shell's services as the page shows them, with the real main-process service behind the test
 * bridge: Network privacy in Settings, and "Restart to update" (never during a call).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { DesktopService, DesktopServiceDeps } from '../../electron/main/desktopService.js';
import { UpdateService, type UpdaterPort } from '../../electron/main/updates/UpdateService.js';
import type { IpHandlingPolicy } from '../../shared/ipc/shellServices.js';
import { installDesktopBridge } from '../support/desktopBridge.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

const APP_URL = 'http://127.0.0.1:4173/';

let work: string;
test.beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'zr-e2e-services-'));
});
test.afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function openApp(page: Page, name: string, extra: Partial<DesktopServiceDeps> = {}) {
  const userData = path.join(work, name);
  const service: DesktopService = createTestDesktopService({ openExternal: async () => undefined, userDataDir: userData, networkInterfaces: () => ({}), ...extra });
  const unbridge = await installDesktopBridge(page, service);
  await page.goto(APP_URL);
  return {
    service,
    userData,
    async dispose() {
      unbridge();
      await service.dispose();
    },
  };
}

test('Network privacy: the choices in words, applied at once and kept', async ({ page }) => {
  const applied: IpHandlingPolicy[] = [];
  const h = await openApp(page, 'privacy', { applyIpPolicy: (p) => applied.push(p) });
  try {
    await page.getByRole('button', { name: 'Settings' }).click();
    const group = page.getByRole('group', { name: 'Network connections calls may use' });
    await expect(group.getByRole('radio', { name: 'Use every network connection' })).toBeChecked();
    await expect(group.getByText(/VPN or your local network/).first()).toBeVisible();
    await group.getByRole('radio', { name: 'Only the connection to the internet' }).check();
    await expect(page.getByText('Saved. It applies to calls you start from now on.')).toBeVisible();
    expect(applied).toEqual(['default_public_interface_only']);
    expect(JSON.parse(await readFile(path.join(h.userData, 'network-privacy.json'), 'utf8'))).toEqual({ ipHandlingPolicy: 'default_public_interface_only' });
    await expect(page.getByText('Connect to a server to see whether a proxy is in use.')).toBeVisible();
  } finally {
    await h.dispose();
  }
});

test('Network privacy set by the organisation: shown as such, and locked', async ({ page }) => {
  const managed = await openApp(page, 'managed', { managedIpPolicy: 'disable_non_proxied_udp' });
  try {
    await page.getByRole('button', { name: 'Settings' }).click();
    const group = page.getByRole('group', { name: 'Network connections calls may use' });
    await expect(group.getByRole('radio', { name: 'Only through the proxy or the relay' })).toBeChecked();
    await expect(group.getByRole('radio', { name: 'Use every network connection' })).toBeDisabled();
    await expect(page.getByText('Your organisation has set this for you.')).toBeVisible();
  } finally {
    await managed.dispose();
  }
});

/** electron-updater's side, answering with an update 0.2.0 that downloads at once. */
function fakeUpdater(installs: unknown[][]): UpdaterPort {
  const info = { version: '0.2.0', files: [], path: '', sha512: '', releaseDate: '' };
  const updater: UpdaterPort = {
    autoDownload: true,
    autoInstallOnAppQuit: false,
    channel: null,
    on: (() => updater) as unknown as UpdaterPort['on'],
    checkForUpdates: async () => ({ isUpdateAvailable: true, updateInfo: info, versionInfo: info }),
    downloadUpdate: async () => [],
    quitAndInstall: (...args: unknown[]) => void installs.push(args),
  };
  return updater;
}

test('Restart to update: offered once an update is ready, hidden during a call, installs on request', async ({ page }) => {
  const installs: unknown[][] = [];
  const updater = fakeUpdater(installs);
  let updates: UpdateService | null = null;
  const h = await openApp(page, 'updates', {
    createUpdates: (inCall) => (updates = new UpdateService({ updater, enabled: true, inCall, setTimer: () => () => undefined })),
  });
  try {
    await expect(page.getByRole('button', { name: 'Connect', exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Restart to update' })).toHaveCount(0);
    await updates!.check();
    await expect(page.getByText('ZeroRange 0.2.0 is ready to install.')).toBeVisible();
    // A call starts: no offer, and main would refuse the restart anyway.
    await h.service.setInCall(true);
    await expect(page.getByRole('button', { name: 'Restart to update' })).toHaveCount(0);
    await h.service.setInCall(false);
    await page.getByRole('button', { name: 'Restart to update' }).click();
    await expect.poll(() => installs).toEqual([[false, true]]);
  } finally {
    await h.dispose();
  }
});

test('Settings → Updates: a check on demand finds the update and offers the restart', async ({ page }) => {
  const h = await openApp(page, 'updates-settings', {
    createUpdates: (inCall) => new UpdateService({ updater: fakeUpdater([]), enabled: true, inCall, setTimer: () => () => undefined }),
  });
  try {
    await page.getByRole('button', { name: 'Settings' }).click();
    const card = page.getByRole('region', { name: 'Updates' });
    await expect(card.getByText('No update is waiting. ZeroRange checks once a day.')).toBeVisible();
    await card.getByRole('button', { name: 'Check for updates' }).click();
    await expect(card.getByText('ZeroRange 0.2.0 is ready: it installs when you restart or quit.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Restart to update' })).toBeVisible();
  } finally {
    await h.dispose();
  }
});

test('Settings → Updates turned off by the organisation: said, and nothing to press', async ({ page }) => {
  const h = await openApp(page, 'updates-off', {
    createUpdates: (inCall) => new UpdateService({ updater: fakeUpdater([]), enabled: false, inCall }),
  });
  try {
    await page.getByRole('button', { name: 'Settings' }).click();
    const card = page.getByRole('region', { name: 'Updates' });
    await expect(card.getByText('Updates are turned off by your organisation.')).toBeVisible();
    await expect(card.getByRole('button')).toHaveCount(0);
  } finally {
    await h.dispose();
  }
});
