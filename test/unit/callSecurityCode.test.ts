import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IceServer, PeerInfo } from '../../shared/protocol/index.js';
import { CallSession, type MediaSource } from '../../renderer/src/call/CallSession.js';
import { meshSecurityCode } from '../../renderer/src/call/e2ee/securityCode.js';
import { CallEvent, type PeerView } from '../../renderer/src/call/events.js';
import type { SignalClient } from '../../renderer/src/call/SignalClient.js';
import { SignalEvent } from '../../renderer/src/call/signalTypes.js';
import { FakePc, FakeSignal } from '../support/fakeCall.js';

// The mesh security code, from the peer link's fingerprints to the peer's view the session reports.

const ICE: IceServer[] = [{ urls: 'stun:turn.example.com:3478' }];
const ME: PeerInfo = { peerId: 'aaaa-me', name: 'Alice' };
const BOB: PeerInfo = { peerId: 'bbbb-bob', name: 'Bob' };
const hex = (byte: string) => Array(32).fill(byte).join(':');
const withFingerprint = (sdp: string | undefined, byte: string) => `${sdp ?? ''}a=fingerprint:sha-256 ${hex(byte)}\r\n`;
const offerFrom = (session: string, byte: string) => ({ kind: 'description' as const, description: { type: 'offer' as const, sdp: withFingerprint(`v=0\r\no=- ${session} 1 IN IP4 127.0.0.1\r\n`, byte) } });

let signal: FakeSignal;
let session: CallSession;
/** Bob's view as the session last reported it. */
let bob: PeerView | undefined;

/** Connects the newest fake connection, with our own fingerprint in its local description. */
async function connect(ownByte: string): Promise<FakePc> {
  await vi.advanceTimersByTimeAsync(0);
  const pc = FakePc.all.at(-1)!;
  pc.localDescription = { ...pc.localDescription!, sdp: withFingerprint(pc.localDescription!.sdp, ownByte) };
  pc.become('connected');
  await vi.waitFor(() => expect(bob?.securityCode).not.toBeNull());
  return pc;
}

const bobView = () => bob!;

beforeEach(async () => {
  vi.useFakeTimers();
  [FakePc.all, signal, bob] = [[], new FakeSignal(), undefined];
  const media = { tracks: () => [], stream: {}, flags: { audio: true, video: true, screen: false } } as unknown as MediaSource;
  session = new CallSession({ signal: signal as unknown as SignalClient, media, RTCPeerConnection: FakePc as unknown as typeof RTCPeerConnection, policy: 'auto', rememberNetwork: () => undefined });
  session.on(CallEvent.PeerUpdated, (view) => {
    if (view.peerId === BOB.peerId) bob = view;
  });
  await session.start();
  signal.emit(SignalEvent.Welcome, { room: 'r', self: ME, peers: [], roomSizeLimit: 8, iceServers: ICE, iceServersExpireAt: '2030-01-01T00:00:00Z', reconnected: false, previousSelfId: null });
  signal.emit(SignalEvent.PeerJoined, BOB);
  signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('111', 'BB') });
});

afterEach(() => {
  session.leave();
  vi.useRealTimers();
});

describe('CallSession: the security code on a peer’s tile', () => {
  it('appears once connected, and is the code Bob computes from the same two fingerprints', async () => {
    expect(bobView().securityCode).toBeNull();
    await connect('AA');
    const bobSide = await meshSecurityCode([`sha-256 ${'BB'.repeat(32)}`], [`sha-256 ${'AA'.repeat(32)}`]);
    expect(bobView().securityCode).toEqual({ ...bobSide, changed: false });
  });

  it('stays the same through a reconnect of the same connection', async () => {
    const pc = await connect('AA');
    const first = bobView().securityCode;
    pc.become('disconnected');
    pc.become('connected');
    await vi.advanceTimersByTimeAsync(0);
    expect(bobView().securityCode).toBe(first);
  });

  it('changes, and says so, when Bob comes back on a new connection with another certificate', async () => {
    await connect('AA');
    const first = bobView().securityCode!;
    signal.emit(SignalEvent.PeerJoined, BOB);
    signal.emit(SignalEvent.Signal, { from: BOB.peerId, data: offerFrom('222', 'CC') });
    await vi.advanceTimersByTimeAsync(0);
    FakePc.all.at(-1)!.localDescription!.sdp = withFingerprint(FakePc.all.at(-1)!.localDescription!.sdp, 'AA');
    FakePc.all.at(-1)!.become('connected');
    await vi.waitFor(() => expect(bobView().securityCode?.changed).toBe(true));
    expect(bobView().securityCode!.emoji).not.toEqual(first.emoji);
  });
});
