/**
 * Bare RTCPeerConnections for harness tests (no app code): each page gets `window.zrPeer`, and the
 * test process carries SDP and trickled candidates between two pages (page.exposeFunction one way,
 * page.evaluate the other), in order per direction.
 */
import type { Page } from '@playwright/test';

export type SignalMessage =
  | { kind: 'description'; description: RTCSessionDescriptionInit }
  | { kind: 'candidate'; candidate: RTCIceCandidateInit };

export interface CandidateSummary {
  type: string | null;
  protocol: string | null;
  relayProtocol: string | null;
  address: string | null;
  port: number | null;
  url: string | null;
  /** ms since the peer connection was created. */
  ms: number;
}

export interface CandidateError {
  errorCode: number;
  errorText: string;
  url: string;
  ms: number;
}

export interface SelectedPair {
  local: { candidateType: string; protocol: string; relayProtocol?: string; address: string; port: number; url?: string };
  remote: { candidateType: string; protocol: string; address: string; port: number };
  dtlsState?: string;
  tlsVersion?: string;
  srtpCipher?: string;
}

export type WaitOutcome =
  | { outcome: 'connected'; ms: number }
  | { outcome: 'relay-candidate'; ms: number }
  | { outcome: 'failed' | 'timeout'; ms: number; connectionState: string; iceGatheringState: string };

export interface BarePeer {
  start(config: RTCConfiguration): Promise<void>;
  /** Creates and sends the offer; the other side answers by itself. */
  offer(): Promise<void>;
  /** Restarts ICE (new credentials, new gathering) and sends the new offer, as the app does when a path fails. */
  restartIce(): Promise<void>;
  connectionState(): RTCPeerConnectionState;
  receive(msg: SignalMessage): Promise<void>;
  /** Resolves on the first of: connected, failed, (if asked) a local relay candidate, or the timeout. */
  wait(opts: { timeoutMs: number; orRelayCandidate?: boolean }): Promise<WaitOutcome>;
  selectedPair(): Promise<SelectedPair | null>;
  /** Resolves with ms since start when the first remote video frame is presented. */
  firstRemoteFrame(timeoutMs: number): Promise<number>;
  candidates(): CandidateSummary[];
  errors(): CandidateError[];
  close(): void;
}

declare global {
  interface Window {
    zrPeer?: BarePeer;
    zrSignal?: (msg: SignalMessage) => Promise<void>;
  }
}

