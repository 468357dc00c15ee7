import { existsSync } from 'node:fs';
import { join } from 'node:path';
import electronUpdater from 'electron-updater';
import type { UpdaterPort } from './UpdateService.js';

export interface PlatformUpdaterOptions {
  /** The generic feed an administrator set; null: the one packed into the app. */
  feedUrl: string | null;
  /** process.resourcesPath, where electron-builder packs `app-update.yml` (from its `publish` setting). */
  resourcesPath: string;
  logger: { info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
}

/**
 * The Electron edge of updates: electron-updater's updater for this platform (NSIS on Windows,
 * Squirrel.Mac, AppImage, deb or rpm on Linux), which downloads through Electron's net module (system
 * proxies apply). Null when there is no feed at all (built without `publish` and none set), so the
 * app says it does not update itself instead of failing every day. Needs Electron: not loaded in Node tests.
 */
export function platformUpdater(opts: PlatformUpdaterOptions): UpdaterPort | null {
  if (!opts.feedUrl && !existsSync(join(opts.resourcesPath, 'app-update.yml'))) return null;
  const { autoUpdater } = electronUpdater;
  autoUpdater.logger = opts.logger;
  if (opts.feedUrl) autoUpdater.setFeedURL({ provider: 'generic', url: opts.feedUrl });
  return autoUpdater;
}
