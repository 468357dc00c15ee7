import type { NetworkCheckConfig } from '../../../../shared/ipc/desktopApi.js';
import type { RelayTransport } from '../iceUrl.js';
import type { Clock } from '../timers.js';
import { safeClose, withDeadline } from './deadline.js';
import { RELAY_NAMES, relayTarget, stunTarget } from './targets.js';
import type { NetworkCheckDeps, StepResult } from './types.js';
import { formatMs, maskAddress, seconds } from './words.js';

// The STUN and TURN (UDP, TCP, TLS) probes: one peer connection with one URL each.

function candidateAddress(c: RTCIceCandidate): { address: string | null; port: number | null } {
  if (c.address) return { address: c.address, port: c.port ?? null };
  // candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> …
  const parts = c.candidate.split(' ');
  return { address: parts[4] ?? null, port: parts[5] ? Number(parts[5]) : null };
}

export interface StunResult {
  step: StepResult;
  publicAddress: string | null;
}

export async function checkStun(config: NetworkCheckConfig, clock: Clock, deps: NetworkCheckDeps, timeoutMs: number): Promise<StunResult> {
  const target = stunTarget(config.iceServers);
  if (!target) return { step: { status: 'skipped', verdict: 'Skipped — the server offers no STUN server.' }, publicAddress: null };
  const where = `${target.parsed.host} on UDP ${target.parsed.port}`;
  const started = clock.now();
  let hosts = 0;
  return withDeadline<StunResult>(
    clock,
    timeoutMs,
    () => ({
      step: {
        status: 'failed',
        ms: clock.now() - started,
        blocked: true,
        detail: `${target.url}: no server-reflexive candidate within ${seconds(timeoutMs)}`,
        verdict: `Blocked — no answer from the STUN server (${where}) within ${seconds(timeoutMs)}.`,
      },
      publicAddress: null,
    }),
    (done) => {
      const pc = new deps.RTCPeerConnection({ iceServers: [{ urls: target.url }], iceTransportPolicy: 'all' });
      pc.addEventListener('icecandidate', (event: RTCPeerConnectionIceEvent) => {
        const c = event.candidate;
        if (c === null) {
          // Chromium drops a server-reflexive candidate equal to a host one (no NAT, addresses not
          // hidden): gathering then completes as soon as STUN has answered, with no error.
          if (hosts > 0) {
            done({
              step: {
                status: 'passed',
                ms: clock.now() - started,
                detail: `${target.url}: answered; the address it saw is this computer's own (no NAT)`,
                verdict: 'Works — the STUN server answers; your computer’s address is not translated (no NAT).',
              },
              publicAddress: null,
            });
          }
          return;
        }
        if (c.type === 'host') hosts += 1;
        if (c.type !== 'srflx') return;
        const { address } = candidateAddress(c);
        done({
          step: {
            status: 'passed',
            ms: clock.now() - started,
            detail: `${target.url}: server-reflexive candidate ${address ? maskAddress(address) : '(no address)'}`,
            verdict: `Works — the STUN server sees you as ${address ? maskAddress(address) : 'an address it did not tell'}.`,
          },
          publicAddress: address,
        });
      });
      pc.addEventListener('icecandidateerror', (event: Event) => {
        const e = event as RTCPeerConnectionIceErrorEvent;
        done({
          step: {
            status: 'failed',
            ms: clock.now() - started,
            blocked: e.errorCode === 701,
            detail: `${e.url || target.url}: error ${e.errorCode} ${e.errorText}`.trim(),
            verdict: e.errorCode === 701 ? `Blocked — the STUN server (${where}) cannot be reached.` : `The STUN server answered with error ${e.errorCode}.`,
          },
          publicAddress: null,
        });
      });
      pc.createDataChannel('zr-network-check');
      pc.createOffer()
        .then((offer) => pc.setLocalDescription(offer))
        .catch((err: unknown) =>
          done({ step: { status: 'failed', ms: clock.now() - started, detail: String(err), verdict: 'This app could not start the STUN check.' }, publicAddress: null }),
        );
      return () => safeClose(pc);
    },
    deps.signal,
  );
}

export async function checkRelay(config: NetworkCheckConfig, relay: RelayTransport, clock: Clock, deps: NetworkCheckDeps, timeoutMs: number): Promise<StepResult> {
  const name = RELAY_NAMES[relay];
  const target = relayTarget(config.iceServers, relay);
  if (!target) return { status: 'skipped', verdict: `Skipped — the server offers no TURN over ${name}.` };
  const where = `${target.parsed.host} on ${relay === 'udp' ? 'UDP' : 'TCP'} ${target.parsed.port}`;
  const started = clock.now();
  return withDeadline<StepResult>(
    clock,
    timeoutMs,
    () => ({
      status: 'failed',
      ms: clock.now() - started,
      blocked: true,
      detail: `${target.url}: no relay candidate and no error within ${seconds(timeoutMs)}`,
      verdict: `Blocked — no answer from the TURN server (${where}) within ${seconds(timeoutMs)}.`,
    }),
    (done) => {
      const pc = new deps.RTCPeerConnection({
        iceServers: [{ urls: [target.url], username: target.username ?? '', credential: target.credential ?? '' }],
        iceTransportPolicy: 'relay',
      });
      pc.addEventListener('icecandidate', (event: RTCPeerConnectionIceEvent) => {
        const c = event.candidate;
        if (c === null) {
          done({
            status: 'failed',
            ms: clock.now() - started,
            detail: `${target.url}: gathering completed without a relay candidate`,
            verdict: `The TURN server (${where}) gave no relay address.`,
          });
          return;
        }
        if (c.type !== 'relay') return;
        const { address, port } = candidateAddress(c);
        // Only this one URL was offered, so a relay candidate is this transport's; Chromium reports
        // relayProtocol for TCP and TLS (null for UDP).
        const reported = (c as RTCIceCandidate & { relayProtocol?: string | null }).relayProtocol ?? null;
        done({
          status: 'passed',
          ms: clock.now() - started,
          detail: `${target.url}: relay candidate ${address ?? '?'}:${port ?? '?'}${reported ? ` (relayProtocol ${reported})` : ''}`,
          verdict: `Works — the TURN server relays over ${name} (${formatMs(clock.now() - started)}).`,
        });
      });
      pc.addEventListener('icecandidateerror', (event: Event) => {
        const e = event as RTCPeerConnectionIceErrorEvent;
        const detail = `${e.url || target.url}: error ${e.errorCode} ${e.errorText}`.trim();
        const base = { status: 'failed' as const, ms: clock.now() - started, detail };
        if (e.errorCode === 701) {
          done({
            ...base,
            blocked: true,
            verdict:
              relay === 'tls'
                ? `Blocked — the TLS connection to ${where} failed (blocked, or its certificate was not accepted).`
                : `Blocked — the TURN server (${where}) cannot be reached.`,
          });
        } else if (e.errorCode === 401 || e.errorCode === 403 || e.errorCode === 437 || e.errorCode === 438) {
          done({ ...base, verdict: `The TURN server (${where}) refused this app’s credentials (error ${e.errorCode}).` });
        } else {
          done({ ...base, verdict: `The TURN server (${where}) answered with error ${e.errorCode}.` });
        }
      });
      pc.createDataChannel('zr-network-check');
      pc.createOffer()
        .then((offer) => pc.setLocalDescription(offer))
        .catch((err: unknown) => done({ status: 'failed', ms: clock.now() - started, detail: String(err), verdict: 'This app could not start the TURN check.' }));
      return () => safeClose(pc);
    },
    deps.signal,
  );
}
