import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, type ServerConfig } from '../config.js';
import { RoomTokens } from '../RoomTokens.js';
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

/** What identifies a version of the file: a rewrite, a rename over it or a symlink swap changes it. */
export function fileVersion(file: string): string {
  try {
    const st = statSync(file, { throwIfNoEntry: false });
    return st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : 'missing';
  } catch {
    return 'unreadable';
  }
}

/** A reload that would change what a listed key id means. */
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
export class ReloadableKeyring {
  private timer: NodeJS.Timeout | null = null;

  /** `seen`: the file's version (fileVersion) taken before the current keys were read from it. */
  constructor(
    private readonly file: string,
    private readonly tokens: RoomTokens,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private seen = fileVersion(file),
  ) {}

  reload(trigger: string): ReloadResult {
    // Taken before reading: a write that lands after it is seen as a change at the next check.
    // A bad version is not read again until it changes, so it is logged once.
    this.seen = fileVersion(this.file);
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

  /** Reloads whenever the file is rewritten or replaced (polled: renames and symlink swaps count too). */
  watch(intervalMs = 2_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (fileVersion(this.file) !== this.seen) this.reload('file-changed');
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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

/**
 * The room-token keys the configuration names: the one secret, or the keys file, watched for
 * changes. A keys file that does not validate at start is a configuration error.
 */
export function openRoomTokens(config: ServerConfig, log: Logger, now: () => number): { roomTokens: RoomTokens; keysFile?: ReloadableKeyring } {
  const { secret, keysFile, ttlSeconds } = config.roomToken;
  if (!keysFile) return { roomTokens: new RoomTokens(secret!, ttlSeconds, now) };
  const version = fileVersion(keysFile);
  let keyring: Keyring;
  try {
    keyring = readKeyringFile(keysFile);
  } catch (err) {
    throw new ConfigError((err instanceof KeyringError ? err.problems : [String(err)]).map((problem) => `roomToken.keysFile: ${problem}`));
  }
  const roomTokens = new RoomTokens(keyring, ttlSeconds, now);
  log.info({ file: keysFile, signer: keyring.signer.kid, keys: keyring.keys.map((k) => k.kid) }, 'room-token keys loaded');
  const reloadable = new ReloadableKeyring(keysFile, roomTokens, log, now, version);
  reloadable.watch();
  return { roomTokens, keysFile: reloadable };
}
