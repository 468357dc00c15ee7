import { useEffect, useId, useRef, useState } from 'react';
import { DeviceSelects } from './DeviceSelects.js';

/** `Devices`: a disclosure over the controls bar with the same selects as pre-join. Escape or a click outside closes it. */
export function DeviceMenu() {
  const id = useId();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    function onPointerDown(event: PointerEvent) {
      if (event.target instanceof Node && !root.current?.contains(event.target)) setOpen(false);
    }
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  return (
    <div
      ref={root}
      className="device-menu"
      onKeyDown={(event) => {
        if (event.key === 'Escape' && open) {
          event.stopPropagation();
          setOpen(false);
          button.current?.focus();
        }
      }}
    >
      <button ref={button} type="button" aria-expanded={open} aria-controls={open ? id : undefined} onClick={() => setOpen(!open)}>
        Devices
      </button>
      {open && (
        <div id={id} className="device-panel">
          <DeviceSelects />
        </div>
      )}
    </div>
  );
}
