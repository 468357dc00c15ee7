/**
 * Refresh-token storage. Tokens are encrypted with Electron's safeStorage (Keychain, DPAPI, Secret
 * Service/KWallet) and written one file per server. Where there is no real keystore nothing is written:
 * the token stays in memory and the user signs in again after a restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The part of Electron's `safeStorage` used here (injected so this runs and is tested without Electron). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(data: Buffer): string;
  /** Linux only in Electron. */
  getSelectedStorageBackend?(): string;
}

export type TokenStorageMode = 'keystore' | 'memory';

export interface TokenStore {
  readonly mode: TokenStorageMode;
  /** Why tokens are kept in memory only (for the user); null in keystore mode. */
  readonly note: string | null;
  load(server: string): Promise<string | null>;
  save(server: string, refreshToken: string): Promise<void>;
  clear(server: string): Promise<void>;
}

export interface TokenStoreOptions {
  safeStorage: SafeStorageLike;
  /** Directory for the encrypted files (e.g. `<userData>/tokens`); created on first save, mode 0700. */
  dir: string;
  platform: NodeJS.Platform;
}

const RESTART_HINT = 'so ZeroRange keeps your sign-in in memory only: you will need to sign in again after restarting the app.';

/**
 * Must be called after Electron's `ready` event: before it, safeStorage on Linux does not know its backend.
 */
export function createTokenStore(opts: TokenStoreOptions): TokenStore {
  const missing = missingKeystore(opts.safeStorage, opts.platform);
  return missing === null ? keystoreStore(opts) : memoryStore(`${missing}, ${RESTART_HINT}`);
}

/** Describes the missing keystore, or null when a real one is in use. */
function missingKeystore(safeStorage: SafeStorageLike, platform: NodeJS.Platform): string | null {
  let available: boolean;
  let backend: string | undefined;
  try {
    available = safeStorage.isEncryptionAvailable();
    backend = platform === 'linux' ? safeStorage.getSelectedStorageBackend?.() : undefined;
  } catch {
    available = false;
  }
  const secretService = 'No Secret Service (GNOME Keyring or KWallet) was found';
  if (platform === 'linux') {
    if (!available) return secretService;
    // basic_text "encrypts" with a key hard-coded in Chromium: on disk that is as good as plain text.
    if (backend === 'basic_text') return `${secretService} (only unprotected text storage is available)`;
    if (backend === 'unknown') return secretService;
    return null;
  }
  if (available) return null;
  if (platform === 'darwin') return 'The macOS Keychain is not available';
  if (platform === 'win32') return 'Windows data protection (DPAPI) is not available';
  return 'No system keystore is available';
}

function memoryStore(note: string): TokenStore {
  const tokens = new Map<string, string>();
  return {
    mode: 'memory',
    note,
    load: async (server) => tokens.get(originOf(server)) ?? null,
    save: async (server, refreshToken) => void tokens.set(originOf(server), refreshToken),
    clear: async (server) => void tokens.delete(originOf(server)),
  };
}

interface Sealed {
  v: 1;
  origin: string;
  refreshToken: string;
}

function keystoreStore({ safeStorage, dir }: TokenStoreOptions): TokenStore {
  // Per-file queue: a save racing a clear must end in the order they were called.
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(file: string, task: () => Promise<T>): Promise<T> => {
    const next = (queues.get(file) ?? Promise.resolve()).then(task, task);
    const tail = next.catch(() => undefined);
    queues.set(file, tail);
    void tail.then(() => {
      if (queues.get(file) === tail) queues.delete(file);
    });
    return next;
  };

  return {
    mode: 'keystore',
    note: null,
    load: (server) => {
      const origin = originOf(server);
      const file = fileFor(dir, origin);
      return serial(file, async () => {
        let data: Buffer;
        try {
          data = await readFile(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
          throw err;
        }
        try {
          const sealed = JSON.parse(safeStorage.decryptString(data)) as Partial<Sealed>;
          // The origin inside the ciphertext guards against a file copied over another server's.
          if (sealed.v === 1 && sealed.origin === origin && typeof sealed.refreshToken === 'string') {
            return sealed.refreshToken;
          }
        } catch {
          // Undecryptable (keystore reset, another user's file, corruption): fall through and delete it.
        }
        await rm(file, { force: true });
        return null;
      });
    },
    save: (server, refreshToken) => {
      const origin = originOf(server);
      const file = fileFor(dir, origin);
      return serial(file, async () => {
        const sealed: Sealed = { v: 1, origin, refreshToken };
        await writeAtomic(file, safeStorage.encryptString(JSON.stringify(sealed)), dir);
      });
    },
    clear: (server) => {
      const file = fileFor(dir, originOf(server));
      return serial(file, () => rm(file, { force: true }));
    },
  };
}

async function writeAtomic(file: string, data: Buffer, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Servers are keyed by origin, so `https://a.example/` and `https://a.example` share one entry. */
function originOf(server: string): string {
  const origin = URL.canParse(server) ? new URL(server).origin : 'null';
  return origin === 'null' ? server : origin;
}

function fileFor(dir: string, origin: string): string {
  return join(dir, `${createHash('sha256').update(origin, 'utf8').digest('hex')}.token`);
}
