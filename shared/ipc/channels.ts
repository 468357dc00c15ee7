/**
 * IPC channel per call and event of the desktop contract (shared/ipc/desktopApi.ts), so preload, main
 * and the test bridge cannot disagree on names. Zod-free and import-free on purpose: the preload
 * bundles this file, and it must stay a few kilobytes.
 */
export const IPC_CHANNELS = {
  appInfo: 'zerorange:app-info',
  getState: 'zerorange:get-state',
  setServer: 'zerorange:set-server',
  forgetServer: 'zerorange:forget-server',
  signIn: 'zerorange:sign-in',
  cancelSignIn: 'zerorange:cancel-sign-in',
  signOut: 'zerorange:sign-out',
  resolveLink: 'zerorange:resolve-link',
  joinRoom: 'zerorange:join-room',
  networkCheckConfig: 'zerorange:network-check-config',
  takeJoinLinks: 'zerorange:take-join-links',
  setNetworkPolicy: 'zerorange:set-network-policy',
  setPreferences: 'zerorange:set-preferences',
  rememberNetwork: 'zerorange:remember-network',
  forgetNetworks: 'zerorange:forget-networks',
  chooseScreenSource: 'zerorange:choose-screen-source',
  saveDiagnostics: 'zerorange:save-diagnostics',
  networkPrivacy: 'zerorange:network-privacy',
  setIpHandlingPolicy: 'zerorange:set-ip-handling-policy',
  updateStatus: 'zerorange:update-status',
  restartToUpdate: 'zerorange:restart-to-update',
  checkForUpdates: 'zerorange:check-for-updates',
  setInCall: 'zerorange:set-in-call',
  reportError: 'zerorange:report-error',
  onUpdateStatus: 'zerorange:update-status-changed',
  onScreenShareRequest: 'zerorange:screen-share-request',
  onStateChanged: 'zerorange:state-changed',
  onJoinLink: 'zerorange:join-link',
} as const;

export type IpcMethod = keyof typeof IPC_CHANNELS;
