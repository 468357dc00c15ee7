import { beforeAll, describe, expect, it } from 'vitest';
import { LINT_WARM_UP_MS, importRefusals, warmUpLint } from '../support/lintProbe.js';

beforeAll(warmUpLint, LINT_WARM_UP_MS);

// Inside the renderer, the call domain is below the app: the store maps its events, never the other
// way. The lint rule that says so, proved on every import form.
const refusals = (filePath: string, code: string) => importRefusals(filePath, `${code}\n`);

describe('the call layer', () => {
  it.each([
    ['importing the store', 'renderer/src/call/x.ts', "import { useAppStore } from '../store/index.js'; useAppStore;"],
    ['importing the store by type', 'renderer/src/call/x.ts', "import type { AppState } from '../store/index.js'; export type S = AppState;"],
    ['importing the store lazily', 'renderer/src/call/stats/x.ts', "export const s = import('../../store/index.js');"],
    ['importing a controller', 'renderer/src/call/x.ts', "export { callController } from '../controllers/index.js';"],
    ['importing a component', 'renderer/src/call/x.ts', "import '../components/call/PeerTile.js';"],
    ['importing the desktop bridge', 'renderer/src/call/x.ts', "import { windowDesktopApi } from '../desktop.js'; windowDesktopApi;"],
  ])('refuses %s', async (_name, file, code) => {
    expect((await refusals(file, code)).length).toBeGreaterThan(0);
  });

  it.each([
    ['the call layer importing itself and shared', 'renderer/src/call/x.ts', "import './events.js'; import '../../../shared/protocol/index.js';"],
    ['the store importing the call layer', 'renderer/src/store/x.ts', "import { CallEvent } from '../call/events.js'; CallEvent;"],
    ['a controller importing both', 'renderer/src/controllers/x.ts', "import '../call/CallSession.js'; import '../store/index.js';"],
  ])('allows %s', async (_name, file, code) => {
    expect(await refusals(file, code)).toEqual([]);
  });
});
