import { homedir, networkInterfaces, release as osRelease, type as osType } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  app, BrowserWindow, crashReporter, desktopCapturer, dialog, ipcMain, net, protocol, safeStorage, screen, session, shell, webContents, type SaveDialogOptions,
} from 'electron';
import electronLog from 'electron-log/main';
import { createConnectPolicy, registerAppScheme, serveApp } from './appProtocol.js';
import { startCrashReports } from './crashReports.js';
import { createDesktopService } from './desktopService.js';
import { registerIpc } from './ipc.js';
import type { IncomingLink } from './JoinLinkHandover.js';
import { JoinLinkInbox } from './JoinLinkInbox.js';
import { configureMainLog } from './mainLog.js';
import { loadManagedConfig, managedConfigPath } from './managedConfig.js';
import { findJoinLinkInArgv, protocolClientArgs } from './protocolLinks.js';
import { applySessionPolicy, devCertificateSwitches, guardedOpenExternal, isAppOrigin } from './security.js';
import { shellSettingsFromEnv } from './shellSettings.js';
import { platformUpdater } from './updates/platformUpdater.js';
import { UpdateService } from './updates/UpdateService.js';
import { createMainWindow, hardenWebContents } from './window.js';

// Wiring only: the policy lives in the modules above, which are tested in Node.

// These take effect only before `ready`.
registerAppScheme(protocol);
const devSwitch = devCertificateSwitches(process.env, app.isPackaged);
if (devSwitch) app.commandLine.appendSwitch(...devSwitch);

const allowInsecureLoopback = !app.isPackaged;
// The organisation's settings, read once.
const managed = loadManagedConfig({ file: managedConfigPath(process.platform, process.env), rules: { allowInsecureLoopback }, warn: (m) => console.warn(m) });
const { settings: shellSettings, problems: settingProblems } = shellSettingsFromEnv(process.env, managed);
// As early as possible, so a crash during start-up leaves a dump too.
const crashReports = startCrashReports(crashReporter, shellSettings.crashReports, {
  dumpsDir: app.getPath('crashDumps'),
  homeDir: homedir(),
  productName: 'ZeroRange',
  allowInsecureLoopback,
});
const openLink = guardedOpenExternal((url) => shell.openExternal(url));
// Links from the OS wait here until the page takes them; macOS may hand one over before `ready`.
const links = new JoinLinkInbox<IncomingLink>();
let win: BrowserWindow | null = null;
let openWindow: (() => BrowserWindow) | null = null;
let ipPolicy: (() => Parameters<Electron.WebContents['setWebRTCIPHandlingPolicy']>[0]) | null = null;

