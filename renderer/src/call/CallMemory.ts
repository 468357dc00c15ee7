/**
 * What a window remembers about the call it is in, so that a reload (or an Electron window reload)
 * brings the same participant back: the call's clientId (the server derives the peer id from it),
 * the room, and the microphone and camera state. Kept in sessionStorage: it survives a reload of
 * this window and nothing else — another window or tab joining the same room is another participant,
 * and nothing outlives the window. Not a secret (the server binds the peer id to the signed-in user).
 */
export interface RememberedCall {
  server: string;
  roomId: string;
  clientId: string;
  audio: boolean;
  video: boolean;
  /** Until when a return counts as the same participant (ms since epoch). */
  until: number;
}

export type CallStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const KEY = 'zerorange.call';

/** How long after a window went away its call may be resumed as the same participant. */
export const RESUME_GRACE_MS = 60_000;

export class CallMemory {
  constructor(
    private readonly storage: CallStorage | null,
    private readonly now: () => number = Date.now,
    readonly graceMs = RESUME_GRACE_MS,
  ) {}

  /** The remembered call, if it is recent enough to resume. */
  recall(): RememberedCall | null {
    try {
      const raw = this.storage?.getItem(KEY);
      const value = raw ? (JSON.parse(raw) as Partial<RememberedCall>) : null;
      if (!value || !isRemembered(value)) return null;
      if (value.until <= this.now()) {
        this.forget();
        return null;
      }
      return value;
    } catch {
      return null; // storage refused (private mode) or damaged: a new participant
    }
  }

  /** The clientId for a call in this room: the remembered one when it is this room's, else a new one. */
  clientIdFor(server: string, roomId: string, make: () => string): string {
    const known = this.recall();
    return known && known.server === server && known.roomId === roomId ? known.clientId : make();
  }

  /** Records the call in progress; called on join and periodically, so a crash leaves a fresh record too. */
  remember(call: Omit<RememberedCall, 'until'>): void {
    try {
      this.storage?.setItem(KEY, JSON.stringify({ ...call, until: this.now() + this.graceMs } satisfies RememberedCall));
    } catch {
      // Without storage a reload makes a new participant; the call itself is unaffected.
    }
  }

  /** The user left the call: a later join is a new participant. */
  forget(): void {
    try {
      this.storage?.removeItem(KEY);
    } catch {
      // nothing to forget
    }
  }
}

function isRemembered(v: Partial<RememberedCall>): v is RememberedCall {
  return (
    typeof v.server === 'string' &&
    typeof v.roomId === 'string' &&
    typeof v.clientId === 'string' &&
    /^[A-Za-z0-9_-]{16,64}$/.test(v.clientId) &&
    typeof v.audio === 'boolean' &&
    typeof v.video === 'boolean' &&
    typeof v.until === 'number'
  );
}
