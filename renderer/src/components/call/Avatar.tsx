import { initials } from './callText.js';

/** Initials in a circle, where video would be. Decorative: the tile or preview is named already. */
export function Avatar({ name }: { name: string }) {
  return (
    <div className="avatar" aria-hidden="true">
      <span className="avatar-circle">{initials(name)}</span>
    </div>
  );
}
