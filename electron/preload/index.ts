import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CHANNELS } from '../../shared/ipc/channels.js';

// One function per call, written out: the renderer never gets a generic invoke or raw ipcRenderer.
// Arguments pass through as given: main validates every one of them (the page is not trusted), so
// the preload needs neither zod nor the contract's types. A type test holds this object to DesktopApi.
function subscribe<T>(channel: string, callback: (value: T) => void): () => void {
  const listener = (_event: IpcRendererEvent, value: T) => callback(value);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const api = {
  appInfo: () => ipcRenderer.invoke(IPC_CHANNELS.appInfo),
  getState: () => ipcRenderer.invoke(IPC_CHANNELS.getState),
  setServer: (url: string, forRoom?: string) => ipcRenderer.invoke(IPC_CHANNELS.setServer, url, forRoom),
  forgetServer: (origin: string) => ipcRenderer.invoke(IPC_CHANNELS.forgetServer, origin),
  signIn: () => ipcRenderer.invoke(IPC_CHANNELS.signIn),
  cancelSignIn: () => ipcRenderer.invoke(IPC_CHANNELS.cancelSignIn),
  signOut: () => ipcRenderer.invoke(IPC_CHANNELS.signOut),
  resolveLink: (text: string) => ipcRenderer.invoke(IPC_CHANNELS.resolveLink, text),
  joinRoom: (roomId: string) => ipcRenderer.invoke(IPC_CHANNELS.joinRoom, roomId),
  networkCheckConfig: () => ipcRenderer.invoke(IPC_CHANNELS.networkCheckConfig),
  takeJoinLinks: () => ipcRenderer.invoke(IPC_CHANNELS.takeJoinLinks),
  setNetworkPolicy: (policy: string) => ipcRenderer.invoke(IPC_CHANNELS.setNetworkPolicy, policy),
  setPreferences: (patch: unknown) => ipcRenderer.invoke(IPC_CHANNELS.setPreferences, patch),
  rememberNetwork: (restrictive: boolean) => ipcRenderer.invoke(IPC_CHANNELS.rememberNetwork, restrictive),
  forgetNetworks: () => ipcRenderer.invoke(IPC_CHANNELS.forgetNetworks),
  chooseScreenSource: (id: string | null) => ipcRenderer.invoke(IPC_CHANNELS.chooseScreenSource, id),
  saveDiagnostics: (document: unknown, options: unknown) => ipcRenderer.invoke(IPC_CHANNELS.saveDiagnostics, document, options),
  networkPrivacy: () => ipcRenderer.invoke(IPC_CHANNELS.networkPrivacy),
  setIpHandlingPolicy: (policy: string) => ipcRenderer.invoke(IPC_CHANNELS.setIpHandlingPolicy, policy),
  updateStatus: () => ipcRenderer.invoke(IPC_CHANNELS.updateStatus),
  checkForUpdates: () => ipcRenderer.invoke(IPC_CHANNELS.checkForUpdates),
  restartToUpdate: () => ipcRenderer.invoke(IPC_CHANNELS.restartToUpdate),
  setInCall: (inCall: boolean) => ipcRenderer.invoke(IPC_CHANNELS.setInCall, inCall),
  reportError: (report: unknown) => ipcRenderer.invoke(IPC_CHANNELS.reportError, report),
  onUpdateStatus: <T>(callback: (status: T) => void) => subscribe(IPC_CHANNELS.onUpdateStatus, callback),
  onStateChanged: <T>(callback: (state: T) => void) => subscribe(IPC_CHANNELS.onStateChanged, callback),
  onJoinLink: <T>(callback: (event: T) => void) => subscribe(IPC_CHANNELS.onJoinLink, callback),
  onScreenShareRequest: <T>(callback: (sources: T) => void) => subscribe(IPC_CHANNELS.onScreenShareRequest, callback),
};

/** What `window.desktop` is in the Electron renderer; test/unit/layers.test.ts checks it against DesktopApi. */
export type PreloadApi = typeof api;

contextBridge.exposeInMainWorld('desktop', api);
