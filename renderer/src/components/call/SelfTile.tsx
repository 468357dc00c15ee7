import { selectUser, useAppStore } from '../../store/index.js';
import { TileFrame } from './TileFrame.js';

/** Your own tile: your camera (mirrored, muted locally); while you share, the badge says so. */
export function SelfTile() {
  const stream = useAppStore((s) => s.call.local.stream);
  const media = useAppStore((s) => s.call.local.media);
  const speaking = useAppStore((s) => s.call.local.speaking && s.call.local.media.audio);
  const name = useAppStore(selectUser)?.name ?? 'You';
  return (
    <TileFrame
      label="You"
      avatarName={name}
      stream={stream}
      muted
      videoOn={media.video}
      sharing={media.screen}
      mirrored
      speaking={speaking}
      muteShown={!media.audio}
    />
  );
}
