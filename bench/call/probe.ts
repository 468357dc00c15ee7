/**
 * In-page instrumentation for bench:call, installed as an init script in the app's pages and in the
 * floor page, so both are timed by the same code:
 * - `join-click`: the click on "Join call" (capture phase, before React sees it) — the app's t0;
 * - every RTCPeerConnection: creation, descriptions set, first candidates, ICE and connection state,
 *   and the first remote video frame presented by a `<video>` of its own (requestVideoFrameCallback
 *   on the remote track, created at the `track` event);
 * - `tile-frame`: the first frame the app's own tile presents (a remote track set as srcObject);
 * - WebSocket: opened, join sent, welcome, descriptions and first candidate each way;
 * - desktop bridge calls (page side), to tell the harness's bridge hop apart from the app.
 * Marks are `performance.now()`; `timeOrigin` lets marks of two browsers be compared.
 */

import type { SignalMessage } from '../../test/support/barePeer.js';

export interface Mark {
  name: string;
  /** performance.now() in the page. */
  at: number;
  /** Probe id of the peer connection it concerns. */
  pc?: number;
}

export interface BridgeCall {
  method: string;
  start: number;
  end: number;
}

export interface ProbeDump {
  timeOrigin: number;
  marks: Mark[];
  bridge: BridgeCall[];
}

export interface FloorArgs {
  /** Alice's side (answers), Bob's side (offers; the one timed). */
  configA: RTCConfiguration;
  configB: RTCConfiguration;
  constraints: MediaStreamConstraints;
  timeoutMs: number;
}

export interface FloorResult {
  /** performance.now() just before the two peer connections are created. */
  t0: number;
  /** Probe id of Bob's peer connection. */
  pcB: number;
  outcome: 'ok' | 'timeout';
  path: string | null;
  dump: ProbeDump;
}

export interface Probe {
  reset(): void;
  dump(): ProbeDump;
  mark(name: string, pc?: number): void;
  /** Resolves once a peer connection active at or after `since` (created then, or marked since) has every mark in `names`, or on timeout. */
  waitPc(since: number, names: string[], timeoutMs: number, pc?: number): Promise<boolean>;
  /** "local/remote relayProtocol" of the selected pair, e.g. "relay/host tls". */
  pathOf(pc: RTCPeerConnection): Promise<string | null>;
}

declare global {
  interface Window {
    __zrProbe?: Probe;
    __zrFloor?: (args: FloorArgs) => Promise<FloorResult>;
  }
}