/** Runs in the page (serialized by page.evaluate): refers to nothing outside itself. */
function installBarePeer(): void {
  let pc: RTCPeerConnection | undefined;
  let startedAt = 0;
  let remote: MediaStream | undefined;
  const queued: RTCIceCandidateInit[] = [];
  const local: CandidateSummary[] = [];
  const errors: CandidateError[] = [];
  const since = () => Math.round(performance.now() - startedAt);
  const need = () => {
    if (!pc) throw new Error('start() first');
    return pc;
  };
  const send = (msg: SignalMessage) => window.zrSignal!(msg);

  window.zrPeer = {
    async start(config) {
      // Media permission first: with it Chromium exposes host addresses instead of mDNS names.
      const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
      pc = new RTCPeerConnection(config);
      startedAt = performance.now();
      for (const track of media.getTracks()) pc.addTrack(track, media);
      pc.addEventListener('icecandidate', (e) => {
        if (!e.candidate) return;
        // relayProtocol and url are in Chromium, not yet in TypeScript's DOM types.
        const c = e.candidate as RTCIceCandidate & { relayProtocol?: string | null; url?: string | null };
        local.push({ type: c.type, protocol: c.protocol, relayProtocol: c.relayProtocol ?? null, address: c.address, port: c.port, url: c.url ?? null, ms: since() });
        void send({ kind: 'candidate', candidate: c.toJSON() });
      });
      pc.addEventListener('icecandidateerror', (e) => {
        errors.push({ errorCode: e.errorCode, errorText: e.errorText, url: e.url, ms: since() });
      });
      pc.addEventListener('track', (e) => {
        remote ??= e.streams[0];
      });
    },
    async offer() {
      const p = need();
      await p.setLocalDescription();
      await send({ kind: 'description', description: p.localDescription!.toJSON() as RTCSessionDescriptionInit });
    },
    async restartIce() {
      need().restartIce();
      await this.offer();
    },
    connectionState: () => need().connectionState,
    async receive(msg) {
      const p = need();
      if (msg.kind === 'candidate') {
        if (p.remoteDescription) await p.addIceCandidate(msg.candidate);
        else queued.push(msg.candidate);
        return;
      }
      await p.setRemoteDescription(msg.description);
      for (const c of queued.splice(0)) await p.addIceCandidate(c);
      if (msg.description.type === 'offer') {
        await p.setLocalDescription();
        await send({ kind: 'description', description: p.localDescription!.toJSON() as RTCSessionDescriptionInit });
      }
    },
    wait({ timeoutMs, orRelayCandidate }) {
      const p = need();
      return new Promise<WaitOutcome>((resolve) => {
        const done = (outcome: WaitOutcome) => {
          clearTimeout(timer);
          p.removeEventListener('connectionstatechange', check);
          p.removeEventListener('icecandidate', check);
          resolve(outcome);
        };
        const check = () => {
          if (p.connectionState === 'connected') return done({ outcome: 'connected', ms: since() });
          if (p.connectionState === 'failed') done({ outcome: 'failed', ms: since(), connectionState: p.connectionState, iceGatheringState: p.iceGatheringState });
          if (orRelayCandidate && local.some((c) => c.type === 'relay')) done({ outcome: 'relay-candidate', ms: since() });
        };
        const timer = setTimeout(() => done({ outcome: 'timeout', ms: since(), connectionState: p.connectionState, iceGatheringState: p.iceGatheringState }), timeoutMs);
        p.addEventListener('connectionstatechange', check);
        p.addEventListener('icecandidate', check);
        check();
      });
    },
    async selectedPair() {
      const stats = new Map<string, Record<string, unknown>>();
      (await need().getStats()).forEach((r: Record<string, unknown>) => stats.set(r.id as string, r));
      const transport = [...stats.values()].find((r) => r.type === 'transport' && r.selectedCandidatePairId);
      const pair = transport && stats.get(transport.selectedCandidatePairId as string);
      if (!transport || !pair) return null;
      const l = stats.get(pair.localCandidateId as string) ?? {};
      const r = stats.get(pair.remoteCandidateId as string) ?? {};
      return {
        local: { candidateType: l.candidateType, protocol: l.protocol, relayProtocol: l.relayProtocol, address: l.address, port: l.port, url: l.url },
        remote: { candidateType: r.candidateType, protocol: r.protocol, address: r.address, port: r.port },
        dtlsState: transport.dtlsState,
        tlsVersion: transport.tlsVersion,
        srtpCipher: transport.srtpCipher,
      } as SelectedPair;
    },
    firstRemoteFrame(timeoutMs) {
      return new Promise<number>((resolve, reject) => {
        if (!remote) return reject(new Error('no remote stream'));
        const video = document.createElement('video');
        video.muted = true;
        video.srcObject = remote;
        document.body.append(video);
        const timer = setTimeout(() => reject(new Error(`no remote video frame within ${timeoutMs} ms`)), timeoutMs);
        video.requestVideoFrameCallback(() => (clearTimeout(timer), resolve(since())));
        video.play().catch((err: unknown) => (clearTimeout(timer), reject(err as Error)));
      });
    },
    candidates: () => [...local],
    errors: () => [...errors],
    close() {
      pc?.getSenders().forEach((s) => s.track?.stop());
      pc?.close();
    },
  };
}

/** Installs `window.zrPeer` in both pages and carries their signaling; failures land in the array returned. */
export async function linkBarePeers(a: Page, b: Page): Promise<{ failures: string[] }> {
  const failures: string[] = [];
  const wire = (from: Page, to: Page, label: string) => {
    let chain = Promise.resolve();
    return from.exposeFunction('zrSignal', (msg: SignalMessage) => {
      chain = chain
        .then(() => to.evaluate((m) => window.zrPeer!.receive(m), msg))
        .catch((err: unknown) => {
          if (!to.isClosed()) failures.push(`${label} ${msg.kind}: ${(err as Error).message}`);
        });
    });
  };
  await Promise.all([a.evaluate(installBarePeer), b.evaluate(installBarePeer)]);
  await wire(a, b, 'a→b');
  await wire(b, a, 'b→a');
  return { failures };
}
