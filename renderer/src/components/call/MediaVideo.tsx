import { useEffect, useRef, type VideoHTMLAttributes } from 'react';
import { canChooseSpeaker } from './callText.js';

interface MediaVideoProps extends Omit<VideoHTMLAttributes<HTMLVideoElement>, 'src' | 'children' | 'autoPlay' | 'playsInline'> {
  stream: MediaStream | null;
  /** The speaker to play to (remote media only); null is the system default, undefined leaves it alone. */
  sinkId?: string | null;
}

/** A `<video>` playing a MediaStream. The only place the call screens touch media elements. */
export function MediaVideo({ stream, sinkId, ...rest }: MediaVideoProps) {
  const ref = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (el == null) return;
    if (el.srcObject !== stream) el.srcObject = stream;
    // autoPlay covers the usual case; play() again for a stream swapped on a paused element.
    if (stream != null) el.play().catch(() => undefined);
    return () => {
      el.srcObject = null;
    };
  }, [stream]);

  useEffect(() => {
    const el = ref.current;
    if (el == null || sinkId === undefined || !canChooseSpeaker) return;
    const target = sinkId ?? '';
    if (el.sinkId === target) return;
    el.setSinkId(target).catch((err: unknown) => console.warn('Could not switch the speaker', err));
  }, [sinkId]);

  return <video ref={ref} autoPlay playsInline {...rest} />;
}
