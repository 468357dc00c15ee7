import type { NetworkCheckResult } from '../call/networkCheck.js';
import type { AppError, AppState, SliceCreator } from './types.js';

/**
 * "Check my network": the run on show and the last finished one. The check itself runs outside React
 * (call/networkCheckController.ts) and writes here through the `networkCheck*` setters.
 */

export type NetworkCheckStatus =
  | 'idle'
  | 'preparing' // asking main for fresh ICE servers
  | 'running'
  | 'done'
  | 'failed'; // could not start (not signed in, rate-limited, server unreachable): `error` says why

export interface NetworkCheckState {
  status: NetworkCheckStatus;
  /** The run on show: in progress, or the last one. */
  current: NetworkCheckResult | null;
  /** The last finished run, kept for the diagnostics export (it never holds the public address). */
  latest: NetworkCheckResult | null;
  /** The user's public address from the last run, shown only on request and never exported. */
  publicAddress: string | null;
  error: AppError | null;
}

export interface NetworkCheckActions {
  networkCheckPreparing(): void;
  networkCheckProgress(result: NetworkCheckResult): void;
  networkCheckFinished(result: NetworkCheckResult, publicAddress: string | null): void;
  /** A run that was stopped (the user left the screen): the last finished run is on show again. */
  networkCheckStopped(): void;
  networkCheckFailed(error: AppError): void;
}

export interface NetworkCheckSlice extends NetworkCheckActions {
  networkCheck: NetworkCheckState;
}

export const initialNetworkCheckState: NetworkCheckState = {
  status: 'idle',
  current: null,
  latest: null,
  publicAddress: null,
  error: null,
};

export const createNetworkCheckSlice = (): SliceCreator<NetworkCheckSlice> => (set, get) => {
  const patch = (changes: Partial<NetworkCheckState>) => set((s) => ({ networkCheck: { ...s.networkCheck, ...changes } }));
  return {
    networkCheck: initialNetworkCheckState,
    networkCheckPreparing: () => patch({ status: 'preparing', error: null }),
    networkCheckProgress: (result) => patch({ status: 'running', current: result }),
    networkCheckFinished: (result, publicAddress) => patch({ status: 'done', current: result, latest: result, publicAddress, error: null }),
    networkCheckStopped: () => {
      const { latest } = get().networkCheck;
      patch({ status: latest ? 'done' : 'idle', current: latest });
    },
    networkCheckFailed: (error) => patch({ status: 'failed', error }),
  };
};

export const selectNetworkCheck = (s: AppState) => s.networkCheck;
export const selectNetworkCheckRunning = (s: AppState) => s.networkCheck.status === 'preparing' || s.networkCheck.status === 'running';
/** The last finished check, for diagnostics. */
