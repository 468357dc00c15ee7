import { callController } from '../../controllers/index.js';
import { useAppStore } from '../../store/index.js';

/** Pre-join: how to come in (muted, camera off). */
export function StartToggles() {
  const startMuted = useAppStore((s) => s.call.startMuted);
  const startCameraOff = useAppStore((s) => s.call.startCameraOff);
  return (
    <div className="checks">
      <label className="check">
        <input type="checkbox" checked={startMuted} onChange={(e) => callController().setStartMuted(e.target.checked)} />
        Start muted
      </label>
      <label className="check">
        <input type="checkbox" checked={startCameraOff} onChange={(e) => callController().setStartCameraOff(e.target.checked)} />
        Start with camera off
      </label>
    </div>
  );
}
