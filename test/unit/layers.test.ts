import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The lint config is the written-down import graph; these cases prove it bites.
const eslint = new ESLint();

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer boundaries', () => {
  const cases: [string, string, string, boolean][] = [
    ['shared importing Node', 'shared/protocol/x.ts', "import 'node:fs';", true],
    ['shared importing the server', 'shared/protocol/x.ts', "import '../../server/src/app.js';", true],
    ['shared importing React', 'shared/ipc/x.ts', "import 'react';", true],
    ['shared importing zod', 'shared/protocol/x.ts', "import 'zod';", false],
    ['shared importing shared', 'shared/ipc/x.ts', "import '../protocol/index.js';", false],
    ['renderer importing Node', 'renderer/src/x.ts', "import 'node:path';", true],
    ['renderer importing Electron', 'renderer/src/x.ts', "import 'electron';", true],
    ['renderer importing main-process code', 'renderer/src/x.ts', "import '../../electron/main/index.js';", true],
    ['renderer importing shared', 'renderer/src/x.ts', "import '../../shared/protocol/index.js';", false],
    ['server importing the renderer', 'server/src/x.ts', "import '../../renderer/src/App.js';", true],
    ['electron importing the server', 'electron/main/x.ts', "import '../../server/src/app.js';", true],
  ];
  it.each(cases)('%s', async (_name, file, code, refused) => {
    const messages = await restricted(file, `${code}\nexport {};\n`);
    expect(messages.length > 0).toBe(refused);
  });
});