/** Runs in the page before any of its scripts; refers to nothing outside itself. */
function probeMain(): void {
  if (window.__zrProbe) return;
  let marks: Mark[] = [];
  let bridge: BridgeCall[] = [];
  let waiters: (() => void)[] = [];
  const once = new Set<string>();
  const mark = (name: string, pc?: number) => {
    marks.push(pc === undefined ? { name, at: performance.now() } : { name, at: performance.now(), pc });
    for (const w of waiters) w();
  };
  const markOnce = (name: string, pc?: number) => {
    const key = `${name}#${pc ?? ''}`;
    if (once.has(key)) return;
    once.add(key);
    mark(name, pc);
  };

  // t0: the click itself, before the app's handler runs.
  window.addEventListener(
    'click',
    (e) => {
      const button = (e.target as Element | null)?.closest?.('button');
      if (button?.textContent?.trim() === 'Join call') mark('join-click');
    },
    true,
  );

  // The same frame probe for the app and the floor: a small visible <video> per remote video track.
  const pcOfTrack = new Map<string, number>();
  const own = new WeakSet<HTMLMediaElement>();
  const watchFrames = (track: MediaStreamTrack, pc: number) => {
    const video = document.createElement('video');
    own.add(video);
    video.muted = true;
    video.playsInline = true;
    video.style.cssText = 'position:fixed;right:0;bottom:0;width:64px;height:36px;z-index:2147483647;pointer-events:none';
    video.srcObject = new MediaStream([track]);
    document.documentElement.append(video);
    video.requestVideoFrameCallback(() => {
      markOnce('first-frame', pc);
      video.srcObject = null;
      video.remove();
    });
    video.play().catch(() => undefined);
  };

  // The app's own tile: the first remote stream it shows.
  const srcObject = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject')!;
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    ...srcObject,
    set(this: HTMLMediaElement, value: MediaProvider | null) {
      srcObject.set!.call(this, value);
      if (own.has(this) || !(this instanceof HTMLVideoElement) || !(value instanceof MediaStream)) return;
      // Any remote track: the stream may get its video track after it is shown (one track event each).
      const remote = value.getTracks().find((t) => pcOfTrack.has(t.id));
      if (!remote) return;
      const pc = pcOfTrack.get(remote.id)!;
      this.requestVideoFrameCallback(() => markOnce('tile-frame', pc));
    },
  });

  let nextPc = 0;
  const ids = new WeakMap<RTCPeerConnection, number>();
  const NativePc = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePc {
    constructor(config?: RTCConfiguration) {
      super(config);
      const id = nextPc++;
      ids.set(this, id);
      mark('pc-new', id);
      const sld = this.setLocalDescription.bind(this);
      const srd = this.setRemoteDescription.bind(this);
      this.setLocalDescription = async (d?: RTCLocalSessionDescriptionInit) => {
        await sld(d);
        markOnce(`local-${this.localDescription?.type}`, id);
      };
      this.setRemoteDescription = async (d: RTCSessionDescriptionInit) => {
        await srd(d);
        markOnce(`remote-${d.type}`, id);
      };
      this.addEventListener('icecandidate', (e) => {
        if (!e.candidate) return markOnce('gathering-complete', id);
        markOnce('first-candidate', id);
        if (e.candidate.type === 'relay') markOnce('first-relay-candidate', id);
        const c = e.candidate as RTCIceCandidate & { relayProtocol?: string | null };
        markOnce(`candidate:${c.type}:${c.relayProtocol ?? c.protocol}`, id);
      });
      this.addEventListener('icecandidateerror', (e) => {
        const err = e as RTCPeerConnectionIceErrorEvent;
        markOnce(`candidate-error:${err.errorCode}:${err.url}`, id);
      });
      this.addEventListener('iceconnectionstatechange', () => {
        if (this.iceConnectionState === 'checking') markOnce('ice-checking', id);
        if (this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed') markOnce('ice-connected', id);
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected') markOnce('connected', id);
        if (this.connectionState === 'failed') markOnce('failed', id);
      });
      this.addEventListener('track', (e) => {
        pcOfTrack.set(e.track.id, id);
        if (e.track.kind !== 'video') return;
        markOnce('remote-video-track', id);
        watchFrames(e.track, id);
      });
    }
  } as typeof RTCPeerConnection;

  const NativeWs = window.WebSocket;
  const describe = (raw: unknown, dir: 'sent' | 'recv') => {
    if (typeof raw !== 'string') return;
    let msg: { type?: string; data?: { kind?: string; description?: { type?: string } } };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return;
    }
    if (msg.type === 'join' || msg.type === 'welcome' || msg.type === 'peer-joined') return markOnce(`${dir}-${msg.type}`);
    if (msg.type !== 'signal') return;
    if (msg.data?.kind === 'description') markOnce(`${dir}-${msg.data.description?.type}`);
    if (msg.data?.kind === 'candidate') markOnce(`${dir}-first-candidate`);
  };
  window.WebSocket = class extends NativeWs {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      markOnce('ws-new');
      this.addEventListener('open', () => markOnce('ws-open'));
      this.addEventListener('message', (e: MessageEvent) => describe(e.data, 'recv'));
    }
    override send(data: Parameters<WebSocket['send']>[0]): void {
      describe(data, 'sent');
      super.send(data);
    }
  } as typeof WebSocket;

  // The desktop bridge (test harness: Playwright binding into the test process), timed page-side.
  const wrapBridge = () => {
    const w = window as unknown as { __zrDesktopCall?: ((m: string, a: unknown[]) => Promise<unknown>) & { probed?: true } };
    const original = w.__zrDesktopCall;
    if (!original || original.probed) return;
    const wrapped = async (method: string, args: unknown[]) => {
      const start = performance.now();
      try {
        return await original(method, args);
      } finally {
        bridge.push({ method, start, end: performance.now() });
      }
    };
    w.__zrDesktopCall = Object.assign(wrapped, { probed: true as const });
  };
  wrapBridge();
  document.addEventListener('DOMContentLoaded', wrapBridge);

  const has = (pc: number, names: string[]) => names.every((n) => marks.some((m) => m.pc === pc && m.name === n));
  window.__zrProbe = {
    reset() {
      marks = [];
      bridge = [];
      once.clear();
      wrapBridge();
    },
    dump: () => ({ timeOrigin: performance.timeOrigin, marks: [...marks], bridge: [...bridge] }),
    mark,
    waitPc(since, names, timeoutMs, pc) {
      return new Promise<boolean>((resolve) => {
        const check = () => {
          // The app's first connection may be made before the click (on the pre-join screen) and used after it.
          const candidates = new Set(marks.filter((m) => m.pc !== undefined && m.at >= since && (pc === undefined || m.pc === pc)).map((m) => m.pc!));
          if (![...candidates].some((id) => has(id, names))) return;
          finish(true);
        };
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          resolve(ok);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        waiters.push(check);
        check();
      });
    },
    async pathOf(pc) {
      const byId = new Map<string, Record<string, unknown>>();
      (await pc.getStats()).forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
      const transport = [...byId.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const pair = transport && byId.get(transport.selectedCandidatePairId as string);
      if (!pair) return null;
      const local = byId.get(pair.localCandidateId as string);
      const remote = byId.get(pair.remoteCandidateId as string);
      const relay = local?.candidateType === 'relay' ? ` ${String(local.relayProtocol)}` : '';
      return `${String(local?.candidateType)}/${String(remote?.candidateType)}${relay}`;
    },
  };

  /**
   * The floor: two bare peer connections in this page exchanging descriptions and candidates
   * directly (no signaling), Bob offering as in the app, media opened before t0.
   */
  let floorMedia: MediaStream | null = null;
  window.__zrFloor = async ({ configA, configB, constraints, timeoutMs }) => {
    floorMedia ??= await navigator.mediaDevices.getUserMedia(constraints);
    const media = floorMedia;
    window.__zrProbe!.reset();
    const t0 = performance.now();
    const a = new RTCPeerConnection(configA);
    const b = new RTCPeerConnection(configB);
    const pcB = ids.get(b)!;
    for (const track of media.getTracks()) {
      a.addTrack(track, media);
      b.addTrack(track, media);
    }
    // Candidates wait for the remote description they belong to, as in the app.
    const wire = (from: RTCPeerConnection, to: RTCPeerConnection) => {
      const held: RTCIceCandidate[] = [];
      from.addEventListener('icecandidate', (e) => {
        if (!e.candidate) return;
        if (to.remoteDescription) void to.addIceCandidate(e.candidate).catch(() => undefined);
        else held.push(e.candidate);
      });
      return () => held.splice(0).forEach((c) => void to.addIceCandidate(c).catch(() => undefined));
    };
    const flushToA = wire(b, a);
    const flushToB = wire(a, b);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription!);
    flushToA();
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription!);
    flushToB();
    const ok = await window.__zrProbe!.waitPc(t0, ['connected', 'first-frame'], timeoutMs, pcB);
    const path = ok ? await window.__zrProbe!.pathOf(b) : null;
    a.close();
    b.close();
    return { t0, pcB, outcome: ok ? 'ok' : 'timeout', path, dump: window.__zrProbe!.dump() };
  };
}

