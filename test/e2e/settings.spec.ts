import { mkdtemp, rm } from 'node:fs/promises';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { ManagedConfig } from '../../electron/main/managedConfig.js';
import { parseManagedConfig } from '../../electron/main/managedConfig.js';
import { startStack } from '../../dev/stack.js';
import { installDesktopBridge } from '../support/desktopBridge.js';
import { SystemBrowser } from '../support/systemBrowser.js';
import { createTestDesktopService } from '../support/testDesktopService.js';

// The Settings screen against the real main-process service (through the test bridge): what is
// changed there is kept by main and shown again by a fresh app; what the organisation fixed is shown
// as such and cannot be changed. No server is needed: Settings is reachable before connecting.

const APP_URL = 'http://127.0.0.1:4173/';
// One fixed network, so "this network" has a fingerprint wherever the test runs.
const onOneNetwork = (): NodeJS.Dict<NetworkInterfaceInfo[]> => ({
  eth0: [{ address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:5e:00:53:01', internal: false, cidr: '192.0.2.10/24' }],
});

let work: string;
test.beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'zr-e2e-settings-'));
});
test.afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function openSettings(page: Page, userDataDir: string, managed?: ManagedConfig, openExternal: (url: string) => Promise<void> = async () => undefined) {
  const service = createTestDesktopService({ openExternal, userDataDir, networkInterfaces: onOneNetwork, ...(managed ? { managed } : {}) });
  const unbridge = await installDesktopBridge(page, service);
  await page.goto(APP_URL);
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  return {
    service,
    async close() {
      unbridge();
      await service.dispose();
    },
  };
}

test('what is changed in Settings is kept for the next start; Forget this network forgets it', async ({ page, context }) => {
  const userData = path.join(work, 'kept');
  const first = await openSettings(page, userData);
  try {
    await first.service.rememberNetwork(true);
    await page.getByLabel('Start calls muted').check();
    await page.getByLabel('Start calls with the camera off').check();
    await page.getByLabel('Network policy for calls').selectOption({ label: 'Always relay' });
    await expect(page.getByLabel('Network policy for calls')).toBeEnabled(); // main answered
    await expect.poll(() => first.service.getState()).toMatchObject({
      value: { networkPolicy: 'relay', preferences: { startMuted: true, startCameraOff: true } },
    });
  } finally {
    await first.close();
  }

  // A new app on the same data folder: a fresh page, a fresh main-process service.
  const second = await context.newPage();
  const again = await openSettings(second, userData);
  try {
    await expect(second.getByLabel('Start calls muted')).toBeChecked();
    await expect(second.getByLabel('Start calls with the camera off')).toBeChecked();
    await expect(second.getByLabel('Network policy for calls')).toHaveValue('relay');
    await expect(second.getByText('This network blocks UDP')).toBeVisible();
    await second.getByRole('button', { name: 'Forget this network' }).click();
    await expect(second.getByText('Nothing special is known about this network.')).toBeVisible();
    expect(await again.service.getState()).toMatchObject({ value: { restrictiveNetwork: false } });
  } finally {
    await again.close();
  }
});

test('a network policy the organisation fixed is shown as set by it and cannot be changed', async ({ page }) => {
  const parsed = parseManagedConfig('{ "networkPolicy": "relay-tls" }', '/etc/zerorange/config.json', { allowInsecureLoopback: false });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const app = await openSettings(page, path.join(work, 'managed'), parsed.config);
  try {
    const policy = page.getByLabel('Network policy for calls');
    await expect(policy).toHaveValue('relay-tls');
    await expect(policy).toBeDisabled();
    await expect(page.getByText('Set by your organisation')).toBeVisible();
    // The page is not trusted: main refuses the change even if the control were enabled.
    expect(await app.service.setNetworkPolicy('auto')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  } finally {
    await app.close();
  }
});

test('a room’s preview starts as Settings say, and a camera picked there is kept', async ({ page }) => {
  // A development stack on loopback (no TURN): enough to sign in and open a room's preview.
  const stack = await startStack({ turn: false, idpPort: 0, signalingPort: 0, stateDir: path.join(work, 'stack'), log: () => undefined });
  const systemBrowser = new SystemBrowser(page.context().browser()!);
  const app = await openSettings(page, path.join(work, 'prejoin'), undefined, systemBrowser.openExternal);
  try {
    await page.getByLabel('Start calls muted').check();
    await page.getByLabel('Start calls with the camera off').check();
    await expect(page.getByLabel('Start calls with the camera off')).toBeEnabled();
    await page.getByRole('button', { name: 'Back' }).click();

    systemBrowser.user = stack.info.idp.users.find((u) => u.username === 'alice')!;
    await page.getByLabel('Server address').fill(stack.info.signaling.url);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Room link or ID').fill('settings-check');
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await expect(page.getByText('Ready to join')).toBeVisible();
    await expect(page.getByLabel('Start muted')).toBeChecked();
    await expect(page.getByLabel('Start with camera off')).toBeChecked();

    // Chromium's fake devices: pick the second camera if there is one, else the first.
    const camera = page.getByLabel('Camera', { exact: true });
    await expect(camera.locator('option').first()).not.toHaveText('None found');
    const options = await camera.locator('option').evaluateAll((list) => list.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent ?? '' })));
    const pick = options.at(-1)!;
    await camera.selectOption(pick.value);
    await expect
      .poll(async () => {
        const state = await app.service.getState();
        return state.ok ? state.value.preferences?.devices.videoinput : null;
      })
      .toEqual({ deviceId: pick.value, label: pick.label });
    await page.getByRole('button', { name: 'Leave' }).click();
  } finally {
    await app.close();
    await systemBrowser.close();
    await stack.close();
  }
});
