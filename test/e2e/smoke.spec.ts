import { expect, test } from '@playwright/test';

test('the renderer builds and renders in Chromium', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto('http://127.0.0.1:4173/');
  await expect(page.getByRole('heading', { name: 'ZeroRange' })).toBeVisible();
  expect(errors).toEqual([]);
});
