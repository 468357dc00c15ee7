import { selectUser, useAppStore } from '../../store/index.js';
import { Avatar } from './Avatar.js';
import { MediaVideo } from './MediaVideo.js';

/** Pre-join: your camera as others will see it, or your initials and why there is no picture. */
export function CameraPreview() {
  const stream = useAppStore((s) => s.call.local.stream);
  const videoOn = useAppStore((s) => s.call.local.media.video);
  const error = useAppStore((s) => s.call.local.error);
  const name = useAppStore(selectUser)?.name ?? 'You';
  // `error` may concern only the microphone (partial media): the picture shows whenever the camera is on.
  const showVideo = stream != null && videoOn;
  const note = error != null ? 'No camera picture' : stream == null ? 'Starting your camera…' : 'Your camera is off';
  return (
    <>
      <div className="preview">
        {showVideo ? (
          <MediaVideo className="preview-video mirrored" stream={stream} muted aria-label="Your camera preview" />
        ) : (
          <>
            <Avatar name={name} />
            <p className="preview-note">{note}</p>
          </>
        )}
      </div>
      {error != null && (
        <p role="alert" className="notice notice-error">
          {error}
        </p>
      )}
    </>
  );
}
