import {
  DESKTOP_ARGS,
  DESKTOP_CALLS,
  IPC_CHANNELS,
  type DesktopApi,
  type DesktopCall,
  type DesktopErrorCode,
  type DesktopState,
  type JoinLinkEvent,
  type Result,
  type ScreenSource,
} from '../../shared/ipc/desktopApi.js';
import type { UpdateStatus } from '../../shared/ipc/shellServices.js';
import { validateSender, type FrameLike } from './security.js';

/**
 * What IPC needs of the desktop service: its calls (same signatures as DesktopApi) and its events.
 * A join-link listener answers false when the page could not be sent the link, which main then holds.
 */
export type IpcService = Pick<DesktopApi, DesktopCall> & {
  subscribe(event: 'state', callback: (state: DesktopState) => void): () => void;
  subscribe(event: 'join-link', callback: (event: JoinLinkEvent) => boolean): () => void;
  subscribe(event: 'screen-share', callback: (sources: ScreenSource[]) => void): () => void;
  subscribe(event: 'update', callback: (status: UpdateStatus) => void): () => void;
};

// Structural slices of Electron's ipcMain, event and webContents, so tests can pass plain objects.
export interface IpcEventLike {
  readonly senderFrame: FrameLike | null;
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}
export interface RendererLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

export interface IpcDeps {
  /** The main window's webContents, when there is one. */
  mainContents: () => RendererLike | null;
  onError?: (call: DesktopCall, error: unknown) => void;
}

export interface IpcRegistration {
  dispose(): void;
}

function failure(code: DesktopErrorCode, message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

export function registerIpc(ipcMain: IpcMainLike, service: IpcService, deps: IpcDeps): IpcRegistration {
  const onError = deps.onError ?? ((call, error) => console.error(`desktop call ${call} failed:`, error));
  const send = (channel: string, payload: unknown): boolean => {
    const contents = deps.mainContents();
    if (!contents || contents.isDestroyed()) return false;
    contents.send(channel, payload);
    return true;
  };

  // Links wait in the service's inbox until the page takes them; the page gets one once it has.
  const unsubscribeLinks = service.subscribe('join-link', (link) => send(IPC_CHANNELS.onJoinLink, link));
  // State is a snapshot the page re-reads with getState, so it is simply forwarded.
  const unsubscribeState = service.subscribe('state', (state) => send(IPC_CHANNELS.onStateChanged, state));
  const unsubscribeScreen = service.subscribe('screen-share', (sources) => send(IPC_CHANNELS.onScreenShareRequest, sources));
  const unsubscribeUpdate = service.subscribe('update', (status) => send(IPC_CHANNELS.onUpdateStatus, status));

  for (const call of DESKTOP_CALLS) {
    ipcMain.handle(IPC_CHANNELS[call], async (event, ...args): Promise<Result<unknown>> => {
      if (!validateSender(event.senderFrame)) return failure('forbidden', 'calls are accepted only from the ZeroRange window');
      const parsed = DESKTOP_ARGS[call].safeParse(args);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? `argument ${String(issue.path[0])}` : 'arguments';
        return failure('invalid-argument', `${call}: ${where}: ${issue?.message ?? 'invalid'}`);
      }
      try {
        const method = service[call] as (...callArgs: unknown[]) => Promise<Result<unknown>>;
        return await method.apply(service, parsed.data);
      } catch (error) {
        // The renderer gets a code, not a stack trace.
        onError(call, error);
        return failure('internal', 'the desktop shell failed unexpectedly');
      }
    });
  }

  return {
    dispose() {
      unsubscribeLinks();
      unsubscribeState();
      unsubscribeScreen();
      unsubscribeUpdate();
      for (const call of DESKTOP_CALLS) ipcMain.removeHandler(IPC_CHANNELS[call]);
    },
  };
}
