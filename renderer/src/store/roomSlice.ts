import type { DesktopState, JoinLinkEvent, JoinLinkResolution } from '../../../shared/ipc/desktopApi.js';
import { formatWebJoinLink } from '../../../shared/links.js';
import { generateRoomId, RoomId } from '../../../shared/protocol/rooms.js';
import { invalid, joinError, toAppError } from './errors.js';
import type { AppError, AppState, SliceCreator, StoreDeps } from './types.js';

/**
 * The room being joined, from a pasted link, a typed ID or a link from the OS, up to the server's
 * join. The join's room token stays with the call layer's token source; the store keeps the room,
 * its server and its limits. The call starts from `status: 'joined'`.
 */

export type RoomStatus =
  | 'idle'
  | 'resolving' // main is parsing a pasted link
  | 'awaiting-sign-in' // a link from the OS, for a known server, while signed out
  | 'joining' // switching server, signing in and/or joinRoom under way
  | 'joined' // the server let us in: the token source holds the join for the call
  | 'failed';

export interface RoomTarget {
  roomId: string;
  /** The server's origin. */
  server: string;
}

export interface RoomLimits {
  /** The most people the room takes. */
  roomSizeLimit: number;
}

export interface CreatedRoom extends RoomTarget {
  /** The web join link to share. */
  link: string;
}

export interface RoomState {
  status: RoomStatus;
  target: RoomTarget | null;
  /** The joined room's limits, from the server's join. */
  limits: RoomLimits | null;
  error: AppError | null;
  /**
   * A link to a server the user has not trusted yet, waiting for them to confirm it. Nothing is sent
   * to that server until they do; whatever else is going on (a joined room) is left alone meanwhile.
   */
  confirm: RoomTarget | null;
  /** The room made with `New room`, not yet joined. */
  created: CreatedRoom | null;
}

export interface RoomActions {
  /** Home's Join: a pasted link (resolved by main) or a bare room ID on the current server. */
  joinFromInput(text: string): Promise<boolean>;
  /**
   * A link from the OS, as main hands it over (`onJoinLink`, `takeJoinLinks`) once main's state is
   * known. Main holds links until then, also across a reload of the page, so none waits in here.
   */
  handleJoinLink(event: JoinLinkEvent): void;
  /** The unknown-server dialog's `Connect and join`: trust the server, sign in if needed, join. */
  confirmServer(): Promise<boolean>;
  /** The unknown-server dialog's `Cancel`: forget the link, change nothing. */
  cancelServer(): void;
  /** Joins on the current server. */
  joinRoom(roomId: string): Promise<boolean>;
  leaveRoom(): void;
  /** Makes an unguessable room ID on the current server and its shareable link. */
  createRoom(): CreatedRoom | null;
  clearRoomError(): void;
  resetRoom(): void;
  /** Internal: called by the session slice. */
  roomStateChanged(state: DesktopState): void;
  signInFinished(ok: boolean): Promise<void>;
}

export interface RoomSlice extends RoomActions {
  room: RoomState;
}

export const initialRoomState: RoomState = {
  status: 'idle',
  target: null,
  limits: null,
  error: null,
  confirm: null,
  created: null,
};

/** A room ID never has `:` or `/`; anything with them is meant as a link. */
function looksLikeLink(text: string): boolean {
  return /[:/]/.test(text);
}

