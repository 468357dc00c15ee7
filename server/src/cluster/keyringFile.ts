import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import type { RoomTokens } from '../RoomTokens.js';
import { KeyringError, keyringChanges, parseKeyring, type Keyring } from './keyring.js';

/** Reads and validates a keys file; every problem in one error. */
export function readKeyringFile(file: string): Keyring {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KeyringError([`cannot read ${file}: ${(err as Error).message}`]);
  }
  return parseKeyring(text, file);
}

/** A reload that would make this node refuse tokens it may have issued itself, or that changes a key's meaning. */
function unsafeChange(current: Keyring, next: Keyring): string | null {
  for (const key of next.keys) {
    const old = current.keys.find((k) => k.kid === key.kid);
    // Tokens in circulation name their key by id: a new secret under an old id would void them silently.
    if (old && !old.secret.equals(key.secret)) return `key "${key.kid}" has a different secret than before; a new secret needs a new key id`;
  }
  return null;
}

export type ReloadResult = { ok: true; changed: boolean } | { ok: false; error: string };

/**
 * The room-token keyring from `roomToken.keysFile`, reloaded on demand (SIGHUP) and when the file
 * changes. A reload that fails validation keeps the current keys and logs why.
 */
export class KeyringFile {
  private listener: ((cur: Stats, prev: Stats) => void) | null = null;

  constructor(
    private readonly file: string,
    private readonly tokens: RoomTokens,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  reload(trigger: string): ReloadResult {
    let next: Keyring;
    try {
      next = readKeyringFile(this.file);
    } catch (err) {
      const error = err instanceof KeyringError ? err.message : String(err);
      this.log.error({ file: this.file, trigger, error, kept: this.tokens.keys.keys.map((k) => k.kid) }, 'room-token keys not reloaded; keeping the current keys');
      return { ok: false, error };
    }
    const unsafe = unsafeChange(this.tokens.keys, next);
    if (unsafe) {
      this.log.error({ file: this.file, trigger, error: unsafe, kept: this.tokens.keys.keys.map((k) => k.kid) }, 'room-token keys not reloaded; keeping the current keys');
      return { ok: false, error: unsafe };
    }
    const changes = keyringChanges(this.tokens.keys, next);
    if (changes.added.length + changes.removed.length === 0 && !changes.signerChanged) return { ok: true, changed: false };
    this.warnIfStillInCirculation(changes.removed);
    this.tokens.setKeyring(next);
    this.log.info({ file: this.file, trigger, ...changes, verifyOnly: next.keys.filter((k) => k.verifyOnly).map((k) => k.kid) }, 'room-token keys reloaded');
    return { ok: true, changed: true };
  }

  /** Reloads whenever the file is replaced or rewritten; polled, so renames and symlink swaps count too. */
  watch(intervalMs = 2_000): void {
    if (this.listener) return;
    this.listener = (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino && cur.size === prev.size) return;
      this.reload('file-changed');
    };
    watchFile(this.file, { interval: intervalMs, persistent: false }, this.listener);
  }

  close(): void {
    if (!this.listener) return;
    // Only this listener: another server in the same process may watch the same file.
    unwatchFile(this.file, this.listener);
    this.listener = null;
  }

  private warnIfStillInCirculation(removed: string[]): void {
    for (const kid of removed) {
      const last = this.tokens.lastSignedWith(kid);
      const until = last === undefined ? undefined : last + this.tokens.ttlSeconds * 1000;
      if (until !== undefined && until > this.now()) {
        this.log.warn(
          { kid, validUntil: new Date(until).toISOString() },
          'a removed room-token key signed tokens here that have not expired yet; they are refused from now on (remove a key only ttlSeconds after it stopped signing)',
        );
      }
    }
  }
}
