import { ScreenLayout } from '../components/ScreenLayout.js';
import {
  selectAwaitingSignIn,
  selectServerOrigin,
  selectSigningIn,
  selectTokenStorage,
  selectTokenStorageNote,
  useAppStore,
} from '../store/index.js';

/** A server is set, nobody is signed in. */
export function SignedOutScreen() {
  const server = useAppStore(selectServerOrigin);
  const signingIn = useAppStore(selectSigningIn);
  const tokenStorage = useAppStore(selectTokenStorage);
  const tokenStorageNote = useAppStore(selectTokenStorageNote);
  const awaiting = useAppStore(selectAwaitingSignIn);
  const signIn = useAppStore((s) => s.signIn);
  const cancelSignIn = useAppStore((s) => s.cancelSignIn);
  const navigate = useAppStore((s) => s.navigate);

  return (
    <ScreenLayout
      title="Sign in to continue"
      actions={
        <button type="button" onClick={() => navigate('settings')}>
          Settings
        </button>
      }
    >
      <section className="card">
        <p>
          Server: <span className="mono">{server}</span>
        </p>
        {awaiting != null && (
          <p className="notice notice-info">
            Sign in to join room <span className="mono">{awaiting.roomId}</span>.
          </p>
        )}
        {signingIn ? (
          <div className="actions">
            <p role="status" className="status">
              Continue in your browser…
            </p>
            <button type="button" onClick={() => void cancelSignIn()}>
              Cancel
            </button>
          </div>
        ) : (
          <div className="actions">
            <button type="button" onClick={() => navigate('connect')}>
              Change server
            </button>
            <button type="button" className="primary" onClick={() => void signIn()}>
              Sign in
            </button>
          </div>
        )}
        <p className="hint">Signing in opens your organisation’s sign-in page in your web browser.</p>
      </section>
      {tokenStorage === 'memory' && (
        <div className="notice notice-info" role="note">
          <p>{tokenStorageNote ?? 'No system keystore is available: you will have to sign in again after quitting ZeroRange.'}</p>
        </div>
      )}
    </ScreenLayout>
  );
}
