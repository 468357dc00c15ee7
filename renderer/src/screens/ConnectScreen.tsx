import { useState, type FormEvent } from 'react';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { selectBusy, selectServerOrigin, useAppStore } from '../store/index.js';

/** No server yet (or the user chose to change it): ask for its address. */
export function ConnectScreen() {
  const [address, setAddress] = useState('');
  const busy = useAppStore(selectBusy).connecting;
  const current = useAppStore(selectServerOrigin);
  const setServer = useAppStore((s) => s.setServer);
  const navigate = useAppStore((s) => s.navigate);

  function submit(event: FormEvent) {
    event.preventDefault();
    void setServer(address);
  }

  return (
    <ScreenLayout
      title="Connect to a server"
      focusHeading={false}
      actions={
        <button type="button" onClick={() => navigate('settings')}>
          Settings
        </button>
      }
    >
      <form className="card" onSubmit={submit}>
        <div className="field">
          <label htmlFor="server-address">Server address</label>
          <input
            id="server-address"
            type="text"
            inputMode="url"
            autoComplete="url"
            autoCapitalize="off"
            spellCheck={false}
            // The one thing to do on this screen is type here.
            autoFocus
            value={address}
            onChange={(e) => setAddress(e.target.value)}
            aria-describedby="server-address-hint"
          />
          <p id="server-address-hint" className="hint">
            The address your organisation gave you, for example https://calls.example.org.
          </p>
        </div>
        <div className="actions">
          {current != null && (
            <button type="button" onClick={() => navigate('main')}>
              Back
            </button>
          )}
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            Connect
          </button>
        </div>
        {busy && (
          <p className="hint" role="status">
            Connecting…
          </p>
        )}
      </form>
    </ScreenLayout>
  );
}
