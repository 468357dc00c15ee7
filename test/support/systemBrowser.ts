import type { Browser, BrowserContext, Page } from '@playwright/test';

/**
 * Stands in for the user's system browser: `openExternal` opens the URL in a browser context of its
 * own (as the OS would) and, when the IdP's login page shows, signs in as the chosen user.
 */
export class SystemBrowser {
  private context: BrowserContext | undefined;
  readonly opened: string[] = [];
  /** Who types their password next; null leaves the login page alone (to cancel, or time out). */
  user: { username: string; password: string } | null = null;
  /** The page of the last URL opened. */
  page: Page | undefined;
  /** Why the last sign-in in this browser stopped short, for a failing test's message. */
  lastError: string | undefined;

  constructor(private readonly browser: Browser) {}

  readonly openExternal = async (url: string): Promise<void> => {
    this.opened.push(url);
    this.context ??= await this.browser.newContext();
    const page = await this.context.newPage();
    this.page = page;
    // Like shell.openExternal, this returns once the browser has the URL; the login happens after.
    void (async () => {
      await page.goto(url);
      if (!this.user) return;
      await page.locator('#username').fill(this.user.username);
      await page.locator('#password').fill(this.user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/127\.0\.0\.1:\d+\/(logout-)?callback/);
    })().catch((err: unknown) => {
      this.lastError = `${(err as Error).message.split('\n')[0]} (at ${page.isClosed() ? 'a closed page' : page.url()})`;
    });
  };

  async close(): Promise<void> {
    await this.context?.close();
  }
}
