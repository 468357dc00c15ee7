import electronUpdater from 'electron-updater';
import type { UpdaterPort } from './UpdateService.js';

/**
 * The Electron edge of updates: electron-updater's updater for this platform (NSIS on Windows,
 * Squirrel.Mac, AppImage, deb or rpm on Linux), which downloads through Electron's net module (system
 * proxies apply). The generic provider's feed is the one packed into the app (`app-update.yml`, from
 * electron-builder's `publish`) unless `feedUrl` replaces it. Needs Electron: not loaded in Node tests.
 */
export function platformUpdater(opts: { feedUrl: string | null; logger: { info(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void } }): UpdaterPort {
  const { autoUpdater } = electronUpdater;
  autoUpdater.logger = opts.logger;
  if (opts.feedUrl) autoUpdater.setFeedURL({ provider: 'generic', url: opts.feedUrl });
  return autoUpdater;
}