export function createRoomSlice({ desktop, roomTokens, fillRandom }: StoreDeps): SliceCreator<RoomSlice> {
  return (set, get) => {
    // Each flow takes a number; a flow that is no longer the latest leaves the state alone.
    let flow = 0;
    const patch = (changes: Partial<RoomState>) => set((s) => ({ room: { ...s.room, ...changes } }));
    const current = () => get().session.desktop;
    const idle: Partial<RoomState> = { status: 'idle', target: null, limits: null, error: null };

    function fail(id: number, error: AppError): false {
      if (id === flow) patch({ status: 'failed', error });
      return false;
    }

    async function join(id: number, target: RoomTarget): Promise<boolean> {
      patch({ status: 'joining', target, limits: null, error: null });
      try {
        const response = await roomTokens.fetch(target.roomId);
        if (id !== flow) return false;
        patch({ status: 'joined', limits: { roomSizeLimit: response.roomSizeLimit }, error: null });
        get().navigate('main');
        return true;
      } catch (err) {
        return fail(id, joinError(err));
      }
    }

    /**
     * Gets from "a room on some server" to "joined": switch to the server if it is not the current one
     * (it is trusted by now), sign in if needed (or wait for the user to, when `signIn` is false), join.
     */
    async function proceed(id: number, target: RoomTarget, signIn: boolean): Promise<boolean> {
      patch({ status: 'joining', target, error: null, limits: null });
      if (current()?.server?.origin !== target.server) {
        if (!(await get().setServer(target.server, target.roomId))) {
          if (id === flow) patch(idle); // setServer's error is on show
          return false;
        }
        if (id !== flow) return false;
      }
      if (current()?.user == null) {
        if (!signIn) {
          if (id === flow) patch({ status: 'awaiting-sign-in', target });
          return false;
        }
        if (!(await get().signIn())) {
          if (id === flow) patch(idle);
          return false;
        }
        if (id !== flow) return false;
      }
      return join(id, target);
    }

    /** `resolving` is the flow that resolved the link, if any; a link from the OS starts none. */
    function openResolution(link: JoinLinkResolution, signIn: boolean, resolving?: number): Promise<boolean> {
      const target = { roomId: link.roomId, server: link.server };
      if (!link.knownServer) {
        // Nothing goes to this server until the user says so; a flow under way carries on meanwhile.
        patch(resolving === undefined ? { confirm: target } : { confirm: target, status: 'idle' });
        return Promise.resolve(false);
      }
      return proceed(resolving ?? ++flow, target, signIn);
    }

    return {
      room: initialRoomState,

      async joinFromInput(text) {
        const raw = text.trim();
        get().dismissErrors();
        // Invalid input only says so: the status and everything else stay as they are.
        if (!raw) {
          patch({ error: invalid('Enter a room link or a room ID.') });
          return false;
        }
        if (looksLikeLink(raw)) {
          const id = ++flow;
          patch({ status: 'resolving', error: null });
          let link: JoinLinkResolution;
          try {
            link = await desktop.resolveLink(raw);
          } catch (err) {
            if (id === flow) patch({ ...idle, error: invalid(`This link cannot be opened: ${toAppError(err).message}`) });
            return false;
          }
          if (id !== flow) return false;
          return openResolution(link, true, id);
        }
        const room = RoomId.safeParse(raw);
        if (!room.success) {
          patch({ error: invalid(`That is not a room link or ID: ${room.error.issues[0]?.message ?? 'invalid room ID'}.`) });
          return false;
        }
        const server = current()?.server?.origin;
        if (server == null) {
          patch({ error: invalid('Connect to a server first.') });
          return false;
        }
        return join(++flow, { roomId: room.data, server });
      },

      handleJoinLink(event) {
        get().dismissErrors();
        if (!event.ok) {
          get().notify('error', `This link cannot be opened: ${event.reason}`);
          return;
        }
        // A join the user confirmed before main reloaded the page signs in if needed; others wait for them to.
        void openResolution(event.link, event.confirmed === true);
      },

      async confirmServer() {
        const target = get().room.confirm;
        if (target == null) return false;
        patch({ confirm: null });
        // Main may reload the window once the server is trusted; it then hands this join to the new page.
        return proceed(++flow, target, true);
      },

      cancelServer() {
        patch({ confirm: null });
      },

      joinRoom(roomId) {
        const server = current()?.server?.origin;
        if (server == null) {
          patch({ error: invalid('Connect to a server first.') });
          return Promise.resolve(false);
        }
        return join(++flow, { roomId, server });
      },

      leaveRoom() {
        flow += 1;
        patch(idle);
      },

      createRoom() {
        const server = current()?.server?.origin;
        if (server == null) return null;
        const roomId = generateRoomId(fillRandom);
        const created = { roomId, server, link: formatWebJoinLink({ roomId, server }) };
        patch({ created });
        return created;
      },

      clearRoomError() {
        const { status, error } = get().room;
        if (status === 'failed') patch(idle);
        else if (error != null) patch({ error: null });
      },

      resetRoom() {
        flow += 1;
        patch(initialRoomState);
      },

      roomStateChanged(state) {
        const { status, target, created } = get().room;
        const server = state.server?.origin ?? null;
        // A joined room belongs to the server and the user it was joined with.
        if (status === 'joined' && (target?.server !== server || state.user == null)) {
          flow += 1;
          patch(idle);
        }
        // A sign-in awaited for another server's room no longer leads there.
        if (status === 'awaiting-sign-in' && target?.server !== server) {
          flow += 1;
          patch(idle);
        }
        if (created != null && created.server !== server) patch({ created: null });
      },

      async signInFinished(ok) {
        const { status, target } = get().room;
        if (status !== 'awaiting-sign-in' || target == null) return;
        if (!ok) {
          flow += 1;
          patch(idle);
          return;
        }
        await proceed(++flow, target, false);
      },
    };
  };
}

export const selectRoomTarget = (s: AppState) => s.room.target;
export const selectRoomLimits = (s: AppState) => s.room.limits;
export const selectCreatedRoom = (s: AppState) => s.room.created;
/** The server an unknown-server dialog asks about, or null when none is open. */
export const selectPendingServer = (s: AppState) => s.room.confirm;
export const selectAwaitingSignIn = (s: AppState) => (s.room.status === 'awaiting-sign-in' ? s.room.target : null);
export const selectJoinBusy = (s: AppState) => ['resolving', 'joining'].includes(s.room.status);