function showWindow(): void {
  if (!openWindow) return; // not ready yet: start() opens it
  if (!win || win.isDestroyed()) win = openWindow();
  else {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
}

async function start(): Promise<void> {
  applySessionPolicy(session.defaultSession);
  const log = configureMainLog(electronLog, { dir: app.getPath('logs') });
  electronLog.errorHandler.startCatching({ showDialog: false });
  log.info(`ZeroRange ${app.getVersion()} starting (Electron ${process.versions.electron ?? '?'}, ${process.platform})`);
  for (const problem of settingProblems) log.warn(`settings: ${problem}`);
  if (crashReports.warning) log.warn(crashReports.warning);
  const service = createDesktopService({
    appInfo: () => ({
      name: app.getName(),
      version: app.getVersion(),
      electron: process.versions.electron ?? null,
      chrome: process.versions.chrome ?? null,
      node: process.versions.node ?? null,
      platform: process.platform,
      arch: process.arch,
      packaged: app.isPackaged,
      os: `${osType()} ${osRelease()}`,
    }),
    // The IdP's sign-in page; plain http only for the loopback IdP of an unpackaged build.
    openExternal: guardedOpenExternal((url) => shell.openExternal(url), { allowInsecureLoopback }),
    safeStorage,
    userDataDir: app.getPath('userData'),
    platform: process.platform,
    allowInsecureLoopback,
    // Chromium's network stack: system proxies, PAC files and the OS's certificate store apply.
    fetch: (input, init) => net.fetch(input instanceof URL ? input.href : input, init),
    networkInterfaces,
    log,
    crashReports,
    resolveProxy: (url) => session.defaultSession.resolveProxy(url),
    // New peer connections in every window follow the policy at once.
    applyIpPolicy: (policy) => {
      for (const contents of webContents.getAllWebContents()) contents.setWebRTCIPHandlingPolicy(policy);
    },
    ...(shellSettings.managedIpPolicy ? { managedIpPolicy: shellSettings.managedIpPolicy } : {}),
    createUpdates: (inCall) =>
      new UpdateService({
        // An unpackaged build has nothing to replace; electron-updater would refuse anyway.
        updater: app.isPackaged && shellSettings.updates.enabled ? platformUpdater({ feedUrl: shellSettings.updates.feedUrl, resourcesPath: process.resourcesPath, logger: electronLog }) : null,
        enabled: shellSettings.updates.enabled,
        channel: shellSettings.updates.channel,
        inCall,
        log,
      }),
    // Diagnostics: the user picks the file; the renderer never names a path.
    saveDialog: async ({ defaultPath, filters }) => {
      const options: SaveDialogOptions = { title: 'Save diagnostics', defaultPath, filters, properties: ['createDirectory', 'showOverwriteConfirmation'] };
      const parent = win && !win.isDestroyed() ? win : null;
      const result = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? null : result.filePath;
    },
    links,
    managed,
    downloadsDir: (() => {
      try {
        return app.getPath('downloads');
      } catch {
        return undefined; // no Downloads folder known: the dialog starts where the OS likes
      }
    })(),
  });
  ipPolicy = () => service.shell.ipHandlingPolicy;
  // Screen sharing: the user picks a screen or window in the app; nothing is shared without that choice.
  session.defaultSession.setDisplayMediaRequestHandler((request, callback) => {
    void (async () => {
      if (!isAppOrigin(request.securityOrigin) || !request.videoRequested) return callback(null);
      const sources = await desktopCapturer.getSources({ types: ['screen', 'window'], thumbnailSize: { width: 320, height: 180 } });
      const chosen = await service.requestScreenSource(
        sources.map((s) => ({
          id: s.id,
          name: s.name,
          kind: s.id.startsWith('screen:') ? ('screen' as const) : ('window' as const),
          thumbnail: s.thumbnail.isEmpty() ? null : s.thumbnail.toDataURL(),
        })),
      );
      callback(chosen ? { video: { id: chosen.id, name: chosen.name } } : null);
    })().catch(() => callback(null));
  });
  // `npm start` points an unpackaged app at the development stack when no server is chosen yet.
  const devServer = app.isPackaged ? undefined : process.env.ZR_DEV_SERVER_URL;
  if (devServer) {
    const current = await service.getState();
    if (current.ok && !current.value.server) await service.setServer(devServer);
  }
  const policy = createConnectPolicy();
  serveApp(protocol, { root: path.join(app.getAppPath(), 'build', 'renderer'), csp: policy.csp });
  const ipc = registerIpc(ipcMain, service, {
    mainContents: () => win?.webContents ?? null,
    onError: (call, error) => log.error(`desktop call ${call} failed:`, error),
  });
  // The CSP is fixed per document: when the server (and so connect-src) changes, the page reloads.
  service.subscribe('state', (state) => {
    if (policy.update(state) && win && !win.isDestroyed()) {
      service.pageLeaving();
      win.webContents.reload();
    }
  });
  // The first page should load with the last server's policy; the service reconnects in the background.
  await Promise.race([service.getState().then((s) => s.ok && policy.update(s.value)), delay(2000)]);

  openWindow = () => {
    const created = createMainWindow({
      BrowserWindow,
      preloadPath: path.join(app.getAppPath(), 'build', 'electron', 'preload', 'index.cjs'),
      openExternal: openLink,
      devTools: !app.isPackaged,
      page: service,
      place: { saved: service.windowState(), workAreas: screen.getAllDisplays().map((d) => d.workArea), save: (state) => service.saveWindowState(state) },
    });
    created.on('closed', () => {
      if (win === created) win = null;
    });
    return created;
  };
  app.on('activate', showWindow);
  let disposed = false;
  app.on('will-quit', (event) => {
    if (disposed) return;
    disposed = true;
    event.preventDefault();
    ipc.dispose();
    void service.dispose().finally(() => app.quit());
  });
  showWindow();
  service.shell.startUpdates();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  // ZR_NO_PROTOCOL_CLIENT: tests of an unpackaged build must not take over the machine's zerorange: handler.
  if (app.isPackaged || !process.env.ZR_NO_PROTOCOL_CLIENT) {
    const appPath = process.argv[1] ? path.resolve(process.argv[1]) : undefined;
    const [scheme, execPath, args] = protocolClientArgs(process.defaultApp, process.execPath, appPath);
    if (execPath && args) app.setAsDefaultProtocolClient(scheme, execPath, args);
    else app.setAsDefaultProtocolClient(scheme);
  }
  // macOS hands links over with open-url, possibly before `ready`; Windows and Linux start a second instance.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    links.push({ raw: url });
    showWindow();
  });
  app.on('second-instance', (_event, argv) => {
    const link = findJoinLinkInArgv(argv);
    if (link) links.push({ raw: link });
    showWindow();
  });
  const coldStartLink = findJoinLinkInArgv(process.argv);
  if (coldStartLink) links.push({ raw: coldStartLink });
  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, openLink);
    if (ipPolicy) contents.setWebRTCIPHandlingPolicy(ipPolicy());
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.whenReady().then(start).catch((error: unknown) => {
    console.error('ZeroRange could not start:', error);
    app.exit(1);
  });
}
