import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WindowState } from '../../electron/main/settingsFile.js';
import { mainWindowOptions, restoredBounds, trackWindowState } from '../../electron/main/window.js';

const laptop = { x: 0, y: 0, width: 1440, height: 875 };
const monitorLeft = { x: -1920, y: 0, width: 1920, height: 1050 };
const saved = (changes: Partial<WindowState> = {}): WindowState => ({ x: 100, y: 80, width: 1000, height: 700, maximized: false, ...changes });

describe('restoring the window', () => {
  it('opens at the default size, centred, the first time', () => {
    expect(restoredBounds(null, [laptop])).toEqual({ width: 1100, height: 760, maximized: false });
  });

  it('goes back where it was when that is on a display', () => {
    expect(restoredBounds(saved(), [laptop])).toEqual({ x: 100, y: 80, width: 1000, height: 700, maximized: false });
    expect(restoredBounds(saved({ x: -1500, y: 100 }), [laptop, monitorLeft])).toMatchObject({ x: -1500, y: 100 });
  });

  it('never opens on a display that is gone: the default, centred on what is there', () => {
    expect(restoredBounds(saved({ x: -1500, y: 100, maximized: true }), [laptop])).toEqual({ width: 1100, height: 760, maximized: true });
  });

  it('a window whose title bar is off the top or barely on screen is not restored there', () => {
    expect(restoredBounds(saved({ y: -690 }), [laptop])).not.toHaveProperty('x');
    expect(restoredBounds(saved({ x: 1400 }), [laptop])).not.toHaveProperty('x'); // 40 px showing
  });

  it('is pulled inside its display and shrunk to fit when it hangs over an edge', () => {
    expect(restoredBounds(saved({ x: 1000, y: 500, width: 1000, height: 700 }), [laptop])).toEqual({ x: 440, y: 175, width: 1000, height: 700, maximized: false });
    expect(restoredBounds(saved({ x: 0, y: 0, width: 3000, height: 2000 }), [laptop])).toEqual({ x: 0, y: 0, width: 1440, height: 875, maximized: false });
  });

  it('the options carry the restored bounds and keep the minimum size', () => {
    expect(mainWindowOptions('/p.cjs', false, { x: 5, y: 6, width: 700, height: 500 })).toMatchObject({ x: 5, y: 6, width: 700, height: 500, minWidth: 640, minHeight: 480 });
    expect(mainWindowOptions('/p.cjs', false)).toMatchObject({ width: 1100, height: 760 });
  });
});

describe('keeping the window’s place', () => {
  afterEach(() => vi.useRealTimers());

  function fakeWindow() {
    const events = new EventEmitter();
    const win = {
      bounds: { x: 10, y: 20, width: 900, height: 600 },
      maximized: false,
      destroyed: false,
      on: (event: string, cb: () => void) => (events.on(event, cb), win),
      getNormalBounds: () => win.bounds,
      isMaximized: () => win.maximized,
      isDestroyed: () => win.destroyed,
      emit: (event: string) => events.emit(event),
    };
    return win;
  }

  it('saves once a move or resize settles, and at once on close', () => {
    vi.useFakeTimers();
    const win = fakeWindow();
    const saves: WindowState[] = [];
    trackWindowState(win as never, (s) => saves.push(s), 500);
    win.emit('move');
    win.bounds = { x: 50.4, y: 60, width: 901, height: 600 };
    win.emit('resize');
    vi.advanceTimersByTime(499);
    expect(saves).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(saves).toEqual([{ x: 50, y: 60, width: 901, height: 600, maximized: false }]);
    win.maximized = true;
    win.emit('maximize');
    win.emit('close');
    expect(saves.at(-1)).toEqual({ x: 50, y: 60, width: 901, height: 600, maximized: true });
    vi.advanceTimersByTime(1000);
    expect(saves).toHaveLength(2); // the pending save was folded into the one on close
  });

  it('does not read a destroyed window', () => {
    vi.useFakeTimers();
    const win = fakeWindow();
    const saves: WindowState[] = [];
    trackWindowState(win as never, (s) => saves.push(s));
    win.emit('move');
    win.destroyed = true;
    vi.runAllTimers();
    expect(saves).toEqual([]);
  });
});
