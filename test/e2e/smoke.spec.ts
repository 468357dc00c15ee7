import { expect, test } from '@playwright/test';

// The built renderer in plain Chromium, under its own Content-Security-Policy, with no preload and so
// no window.desktop: it must say plainly that it cannot start, not crash or show a half-working app.
test('without the desktop bridge the renderer says it cannot start', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  await page.goto('http://127.0.0.1:4173/');
  await expect(page.getByRole('heading', { name: 'ZeroRange cannot start' })).toBeVisible();
  await expect(page.getByText('The desktop bridge (window.desktop) is missing')).toBeVisible();
  // None of the app's screens or controls appear.
  await expect(page.getByRole('button')).toHaveCount(0);
  // The stylesheet loaded under the CSP (style-src 'self').
  await expect(page.locator('body')).toHaveCSS('margin', '0px');
  // No uncaught error, and nothing blocked by the CSP (Chromium reports violations on the console).
  expect(errors).toEqual([]);
});
