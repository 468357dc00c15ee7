import type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import { parseIceUrl } from './iceUrl.js';

export interface LinkFailureFacts {
  /** The ICE server URLs offered (no credentials). */
  offeredUrls: string[];
  /** The policy the failed link used last, and the call's own. */
  linkPolicy: NetworkPolicy;
  callPolicy: NetworkPolicy;
  candidateErrors: { url: string | null; errorCode: number }[];
}

/** What the app tried and what was blocked, in words a network administrator can act on. */
export function whatWasTried(facts: LinkFailureFacts): string {
  const offered = facts.offeredUrls.map(parseIceUrl).filter((u): u is NonNullable<typeof u> => u !== null);
  const relays = offered.filter((u) => u.relay);
  const tls = relays.find((u) => u.relay === 'tls');
  const host = tls?.host ?? relays[0]?.host ?? offered[0]?.host;
  if (relays.length === 0) {
    return 'Only a direct path was possible: the server offers no TURN relay, so networks that block direct connections cannot be crossed. Ask the server administrator to configure TURN.';
  }
  const tried = [
    ...(facts.linkPolicy === 'auto' || facts.callPolicy === 'auto' ? ['a direct path'] : []),
    ...relays.map((u) => `TURN over ${u.relay!.toUpperCase()} on ${u.port}`),
  ];
  const errors = [...new Set(facts.candidateErrors.map((e) => `${e.url ?? 'a server'} (error ${e.errorCode})`))];
  const blocked = errors.length ? ` Unreachable: ${errors.join(', ')}.` : ' No relay answered in time.';
  return (
    `Tried ${tried.join(', ')} to ${host}.${blocked} ` +
    `Ask your network administrator to allow outgoing TCP ${tls?.port ?? 443} to ${host}.`
  );
}
