import { z } from 'zod';

/** Versions the desktop shell reports (diagnostics, about box). */
export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  electron: z.string().nullable(),
  chrome: z.string().nullable(),
  platform: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

/**
 * The whole IPC contract between the renderer and the main process. The preload exposes one
 * function per method as `window.desktop`; main validates the sender and arguments of each call.
 */
export interface DesktopApi {
  appInfo(): Promise<AppInfo>;
}

/** IPC channel per method, so preload and main cannot disagree on names. */
export const IPC_CHANNELS = {
  appInfo: 'zerorange:app-info',
} as const satisfies Record<keyof DesktopApi, string>;
