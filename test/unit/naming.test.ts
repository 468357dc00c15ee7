import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// One naming rule for modules: a module named after a class it exports carries the class's name
// exactly (PascalCase: CallSession.ts, RoomTokens.ts); modules of functions and values are camelCase.

const ROOT = join(import.meta.dirname, '../..');
const LAYERS = ['shared', 'renderer/src', 'electron', 'server/src', 'dev'];

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

/** The class a module is named after, when the file name spells it differently. */
function misnamed(stem: string, source: string): string | null {
  const classes = [...source.matchAll(/^export (?:abstract )?class (\w+)/gm)].map((m) => m[1]!);
  const named = classes.find((c) => c.toLowerCase() === stem.toLowerCase());
  return named && named !== stem ? named : null;
}

describe('module names', () => {
  it('the rule catches a class module named in camelCase, and leaves function modules alone', () => {
    expect(misnamed('callController', 'export class CallController {}')).toBe('CallController');
    expect(misnamed('CallController', 'export class CallController {}')).toBeNull();
    expect(misnamed('protocolLinks', 'export class LinkQueue {}\nexport function parse() {}')).toBeNull();
  });

  it('a module named after a class it exports has the class name exactly', () => {
    const wrong: string[] = [];
    for (const layer of LAYERS) {
      for (const file of sources(join(ROOT, layer))) {
        const named = misnamed(basename(file).replace(/\.tsx?$/, ''), readFileSync(file, 'utf8'));
        if (named) wrong.push(`${relative(ROOT, file)} exports ${named}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
