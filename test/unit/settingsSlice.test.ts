import { describe, expect, it } from 'vitest';
import type { DesktopApi, DesktopState, PreferencesPatch, Result } from '../../shared/ipc/desktopApi.js';
import {
  createAppStore,
  NO_PREFERENCES,
  NOTHING_MANAGED,
  selectAlertMessage,
  selectDefaultNetworkPolicy,
  selectManaged,
  selectPreferences,
  selectSettingsSaving,
} from '../../renderer/src/store/index.js';

const NO_DEVICES = { audioinput: null, videoinput: null, audiooutput: null };
const base: DesktopState = {
  ...{ server: null, user: null, signingIn: false, tokenStorage: 'keystore', tokenStorageNote: null, knownServers: [] },
  ...{ networkPolicy: 'auto', restrictiveNetwork: true },
  preferences: { devices: NO_DEVICES, startMuted: false, startCameraOff: false },
  managed: { server: false, networkPolicy: false, webrtcIpHandling: false },
};

/** Main as a plain object: the calls the settings slice makes, each answering with main's state. */
function setUp(state: DesktopState = base) {
  const main = { state, calls: [] as unknown[][], refuse: null as string | null };
  const answer = (call: unknown[], change: (s: DesktopState) => DesktopState): Promise<Result<DesktopState>> => {
    main.calls.push(call);
    if (main.refuse) return Promise.resolve({ ok: false, error: { code: 'forbidden', message: main.refuse } });
    main.state = change(main.state);
    return Promise.resolve({ ok: true, value: main.state });
  };
  const api = {
    setPreferences: (patch: PreferencesPatch) =>
      answer(['setPreferences', patch], (s) => ({ ...s, preferences: { ...s.preferences!, ...patch, devices: { ...s.preferences!.devices, ...patch.devices } } })),
    setNetworkPolicy: (policy: DesktopState['networkPolicy']) => answer(['setNetworkPolicy', policy], (s) => ({ ...s, networkPolicy: policy })),
    forgetNetworks: () => answer(['forgetNetworks'], (s) => ({ ...s, restrictiveNetwork: false })),
  } as Partial<DesktopApi> as DesktopApi;
  const store = createAppStore(api);
  store.setState((s) => ({ session: { ...s.session, startup: 'ready', desktop: state } }));
  return { store, main };
}

describe('settings slice', () => {
  it('reads sensible values from a main process that sends no preferences yet', () => {
    const { store } = setUp({ ...base, preferences: undefined, managed: undefined });
    expect(selectPreferences(store.getState())).toEqual(NO_PREFERENCES);
    expect(selectManaged(store.getState())).toEqual(NOTHING_MANAGED);
  });

  it('saves a preference through main and shows main’s answer', async () => {
    const { store, main } = setUp();
    const saving = store.getState().savePreferences({ startMuted: true, devices: { videoinput: { deviceId: 'cam-2', label: 'Desk camera' } } });
    expect(selectSettingsSaving(store.getState())).toBe(true);
    expect(await saving).toBe(true);
    expect(selectSettingsSaving(store.getState())).toBe(false);
    expect(main.calls).toEqual([['setPreferences', { startMuted: true, devices: { videoinput: { deviceId: 'cam-2', label: 'Desk camera' } } }]]);
    expect(selectPreferences(store.getState())).toMatchObject({ startMuted: true, devices: { videoinput: { deviceId: 'cam-2' }, audioinput: null } });
  });

  it('changes the default network policy and forgets networks', async () => {
    const { store } = setUp();
    expect(await store.getState().setDefaultNetworkPolicy('relay-tls')).toBe(true);
    expect(selectDefaultNetworkPolicy(store.getState())).toBe('relay-tls');
    expect(await store.getState().forgetNetworks()).toBe(true);
    expect(store.getState().session.desktop?.restrictiveNetwork).toBe(false);
  });

  it('a refusal (a setting the organisation fixed) becomes an error that says so, and nothing changes', async () => {
    const { store, main } = setUp();
    main.refuse = 'the network policy is set by your organisation';
    expect(await store.getState().setDefaultNetworkPolicy('auto')).toBe(false);
    expect(selectAlertMessage(store.getState())).toBe('The network setting was not changed: the network policy is set by your organisation');
    expect(selectDefaultNetworkPolicy(store.getState())).toBe('auto');
    expect(selectSettingsSaving(store.getState())).toBe(false);
  });
});
