import { useId } from 'react';
import { callController } from '../../controllers/index.js';
import { useAppStore, type DeviceOption } from '../../store/index.js';
import { canChooseSpeaker } from './callText.js';
import { run } from './actions.js';

type Kind = DeviceOption['kind'];

const FIELDS: readonly { kind: Kind; label: string }[] = [
  { kind: 'videoinput', label: 'Camera' },
  { kind: 'audioinput', label: 'Microphone' },
  { kind: 'audiooutput', label: 'Speaker' },
];

function DeviceSelect({ kind, label }: { kind: Kind; label: string }) {
  const id = useId();
  const devices = useAppStore((s) => s.call.local.devices);
  const selected = useAppStore((s) => s.call.local.selected[kind]);
  const options = devices.filter((d) => d.kind === kind);
  const value = selected != null && options.some((d) => d.deviceId === selected) ? selected : (options[0]?.deviceId ?? '');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        disabled={options.length === 0}
        onChange={(e) => run(callController().selectDevice(kind, e.target.value), `Switching the ${label.toLowerCase()}`)}
      >
        {options.length === 0 && <option value="">None found</option>}
        {options.map((d, i) => (
          <option key={`${d.deviceId}-${i}`} value={d.deviceId}>
            {d.label || `${label} ${i + 1}`}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Camera, Microphone and (where the platform can route audio) Speaker. */
export function DeviceSelects() {
  return (
    <div className="device-selects">
      {FIELDS.filter((f) => f.kind !== 'audiooutput' || canChooseSpeaker).map((f) => (
        <DeviceSelect key={f.kind} kind={f.kind} label={f.label} />
      ))}
    </div>
  );
}
