import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CHANNELS, type DesktopApi } from '../../shared/ipc/desktopApi.js';

// One function per call, written out: the renderer never gets a generic invoke or raw ipcRenderer.
function subscribe<T>(channel: string, callback: (value: T) => void): () => void {
  const listener = (_event: IpcRendererEvent, value: T) => callback(value);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const api: DesktopApi = {
  appInfo: () => ipcRenderer.invoke(IPC_CHANNELS.appInfo),
  getState: () => ipcRenderer.invoke(IPC_CHANNELS.getState),
  setServer: (url) => ipcRenderer.invoke(IPC_CHANNELS.setServer, url),
  forgetServer: (origin) => ipcRenderer.invoke(IPC_CHANNELS.forgetServer, origin),
  signIn: () => ipcRenderer.invoke(IPC_CHANNELS.signIn),
  cancelSignIn: () => ipcRenderer.invoke(IPC_CHANNELS.cancelSignIn),
  signOut: () => ipcRenderer.invoke(IPC_CHANNELS.signOut),
  resolveLink: (text) => ipcRenderer.invoke(IPC_CHANNELS.resolveLink, text),
  joinRoom: (roomId) => ipcRenderer.invoke(IPC_CHANNELS.joinRoom, roomId),
  networkCheckConfig: () => ipcRenderer.invoke(IPC_CHANNELS.networkCheckConfig),
  takeJoinLinks: () => ipcRenderer.invoke(IPC_CHANNELS.takeJoinLinks),
  setNetworkPolicy: (policy) => ipcRenderer.invoke(IPC_CHANNELS.setNetworkPolicy, policy),
  rememberNetwork: (restrictive) => ipcRenderer.invoke(IPC_CHANNELS.rememberNetwork, restrictive),
  forgetNetworks: () => ipcRenderer.invoke(IPC_CHANNELS.forgetNetworks),
  chooseScreenSource: (id) => ipcRenderer.invoke(IPC_CHANNELS.chooseScreenSource, id),
  saveDiagnostics: (document, options) => ipcRenderer.invoke(IPC_CHANNELS.saveDiagnostics, document, options),
  onStateChanged: (callback) => subscribe(IPC_CHANNELS.onStateChanged, callback),
  onJoinLink: (callback) => subscribe(IPC_CHANNELS.onJoinLink, callback),
  onScreenShareRequest: (callback) => subscribe(IPC_CHANNELS.onScreenShareRequest, callback),
};

contextBridge.exposeInMainWorld('desktop', api);
