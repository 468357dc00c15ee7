import { useEffect } from 'react';

const NON_TEXT_INPUTS = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image']);

/** Typing goes to text fields and selects (a select jumps to options by letter): no shortcuts there. */
function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest('textarea, select, [contenteditable]:not([contenteditable="false"]), dialog')) return true;
  return target instanceof HTMLInputElement && !NON_TEXT_INPUTS.has(target.type);
}

/**
 * Single-key shortcuts for the call (keys as in KeyboardEvent.key, lower case). Ignored with
 * modifiers, on auto-repeat, and while focus is in a text field, a select or a dialog.
 */
export function useCallShortcuts(keys: Readonly<Record<string, () => void>>): void {
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTypingTarget(event.target)) return;
      const action = keys[event.key.toLowerCase()];
      if (action == null) return;
      event.preventDefault();
      action();
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [keys]);
}
