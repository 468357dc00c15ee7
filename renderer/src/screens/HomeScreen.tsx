import { useState, type FormEvent } from 'react';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { selectBusy, selectCreatedRoom, selectJoinBusy, selectUser, useAppStore } from '../store/index.js';

type CopyState = 'idle' | 'copied' | 'failed';

/** Signed in: join a room by link or ID, or make a new one to share. */
export function HomeScreen() {
  const user = useAppStore(selectUser);
  const created = useAppStore(selectCreatedRoom);
  const joinBusy = useAppStore(selectJoinBusy);
  const signingOut = useAppStore(selectBusy).signingOut;
  const joinFromInput = useAppStore((s) => s.joinFromInput);
  const joinRoom = useAppStore((s) => s.joinRoom);
  const createRoom = useAppStore((s) => s.createRoom);
  const signOut = useAppStore((s) => s.signOut);
  const navigate = useAppStore((s) => s.navigate);
  const [input, setInput] = useState('');
  const [copy, setCopy] = useState<CopyState>('idle');

  function submitJoin(event: FormEvent) {
    event.preventDefault();
    void joinFromInput(input);
  }

  function newRoom() {
    createRoom();
    setCopy('idle');
  }

  async function copyLink(link: string) {
    try {
      await navigator.clipboard.writeText(link);
      setCopy('copied');
    } catch {
      setCopy('failed');
    }
  }

  return (
    <ScreenLayout
      title="Rooms"
      info={
        user != null && (
          <p className="who">
            Signed in as {user.name}
            {user.email != null && <span className="muted"> · {user.email}</span>}
          </p>
        )
      }
      actions={
        <>
          <button type="button" onClick={() => navigate('network-check')}>
            Check my network
          </button>
          <button type="button" onClick={() => navigate('settings')}>
            Settings
          </button>
          <button type="button" onClick={() => void signOut()} disabled={signingOut}>
            Sign out
          </button>
        </>
      }
    >
      <div className="columns">
        <section className="card" aria-labelledby="join-title">
          <h2 id="join-title">Join a room</h2>
          <form onSubmit={submitJoin}>
            <div className="field">
              <label htmlFor="join-input">Room link or ID</label>
              <input
                id="join-input"
                type="text"
                autoComplete="off"
                autoCapitalize="off"
                spellCheck={false}
                value={input}
                onChange={(e) => setInput(e.target.value)}
                aria-describedby="join-hint"
              />
              <p id="join-hint" className="hint">
                Paste a link someone shared with you, or type a room ID.
              </p>
            </div>
            <div className="actions">
              <button type="submit" className="primary" disabled={joinBusy} aria-busy={joinBusy}>
                Join
              </button>
            </div>
          </form>
        </section>
        <section className="card" aria-labelledby="create-title">
          <h2 id="create-title">Create a room</h2>
          <p className="hint">A new room gets an ID nobody can guess. Share its link with the people you want to call.</p>
          <div className="actions">
            <button type="button" onClick={newRoom}>
              New room
            </button>
          </div>
          {created != null && (
            <div className="field created">
              <label htmlFor="room-link">Room link</label>
              <input id="room-link" type="text" readOnly value={created.link} onFocus={(e) => e.currentTarget.select()} />
              <div className="actions">
                <button type="button" onClick={() => void copyLink(created.link)}>
                  Copy link
                </button>
                <button type="button" className="primary" disabled={joinBusy} onClick={() => void joinRoom(created.roomId)}>
                  Enter this room
                </button>
              </div>
              <p role="status" className="status">
                {copy === 'copied' ? 'Copied' : copy === 'failed' ? 'Could not copy: select the link and copy it yourself.' : ''}
              </p>
            </div>
          )}
        </section>
      </div>
    </ScreenLayout>
  );
}
