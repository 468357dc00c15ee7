import { app, BrowserWindow, ipcMain } from 'electron';
import { fileURLToPath } from 'node:url';
import { IPC_CHANNELS, type AppInfo } from '../../shared/ipc/desktopApi.js';

const here = fileURLToPath(new URL('.', import.meta.url));

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    show: false,
    webPreferences: {
      preload: `${here}../preload/index.cjs`,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadFile(`${here}../../renderer/index.html`);
  return win;
}

ipcMain.handle(IPC_CHANNELS.appInfo, (): AppInfo => ({
  name: app.getName(),
  version: app.getVersion(),
  electron: process.versions.electron ?? null,
  chrome: process.versions.chrome ?? null,
  platform: process.platform,
}));

void app.whenReady().then(() => {
  createWindow();
});
app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
