import { useAppStore, type PeerView } from '../../store/index.js';
import { linkText, pathTitle } from './callText.js';
import { SecurityCodeBadge } from './SecurityCodeBadge.js';
import { TileFrame } from './TileFrame.js';

function PeerBadges({ peer }: { peer: PeerView }) {
  const label = peer.path?.label ?? 'Connecting…';
  return (
    <>
      <span className="sr-only">Media path: </span>
      <span className="badge badge-path" data-testid="path-badge" title={pathTitle(peer.path)}>
        {label}
      </span>
      {peer.quality != null && (
        <span
          className={`badge badge-quality quality-${peer.quality.score}`}
          data-testid="quality"
          title={peer.quality.reasons.length ? peer.quality.reasons.join('; ') : 'Good call quality'}
        >
          Quality {peer.quality.score}/5
        </span>
      )}
      {peer.encryption != null && (
        <span className="badge badge-encryption" data-testid="encryption" title={peer.encryption}>
          {peer.encryption}
        </span>
      )}
      <SecurityCodeBadge peer={peer} />
    </>
  );
}

/** Someone else in the call: their media (audio plays here), path, encryption and connection state. */
export function PeerTile({ peerId }: { peerId: string }) {
  const peer = useAppStore((s) => s.call.peers[peerId]);
  const sinkId = useAppStore((s) => s.call.local.selected.audiooutput);
  if (peer == null) return null;
  return (
    <TileFrame
      label={peer.name}
      avatarName={peer.name}
      stream={peer.stream}
      muted={false}
      sinkId={sinkId}
      // Frames that cannot be decrypted are dropped: the avatar and the words below, not a frozen picture.
      videoOn={(peer.media.video || peer.media.screen) && peer.decryptable !== false}
      sharing={peer.media.screen}
      screenVideo={peer.media.screen}
      speaking={peer.speaking && peer.media.audio}
      muteShown={!peer.media.audio}
      top={<PeerBadges peer={peer} />}
      status={
        <>
          <span className={`badge badge-link badge-link-${peer.link}`}>{linkText(peer.link)}</span>
          {peer.away && <span className="badge badge-away">Away</span>}
          {peer.decryptable === false && (
            <span className="badge badge-undecryptable" data-testid="undecryptable" title="End-to-end encryption: the key for this person's media has not reached you">
              Can't decrypt {peer.name}'s audio and video
            </span>
          )}
        </>
      }
    />
  );
}
