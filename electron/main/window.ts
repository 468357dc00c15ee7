import type { BrowserWindow, BrowserWindowConstructorOptions, WebContents } from 'electron';
import { APP_ENTRY_URL, externalUrlAllowed, isAppOrigin } from './security.js';

export function mainWindowOptions(preloadPath: string, devTools: boolean): BrowserWindowConstructorOptions {
  return {
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 480,
    title: 'ZeroRange',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      devTools,
    },
  };
}

type ContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;
const hardened = new WeakSet<object>();

/**
 * The page may navigate only within the app; new windows are never created (allowed https/mailto links
 * go to the system browser instead); <webview> is never attached. Applied to every webContents.
 */
export function hardenWebContents(contents: ContentsLike, openExternal: (url: string) => Promise<void>): void {
  if (hardened.has(contents)) return;
  hardened.add(contents);
  const stayInApp = (event: { url: string; preventDefault(): void }): void => {
    if (!isAppOrigin(event.url)) event.preventDefault();
  };
  contents.on('will-navigate', stayInApp);
  contents.on('will-frame-navigate', stayInApp);
  contents.on('will-redirect', stayInApp);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (externalUrlAllowed(url)) {
      openExternal(url).catch((error: unknown) => console.warn('could not open a link externally:', error));
    }
    return { action: 'deny' };
  });
}

export interface MainWindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  /** The esbuild CJS bundle: a sandboxed preload cannot load ESM or unbundled imports. */
  preloadPath: string;
  openExternal: (url: string) => Promise<void>;
  devTools: boolean;
  /** Told when a document commits in the window and when it goes away (the join-link inbox). */
  page?: { pageCommitted(): void; pageLeaving(): void };
  url?: string;
}

export function createMainWindow(deps: MainWindowDeps): BrowserWindow {
  const win = new deps.BrowserWindow(mainWindowOptions(deps.preloadPath, deps.devTools));
  hardenWebContents(win.webContents, deps.openExternal);
  win.once('ready-to-show', () => win.show());
  if (deps.page) {
    const page = deps.page;
    win.webContents.on('did-navigate', () => page.pageCommitted());
    win.webContents.on('render-process-gone', () => page.pageLeaving());
    win.on('closed', () => page.pageLeaving());
  }
  win.loadURL(deps.url ?? APP_ENTRY_URL).catch((error: unknown) => console.error('the app page did not load:', error));
  return win;
}
