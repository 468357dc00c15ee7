import type { JoinLinkEvent } from '../../shared/ipc/desktopApi.js';
import { formatJoinLink, parseJoinLink, type JoinLink, type LinkRules } from '../../shared/links.js';
import { JoinLinkInbox } from './JoinLinkInbox.js';

/** A link as the OS handed it over (or as main put it back for a page that reloads). */
export interface IncomingLink {
  raw: string;
  /** The user already confirmed this link's server and asked to join. */
  confirmed?: boolean;
}

export interface JoinLinkHandoverDeps {
  rules: LinkRules;
  /** Whether the user trusts this server (origin) by now. */
  isKnown: (origin: string) => boolean;
  /** Sends a link to the page that reads them; false when it could not (the link is then held). */
  send: (event: JoinLinkEvent) => boolean;
  /** Where links wait; main creates it before `ready` (macOS open-url comes early). */
  inbox?: JoinLinkInbox<IncomingLink>;
}

/**
 * Join links between the OS and the page: they wait in the inbox, are resolved when the page gets
 * them (so "known server" is as of then), and a join the user confirmed survives the reload main
 * does for the new server's CSP. The page shows a link to a server not yet trusted in a dialog; when
 * the user then connects to that server to join that room, main keeps the link until the page joins
 * or goes away, and hands it to the next page marked as confirmed if it went away first.
 */
export class JoinLinkHandover {
  readonly #deps: JoinLinkHandoverDeps;
  readonly #inbox: JoinLinkInbox<IncomingLink>;
  #offered: JoinLink | null = null;
  #confirmed: JoinLink | null = null;

  constructor(deps: JoinLinkHandoverDeps) {
    this.#deps = deps;
    this.#inbox = deps.inbox ?? new JoinLinkInbox<IncomingLink>();
    this.#inbox.connect((item) => deps.send(this.#resolve(item)));
  }

  /** A link from the OS (argv, second instance, open-url). */
  incoming(raw: string): void {
    this.#inbox.push({ raw });
  }

  /** The page listens now: the links held for it, oldest first. */
  take(): JoinLinkEvent[] {
    return this.#inbox.take().map((item) => this.#resolve(item));
  }

  /**
   * The app connected to `origin`. Only a connect made to join the offered link's room confirms it
   * ("Connect and join"); the same server typed by hand after a Cancel joins nothing.
   */
  serverConnected(origin: string, forRoom?: string): void {
    const offered = this.#offered;
    this.#confirmed = offered && offered.server === origin && offered.roomId === forRoom ? offered : null;
    this.#offered = null;
  }

  /** The page is joining a room: a confirmed link has been carried out. */
  joining(): void {
    this.#confirmed = null;
  }

  /** The page is going away (closed, crashed, reloading): a confirmed join not yet made waits for the next one. */
  pageLeaving(): void {
    this.#inbox.pageLeaving();
    if (this.#confirmed) this.#inbox.push({ raw: formatJoinLink(this.#confirmed), confirmed: true });
    this.#confirmed = null;
    this.#offered = null; // its dialog goes with the page
  }

  pageCommitted(): void {
    this.#inbox.pageCommitted();
  }

  get pageIsLeaving(): boolean {
    return this.#inbox.pageIsLeaving;
  }

  #resolve({ raw, confirmed }: IncomingLink): JoinLinkEvent {
    const parsed = parseJoinLink(raw, this.#deps.rules);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    const knownServer = this.#deps.isKnown(parsed.link.server);
    if (!knownServer) this.#offered = parsed.link;
    return { ok: true, link: { ...parsed.link, knownServer }, ...(confirmed ? { confirmed: true } : {}) };
  }
}
