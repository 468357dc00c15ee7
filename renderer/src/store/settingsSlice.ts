import type { ManagedSettings, NetworkPolicy, Preferences, PreferencesPatch } from '../../../shared/ipc/desktopApi.js';
import { withLead } from './errors.js';
import type { AppState, SliceCreator, StoreDeps } from './types.js';

/**
 * Settings the user keeps between runs (main holds them; they arrive with its state): devices, how
 * calls start, the default network policy, what was learned about networks. This slice changes them
 * and says what the organisation fixed.
 */

export interface SettingsState {
  /** A change is on its way to main. */
  saving: boolean;
}

export interface SettingsActions {
  /** Each resolves to whether main took the change; a refusal becomes an error notice. */
  savePreferences(patch: PreferencesPatch): Promise<boolean>;
  setDefaultNetworkPolicy(policy: NetworkPolicy): Promise<boolean>;
  /** Forgets what the app learned about networks (this one blocking UDP, and every other). */
  forgetNetworks(): Promise<boolean>;
}

export interface SettingsSlice extends SettingsActions {
  settings: SettingsState;
}

export const initialSettingsState: SettingsState = { saving: false };

export const NO_PREFERENCES: Preferences = Object.freeze({
  devices: Object.freeze({ audioinput: null, videoinput: null, audiooutput: null }),
  startMuted: false,
  startCameraOff: false,
});
export const NOTHING_MANAGED: ManagedSettings = Object.freeze({ server: false, networkPolicy: false, webrtcIpHandling: false });

export function createSettingsSlice({ desktop }: StoreDeps): SliceCreator<SettingsSlice> {
  return (set, get) => {
    const setSaving = (saving: boolean) => set((s) => ({ settings: { ...s.settings, saving } }));

    async function change(lead: string, call: () => ReturnType<typeof desktop.getState>): Promise<boolean> {
      setSaving(true);
      try {
        get().applyState(await call());
        return true;
      } catch (err) {
        get().notify('error', withLead(lead, err).message);
        return false;
      } finally {
        setSaving(false);
      }
    }

    return {
      settings: initialSettingsState,
      savePreferences: (patch) => change('The setting was not saved', () => desktop.setPreferences(patch)),
      setDefaultNetworkPolicy: (policy) => change('The network setting was not changed', () => desktop.setNetworkPolicy(policy)),
      forgetNetworks: () => change('Networks were not forgotten', () => desktop.forgetNetworks()),
    };
  };
}

export const selectPreferences = (s: AppState): Preferences => s.session.desktop?.preferences ?? NO_PREFERENCES;
export const selectManaged = (s: AppState): ManagedSettings => s.session.desktop?.managed ?? NOTHING_MANAGED;
export const selectDefaultNetworkPolicy = (s: AppState): NetworkPolicy => s.session.desktop?.networkPolicy ?? 'auto';
export const selectRestrictiveNetwork = (s: AppState): boolean => s.session.desktop?.restrictiveNetwork === true;
export const selectSettingsSaving = (s: AppState): boolean => s.settings.saving;
