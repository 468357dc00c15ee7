import type { PeerView } from '../../store/index.js';

/**
 * The connection's security code: the same emoji on both screens unless someone is in between.
 * People compare it out loud; the words are what a screen reader says and what to read out.
 */
export function SecurityCodeBadge({ peer }: { peer: PeerView }) {
  const code = peer.securityCode;
  if (code == null) return null;
  const words = code.words.join(', ');
  const title = `Security code: ${words}. Read it out with ${peer.name}: if you both see the same, nobody is in between.`;
  return (
    <>
      <span className="badge badge-code" data-testid="security-code" title={title} aria-label={`Security code: ${words}`}>
        <span aria-hidden="true">{code.emoji.join('')}</span>
      </span>
      {code.changed && (
        <span className="badge badge-code-changed" data-testid="security-code-changed">
          New security code: compare again
        </span>
      )}
    </>
  );
}
