import type { BrowserWindow, BrowserWindowConstructorOptions, Rectangle, WebContents } from 'electron';
import { APP_ENTRY_URL, externalUrlAllowed, isAppOrigin } from './security.js';
import type { WindowState } from './settingsFile.js';

const DEFAULT_SIZE = { width: 1100, height: 760 };
const MIN_SIZE = { width: 640, height: 480 };
/** How much of a restored window must lie on one display: enough of its top to grab and move it. */
const MIN_VISIBLE = { width: 160, height: 48 };

function overlap(a: Rectangle, b: Rectangle): Rectangle {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  return { x, y, width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - x), height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - y) };
}

/**
 * Where the main window opens: where it was last, if that is still on a display (the top strip of the
 * window, where the title bar is, visible enough to grab), shrunk to fit that display; otherwise the
 * default size, centred by the OS. A monitor unplugged since then never leaves the window off-screen.
 */
export function restoredBounds(saved: WindowState | null, workAreas: readonly Rectangle[]): Partial<Rectangle> & { maximized: boolean } {
  if (!saved) return { ...DEFAULT_SIZE, maximized: false };
  const titleStrip = { x: saved.x, y: saved.y, width: saved.width, height: Math.min(saved.height, MIN_VISIBLE.height) };
  const home = workAreas.find((area) => {
    const seen = overlap(titleStrip, area);
    return seen.width >= Math.min(MIN_VISIBLE.width, saved.width) && seen.height >= Math.min(MIN_VISIBLE.height, saved.height);
  });
  if (!home) return { ...DEFAULT_SIZE, maximized: saved.maximized };
  const width = Math.max(MIN_SIZE.width, Math.min(saved.width, home.width));
  const height = Math.max(MIN_SIZE.height, Math.min(saved.height, home.height));
  // Pulled inside the display when it hangs over an edge: the title bar must be reachable.
  const x = Math.min(Math.max(saved.x, home.x), home.x + home.width - Math.min(width, home.width));
  const y = Math.min(Math.max(saved.y, home.y), home.y + home.height - Math.min(height, home.height));
  return { x, y, width, height, maximized: saved.maximized };
}

type TrackedWindow = Pick<BrowserWindow, 'on' | 'getNormalBounds' | 'isMaximized' | 'isDestroyed'>;

/** Saves the window's place when it settles after a move or resize (debounced) and when it closes. */
export function trackWindowState(win: TrackedWindow, save: (state: WindowState) => void, debounceMs = 500): void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const saveNow = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (win.isDestroyed()) return;
    const b = win.getNormalBounds();
    save({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height), maximized: win.isMaximized() });
  };
  const later = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(saveNow, debounceMs);
  };
  for (const event of ['resize', 'move', 'maximize', 'unmaximize'] as const) win.on(event as 'resize', later);
  win.on('close', saveNow);
}

export function mainWindowOptions(preloadPath: string, devTools: boolean, bounds: Partial<Rectangle> = DEFAULT_SIZE): BrowserWindowConstructorOptions {
  return {
    ...DEFAULT_SIZE,
    ...bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
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
  /** Where the window was last (kept in the settings file), and the displays' work areas now. */
  place?: { saved: WindowState | null; workAreas: readonly Rectangle[]; save(state: WindowState): void };
}

export function createMainWindow(deps: MainWindowDeps): BrowserWindow {
  const { maximized, ...bounds } = restoredBounds(deps.place?.saved ?? null, deps.place?.workAreas ?? []);
  const win = new deps.BrowserWindow(mainWindowOptions(deps.preloadPath, deps.devTools, bounds));
  hardenWebContents(win.webContents, deps.openExternal);
  if (deps.place) trackWindowState(win, deps.place.save);
  win.once('ready-to-show', () => {
    if (maximized) win.maximize();
    win.show();
  });
  if (deps.page) {
    const page = deps.page;
    win.webContents.on('did-navigate', () => page.pageCommitted());
    win.webContents.on('render-process-gone', () => page.pageLeaving());
    win.on('closed', () => page.pageLeaving());
  }
  win.loadURL(deps.url ?? APP_ENTRY_URL).catch((error: unknown) => console.error('the app page did not load:', error));
  return win;
}
