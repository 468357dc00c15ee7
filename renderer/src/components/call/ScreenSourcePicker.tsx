import { useEffect, useRef } from 'react';
import { callController } from '../../controllers/index.js';
import { selectScreenSources, useAppStore } from '../../store/index.js';

/** Electron's screen-share picker: the user chooses a screen or window; Escape or Cancel shares nothing. */
export function ScreenSourcePicker() {
  const sources = useAppStore(selectScreenSources);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const el = dialog.current;
    if (sources == null || el == null) return;
    if (!el.open) el.showModal();
    return () => el.close();
  }, [sources]);

  if (sources == null) return null;
  const choose = (id: string | null) => void callController().chooseScreenSource(id);
  return (
    <dialog
      ref={dialog}
      className="dialog screen-picker"
      aria-labelledby="screen-picker-title"
      onCancel={(event) => {
        event.preventDefault();
        choose(null);
      }}
    >
      <h2 id="screen-picker-title">Share your screen</h2>
      <ul className="screen-sources">
        {sources.map((source) => (
          <li key={source.id}>
            <button type="button" className="screen-source" onClick={() => choose(source.id)}>
              {source.thumbnail ? <img src={source.thumbnail} alt="" /> : <span className="screen-source-empty" aria-hidden="true" />}
              <span>{source.kind === 'screen' ? `Screen: ${source.name}` : source.name}</span>
            </button>
          </li>
        ))}
      </ul>
      <div className="actions">
        <button type="button" onClick={() => choose(null)}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
