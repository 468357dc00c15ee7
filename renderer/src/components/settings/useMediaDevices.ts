import { useEffect, useState } from 'react';

/** The cameras, microphones and speakers present, kept current as devices come and go. */
export function useMediaDevices(): MediaDeviceInfo[] {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    const media = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
    if (!media) return;
    let live = true;
    const refresh = () => {
      media.enumerateDevices().then(
        (list) => live && setDevices(list),
        () => undefined, // none listed: the pickers offer the system default only
      );
    };
    refresh();
    media.addEventListener('devicechange', refresh);
    return () => {
      live = false;
      media.removeEventListener('devicechange', refresh);
    };
  }, []);
  return devices;
}
