import type { ReactNode } from 'react';
import { Avatar } from './Avatar.js';
import { MediaVideo } from './MediaVideo.js';

export interface TileFrameProps {
  /** The tile's accessible name and visible name: the peer's name, or `You`. */
  label: string;
  /** Whose initials the avatar shows. */
  avatarName: string;
  stream: MediaStream | null;
  /** Only your own tile is muted: remote tiles play the peer's audio. */
  muted: boolean;
  sinkId?: string | null;
  /** Video sent and wanted; otherwise the avatar covers the element (which keeps playing audio). */
  videoOn: boolean;
  /** Shows `Sharing screen`. */
  sharing: boolean;
  /** The video is a screen: shown whole (contain), never mirrored. */
  screenVideo?: boolean;
  mirrored?: boolean;
  speaking: boolean;
  muteShown: boolean;
  /** Top corner: path and encryption. */
  top?: ReactNode;
  /** Extra words after the flags: connection state, away. */
  status?: ReactNode;
}

/** One person in the grid: video or avatar, name, and what is going on with them, in words. */
export function TileFrame(props: TileFrameProps) {
  const { label, avatarName, stream, muted, sinkId, videoOn, sharing, screenVideo, mirrored, speaking, muteShown, top, status } = props;
  const showVideo = stream != null && videoOn;
  const videoClass = ['tile-video', screenVideo && 'tile-video-screen', mirrored && !screenVideo && 'mirrored', !showVideo && 'tile-video-off'];
  return (
    <div role="group" aria-label={label} className={speaking ? 'tile tile-speaking' : 'tile'}>
      {stream != null && (
        <MediaVideo className={videoClass.filter(Boolean).join(' ')} stream={stream} muted={muted} sinkId={sinkId} aria-hidden={!showVideo} />
      )}
      {!showVideo && <Avatar name={avatarName} />}
      {top != null && <div className="tile-top">{top}</div>}
      <div className="tile-bottom">
        <span className="tile-name">{label}</span>
        <span className="tile-flags">
          {speaking && (
            <span className="badge badge-speaking">
              <span className="speaking-icon" aria-hidden="true" />
              Speaking
            </span>
          )}
          {muteShown && <span className="badge badge-muted">Muted</span>}
          {sharing && <span className="badge">Sharing screen</span>}
          {status}
        </span>
      </div>
    </div>
  );
}
