import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../server/src/config.js';
import { MemoryReplayStore, openReplayStore, type ReplayStore } from '../../server/src/replayStore.js';
import { FileReplayStore } from '../../server/src/replayStoreFile.js';
import { FakeClock } from '../support/fakeClock.js';

const clock = () => new FakeClock(1_700_000_000_000);

let dir: string;
let file: string;
const stores: ReplayStore[] = [];
const open = (now: () => number) => {
  const store = FileReplayStore.open(file, new MemoryReplayStore(now));
  stores.push(store);
  return store;
};
const lines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zr-replay-'));
  file = join(dir, 'state', 'room-tokens.log');
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('FileReplayStore', () => {
  it('remembers used ids across a reopen, in a 0600 file, and forgets expired ones when it reopens', async () => {
    const c = clock();
    const first = open(c.now);
    expect(await first.claim('short-lived', c.seconds() + 10)).toBe(true);
    expect(await first.claim('long-lived', c.seconds() + 600)).toBe(true);
    expect(await first.claim('long-lived', c.seconds() + 600)).toBe(false);
    await first.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);

    c.advance(20_000);
    const second = open(c.now);
    expect(lines()).toEqual([`long-lived ${c.seconds() - 20 + 600}`]);
    expect(await second.claim('long-lived', c.seconds() + 580)).toBe(false);
    expect(await second.claim('fresh', c.seconds() + 600)).toBe(true);
  });

  it('skips corrupt lines and a torn last line instead of refusing to start', async () => {
    const c = clock();
    const exp = c.seconds() + 600;
    open(c.now); // creates the directory and the file
    await stores.pop()!.close();
    appendFileSync(file, `good-one ${exp}\n\u0000\u0000garbage\nno-exp\nbad id ${exp}\ntorn-line ${exp}`);
    const store = open(c.now);
    expect(await store.claim('good-one', exp)).toBe(false);
    // The torn line was never answered (it was being written when the process died): not remembered.
    expect(await store.claim('torn-line', exp)).toBe(true);
    expect(lines()).toEqual([`good-one ${exp}`, `torn-line ${exp}`]);
  });

  it('rewrites the file at run time once expired entries pile up', async () => {
    const c = clock();
    const store = open(c.now);
    const claims: (boolean | Promise<boolean>)[] = [];
    for (let i = 0; i < 10_005; i++) claims.push(store.claim(`old-${i}`, c.seconds() + 1));
    expect(await Promise.all(claims)).not.toContain(false);
    c.advance(2000);
    expect(await store.claim('new-one', c.seconds() + 600)).toBe(true);
    expect(lines()).toEqual([`new-one ${c.seconds() + 600}`]);
    expect(await store.claim('new-two', c.seconds() + 600)).toBe(true);
    expect(lines()).toHaveLength(2);
  });

  it('refuses to start, naming the setting, when the file cannot be written', () => {
    writeFileSync(join(dir, 'not-a-directory'), '');
    file = join(dir, 'not-a-directory', 'room-tokens.log');
    expect(() => open(Date.now)).toThrow(ConfigError);
    expect(() => open(Date.now)).toThrow(/roomToken\.replayStoreFile: cannot use .*not-a-directory/);
  });

  it('refuses a token id it could not write back as one line', () => {
    const store = open(Date.now);
    expect(() => store.claim('a b\nc 1', 2_000_000_000)).toThrow();
  });
});

describe('openReplayStore', () => {
  it('opens the file store when configured, and warns when single use will not survive a restart', async () => {
    const logged: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as { level: number; msg: string }) });
    const memory = openReplayStore(undefined, log);
    expect(memory.durable).toBe(false);
    expect(logged.find((l) => l.level === 40)?.msg).toMatch(/not set/);
    const durable = openReplayStore(file, log);
    stores.push(durable);
    expect(durable.durable).toBe(true);
    expect(logged.filter((l) => l.level === 40)).toHaveLength(1);
  });
});
