import { NetworkPrivacySetting } from '../components/NetworkPrivacySetting.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { SetByOrganisation } from '../components/settings/SetByOrganisation.js';
import { UpdateSettings } from '../components/UpdateSettings.js';
import {
  selectAppInfo,
  selectBusy,
  selectKnownServers,
  selectManaged,
  selectServerOrigin,
  selectTokenStorage,
  selectTokenStorageNote,
  useAppStore,
} from '../store/index.js';
import { SettingsCalls } from './SettingsCalls.js';
import { SettingsNetwork } from './SettingsNetwork.js';

export function SettingsScreen() {
  const server = useAppStore(selectServerOrigin);
  const known = useAppStore(selectKnownServers);
  const tokenStorage = useAppStore(selectTokenStorage);
  const tokenStorageNote = useAppStore(selectTokenStorageNote);
  const appInfo = useAppStore(selectAppInfo);
  const forgetting = useAppStore(selectBusy).forgetting;
  const serverLocked = useAppStore(selectManaged).server;
  const forgetServer = useAppStore((s) => s.forgetServer);
  const navigate = useAppStore((s) => s.navigate);

  return (
    <ScreenLayout
      title="Settings"
      actions={
        <button type="button" onClick={() => navigate('main')}>
          Back
        </button>
      }
    >
      <section className="card" aria-labelledby="settings-server">
        <h2 id="settings-server">Server</h2>
        <p>{server != null ? <span className="mono">{server}</span> : 'Not connected to a server.'}</p>
        {serverLocked && <SetByOrganisation />}
      </section>

      <section className="card" aria-labelledby="settings-known">
        <h2 id="settings-known">Known servers</h2>
        {known.length === 0 ? (
          <p className="hint">None yet.</p>
        ) : (
          <>
            <p className="hint">Links to these servers open without asking. Forgetting the current server signs you out of it.</p>
            <ul className="list">
              {known.map((origin, i) => (
                <li key={origin}>
                  <span className="mono" id={`known-server-${i}`}>
                    {origin}
                  </span>
                  {origin === server && <span className="muted"> (current)</span>}
                  <button
                    type="button"
                    aria-describedby={`known-server-${i}`}
                    disabled={forgetting || (serverLocked && origin === server)}
                    onClick={() => void forgetServer(origin)}
                  >
                    Forget
                  </button>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <SettingsCalls />

      <SettingsNetwork />

      <NetworkPrivacySetting />

      <UpdateSettings />

      <section className="card" aria-labelledby="settings-storage">
        <h2 id="settings-storage">Sign-in storage</h2>
        {tokenStorage === 'keystore' && (
          <p>Your sign-in is kept encrypted by your system’s keystore, so you stay signed in when ZeroRange restarts.</p>
        )}
        {tokenStorage === 'memory' && (
          <>
            <p>Your sign-in is kept in memory only: you will have to sign in again each time ZeroRange starts.</p>
            {tokenStorageNote != null && <p className="hint">{tokenStorageNote}</p>}
          </>
        )}
      </section>

      <section className="card" aria-labelledby="settings-about">
        <h2 id="settings-about">About</h2>
        {appInfo == null ? (
          <p className="hint">Version unknown.</p>
        ) : (
          <>
            <p>
              {appInfo.name} {appInfo.version}
            </p>
            <p className="hint">
              {[
                appInfo.electron != null && `Electron ${appInfo.electron}`,
                appInfo.chrome != null && `Chromium ${appInfo.chrome}`,
                `${appInfo.platform} ${appInfo.arch}`,
                appInfo.packaged ? null : 'development build',
              ]
                .filter(Boolean)
                .join(' · ')}
            </p>
          </>
        )}
      </section>
    </ScreenLayout>
  );
}