/** One side of the two-page floor: the harness carries its messages (the bare-peer harness's) to the other page. */
export type FloorMessage = SignalMessage;

export interface FloorPeer {
  /** Opens the camera (before t0, as the app's pre-join does). */
  prepare(constraints: MediaStreamConstraints): Promise<void>;
  /** Creates the peer connection; returns t0 (just before) and its probe id. */
  start(config: RTCConfiguration): { t0: number; pc: number };
  offer(): Promise<void>;
  receive(msg: FloorMessage): Promise<void>;
  /** Connected and a first frame, or the timeout; then the selected path. */
  wait(timeoutMs: number): Promise<{ ok: boolean; path: string | null }>;
  close(): void;
}

declare global {
  interface Window {
    __zrFloorPeer?: FloorPeer;
    __zrFloorSend?: (msg: FloorMessage) => Promise<void>;
  }
}

/** Runs in the page after probeMain; refers to nothing outside itself. */
function floorPeerMain(): void {
  let media: MediaStream | null = null;
  let pc: RTCPeerConnection | null = null;
  let t0 = 0;
  let id = -1;
  const held: RTCIceCandidateInit[] = [];
  const send = (msg: FloorMessage) => void window.__zrFloorSend!(msg);
  window.__zrFloorPeer = {
    async prepare(constraints) {
      media ??= await navigator.mediaDevices.getUserMedia(constraints);
    },
    start(config) {
      window.__zrProbe!.reset();
      held.length = 0;
      t0 = performance.now();
      const p = new RTCPeerConnection(config);
      pc = p;
      id = window.__zrProbe!.dump().marks.find((m) => m.name === 'pc-new' && m.at >= t0)!.pc!;
      for (const track of media!.getTracks()) p.addTrack(track, media!);
      p.addEventListener('icecandidate', (e) => {
        if (e.candidate) send({ kind: 'candidate', candidate: e.candidate.toJSON() });
      });
      return { t0, pc: id };
    },
    async offer() {
      await pc!.setLocalDescription();
      send({ kind: 'description', description: pc!.localDescription!.toJSON() as RTCSessionDescriptionInit });
    },
    async receive(msg) {
      const p = pc!;
      if (msg.kind === 'candidate') {
        if (p.remoteDescription) await p.addIceCandidate(msg.candidate).catch(() => undefined);
        else held.push(msg.candidate);
        return;
      }
      await p.setRemoteDescription(msg.description);
      for (const c of held.splice(0)) await p.addIceCandidate(c).catch(() => undefined);
      if (msg.description.type === 'offer') {
        await p.setLocalDescription();
        send({ kind: 'description', description: p.localDescription!.toJSON() as RTCSessionDescriptionInit });
      }
    },
    async wait(timeoutMs) {
      const ok = await window.__zrProbe!.waitPc(t0, ['connected', 'first-frame'], timeoutMs, id);
      return { ok, path: ok ? await window.__zrProbe!.pathOf(pc!) : null };
    },
    close() {
      pc?.close();
      pc = null;
    },
  };
}

/**
 * The init script's source. tsx (esbuild keepNames) wraps inner functions in `__name(...)`, which
 * does not exist in the page: a no-op stands in for it.
 */
export const PROBE_SCRIPT = `(() => { const __name = (f) => f; (${probeMain.toString()})(); })();`;
export const FLOOR_PEER_SCRIPT = `(() => { const __name = (f) => f; (${floorPeerMain.toString()})(); })();`;
