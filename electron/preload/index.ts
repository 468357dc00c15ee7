import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, type DesktopApi } from '../../shared/ipc/desktopApi.js';

// One function per call: the renderer never gets a generic invoke.
const api: DesktopApi = {
  appInfo: () => ipcRenderer.invoke(IPC_CHANNELS.appInfo),
};

contextBridge.exposeInMainWorld('desktop', api);
