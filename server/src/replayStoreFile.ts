import { closeSync, fchmodSync, fdatasync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './config.js';
import type { MemoryReplayStore, ReplayStore } from './replayStore.js';

// One used token per line: `<jti> <exp unix seconds>\n`. Room-token ids are base64url.
const JTI = /^[A-Za-z0-9_-]{1,128}$/;
const LINE = /^([A-Za-z0-9_-]{1,128}) (\d{1,12})$/;
// The log is rewritten at run time once it holds this many lines beyond twice the live entries,
// so rewriting costs a constant share of the appends however busy the server is.
const COMPACT_SLACK = 10_000;

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
}

/** Makes a rename durable: the directory entry is data too. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Lines written completely; a torn last line (the process died mid-append, before any welcome) is dropped. */
function readLog(file: string, memory: MemoryReplayStore): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const lines = text.split('\n');
  lines.pop();
  for (const line of lines) {
    const m = LINE.exec(line);
    // A line that is not ours (corruption) is skipped rather than refusing to start.
    if (m) memory.claim(m[1]!, Number(m[2]));
  }
}

/**
 * Used room-token ids in an append-only file, so single use holds across restarts. A claim is
 * written before it is answered and flushed to disk (fdatasync, shared by the claims that arrive
 * while one is in flight) before the join it admits is welcomed. Expired entries are dropped when
 * the file is rewritten: at start, and when it has grown well past the live entries.
 * One process per file.
 */
export class FileReplayStore implements ReplayStore {
  readonly durable = true;
  private fd = -1;
  private lines = 0;
  private syncing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly file: string,
    private readonly memory: MemoryReplayStore,
  ) {}

  /** Loads and compacts the file; a file that cannot be read or written is a configuration error. */
  static open(file: string, memory: MemoryReplayStore): FileReplayStore {
    const store = new FileReplayStore(file, memory);
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      readLog(file, memory);
      store.compact();
    } catch (err) {
      throw new ConfigError([`roomToken.replayStoreFile: cannot use ${file}: ${(err as Error).message}`]);
    }
    return store;
  }

  get size(): number {
    return this.memory.size;
  }

  claim(jti: string, expiresAtSeconds: number): boolean | Promise<boolean> {
    if (this.closed) throw new Error('the replay store is closed');
    if (!JTI.test(jti)) throw new Error('a token id the replay log cannot hold');
    if (!this.memory.claim(jti, expiresAtSeconds)) return false;
    writeAll(this.fd, `${jti} ${Math.ceil(expiresAtSeconds)}\n`);
    this.lines += 1;
    if (this.lines > 2 * this.memory.size + COMPACT_SLACK) this.compact();
    return this.sync().then(() => true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A failed flush has already failed the joins that waited for it.
    await (this.queued ?? this.syncing)?.catch(() => {});
    closeSync(this.fd);
  }

  /** Resolves once everything written so far is on disk. */
  private sync(): Promise<void> {
    if (!this.syncing) {
      const fd = this.fd;
      this.syncing = new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve()))).finally(() => {
        this.syncing = null;
      });
      return this.syncing;
    }
    // The flush in flight may have started before this write: wait for the next one.
    // Whether that flush worked or not, the next one starts once it is done.
    const next = () => {
      this.queued = null;
      return this.sync();
    };
    this.queued ??= this.syncing.then(next, next);
    return this.queued;
  }

  /** Rewrites the file with the live entries only (mode 0600), then appends to it. */
  private compact(): void {
    const tmp = `${this.file}.tmp`;
    const out = openSync(tmp, 'w', 0o600);
    try {
      fchmodSync(out, 0o600);
      let text = '';
      for (const [jti, exp] of this.memory.entries()) text += `${jti} ${exp}\n`;
      writeAll(out, text);
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(tmp, this.file);
    syncDirectory(dirname(this.file));
    const old = this.fd;
    this.fd = openSync(this.file, 'a', 0o600);
    this.lines = this.memory.size;
    // A flush in flight still uses the old descriptor.
    if (old >= 0) void (this.syncing ?? Promise.resolve()).finally(() => closeSync(old)).catch(() => {});
  }
}
