import { useId } from 'react';
import type { DeviceChoice, DeviceKind } from '../../../shared/ipc/desktopApi.js';
import { findPreferred } from '../call/LocalMedia.js';
import { canChooseSpeaker } from '../components/call/callText.js';
import { useMediaDevices } from '../components/settings/useMediaDevices.js';
import { selectPreferences, selectSettingsSaving, useAppStore } from '../store/index.js';

const FIELDS: readonly { kind: DeviceKind; label: string }[] = [
  { kind: 'videoinput', label: 'Camera' },
  { kind: 'audioinput', label: 'Microphone' },
  { kind: 'audiooutput', label: 'Speaker' },
];
const DEFAULT_VALUE = '';

function DevicePreference({ kind, label, devices }: { kind: DeviceKind; label: string; devices: readonly MediaDeviceInfo[] }) {
  const id = useId();
  const kept = useAppStore((s) => selectPreferences(s).devices[kind]);
  const saving = useAppStore(selectSettingsSaving);
  const savePreferences = useAppStore((s) => s.savePreferences);
  const options = devices.filter((d) => d.kind === kind && d.deviceId !== '');
  const present = findPreferred(kept, kind, devices);
  // A kept device that is not plugged in stays chosen (calls fall back to the default meanwhile).
  const missing: DeviceChoice | null = kept && !present ? kept : null;
  const value = present ?? missing?.deviceId ?? DEFAULT_VALUE;

  // The system default first, then a kept device that is unplugged, then what is plugged in.
  const choices: { value: string; text: string; choice: DeviceChoice | null }[] = [
    { value: DEFAULT_VALUE, text: 'System default', choice: null },
    ...(missing ? [{ value: missing.deviceId, text: `${missing.label || label} (not connected)`, choice: missing }] : []),
    ...options.map((d, i) => ({ value: d.deviceId, text: d.label || `${label} ${i + 1}`, choice: { deviceId: d.deviceId, label: d.label } })),
  ];
  const choose = (picked: string) => void savePreferences({ devices: { [kind]: choices.find((c) => c.value === picked)?.choice ?? null } });

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} disabled={saving} onChange={(e) => choose(e.target.value)}>
        {choices.map((c) => (
          <option key={`${c.value}-${c.text}`} value={c.value}>
            {c.text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Settings → Calls: the devices calls use, and how they start. */
export function SettingsCalls() {
  const devices = useMediaDevices();
  const preferences = useAppStore(selectPreferences);
  const saving = useAppStore(selectSettingsSaving);
  const savePreferences = useAppStore((s) => s.savePreferences);
  // Before the first use of camera and microphone the system hides devices' names and ids.
  const unnamed = devices.length > 0 && devices.every((d) => d.deviceId === '' || d.label === '');
  return (
    <section className="card" aria-labelledby="settings-calls">
      <h2 id="settings-calls">Calls</h2>
      <div className="device-selects">
        {FIELDS.filter((f) => f.kind !== 'audiooutput' || canChooseSpeaker).map((f) => (
          <DevicePreference key={f.kind} kind={f.kind} label={f.label} devices={devices} />
        ))}
      </div>
      {unnamed && <p className="hint">Devices are listed by name once ZeroRange has used your camera and microphone (open a room’s preview).</p>}
      <p className="hint">When a chosen device is unplugged, calls use the system default and say so.</p>
      <div className="checks">
        <label className="check">
          <input type="checkbox" checked={preferences.startMuted} disabled={saving} onChange={(e) => void savePreferences({ startMuted: e.target.checked })} />
          Start calls muted
        </label>
        <label className="check">
          <input type="checkbox" checked={preferences.startCameraOff} disabled={saving} onChange={(e) => void savePreferences({ startCameraOff: e.target.checked })} />
          Start calls with the camera off
        </label>
      </div>
    </section>
  );
}
