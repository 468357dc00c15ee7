import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type SignalData } from '../../shared/protocol/index.js';
import { SignalingHarness, TestSocket } from '../support/signalingHarness.js';

// Limits of the signaling hub with its default sizes: what one sender may push at others, and what
// a socket that has not joined gets.

const offer = (sdpBytes: number): SignalData => ({ kind: 'description', description: { type: 'offer', sdp: 'v=0\r\n'.padEnd(sdpBytes, 'a') } });
const candidate = (i: number): SignalData => ({
  kind: 'candidate',
  candidate: { candidate: `candidate:${i} 1 udp 2122260223 10.1.2.${i} 5${String(i).padStart(4, '0')} typ host generation 0 ufrag abcd network-id 1`, sdpMid: '0', sdpMLineIndex: 0 },
});

describe('signaling hub limits (defaults)', () => {
  let h: SignalingHarness;
  beforeAll(async () => {
    // Only the per-user join rate is raised, so one test can fill a room of 16.
    h = await SignalingHarness.start({ rooms: { maxPeers: 16 }, limits: { joinBurst: 500 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers no ping before join: a non-fatal not-joined, and pong once joined', async () => {
    const joined = await h.join('ping-room', 'alice');
    const s = await TestSocket.open(`${h.baseUrl.replace('http', 'ws')}/v1/signal`);
    try {
      s.send({ type: 'ping', id: 7 });
      expect(await s.next('error')).toMatchObject({ code: 'not-joined', fatal: false });
      s.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: joined.roomToken });
      await s.next('welcome');
      await s.ping(8);
      expect(s.pending().filter((m) => m.type === 'pong')).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('stops a sender flooding big messages before the receiver\'s send queue fills; the receiver stays', async () => {
    const flooder = await h.connect('flood-room', 'alice');
    const receiver = await h.connect('flood-room', 'bob');
    await flooder.socket.next('peer-joined');
    // The receiver reads nothing for now, as a member on a slow link would.
    const raw = (receiver.socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const big = offer(60_000);
    // 150 messages of 60 KB: within the message-rate limits, 9 MB in all.
    for (let i = 0; i < 150; i++) flooder.socket.send({ type: 'signal', to: receiver.welcome.self.peerId, data: big });
    expect(await flooder.socket.next('error', (m) => m.code === 'rate-limited')).toMatchObject({ fatal: false });
    await flooder.socket.ping(); // every flood message has been handled

    raw.resume();
    await receiver.socket.ping();
    const delivered = receiver.socket.pending().filter((m) => m.type === 'signal').length;
    expect(delivered).toBeGreaterThan(0);
    expect(delivered * 60_000).toBeLessThan(1024 * 1024);
    expect(receiver.socket.pending().filter((m) => m.type === 'error')).toEqual([]);
    const metrics = await (await fetch(`${h.metricsUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/zerorange_rejections_total\{reason="slow-consumer"\}/);
    flooder.socket.close();
    receiver.socket.close();
  });

  it('leaves the traffic of a join into a full room of 16 alone', async () => {
    const users = ['alice', 'bob', 'carol'] as const;
    const members = [];
    for (let i = 0; i < 15; i++) members.push(await h.connect('full-room', users[i % 3]!, { clientId: `call-member-${String(i).padStart(6, '0')}` }));
    const joiner = await h.connect('full-room', 'carol', { clientId: 'call-joiner-000000' });
    expect(joiner.welcome.peers).toHaveLength(15);
    // The newcomer offers to everyone (SDP of 8 KB) and trickles 10 candidates each; everyone answers alike.
    for (const m of members) {
      joiner.socket.send({ type: 'signal', to: m.welcome.self.peerId, data: offer(8000) });
      for (let c = 0; c < 10; c++) joiner.socket.send({ type: 'signal', to: m.welcome.self.peerId, data: candidate(c) });
    }
    for (const m of members) {
      for (let k = 0; k < 11; k++) await m.socket.next('signal', (s) => s.from === joiner.welcome.self.peerId);
      m.socket.send({ type: 'signal', to: joiner.welcome.self.peerId, data: offer(8000) });
      for (let c = 0; c < 10; c++) m.socket.send({ type: 'signal', to: joiner.welcome.self.peerId, data: candidate(c) });
    }
    for (let k = 0; k < 15 * 11; k++) await joiner.socket.next('signal');
    for (const s of [joiner, ...members]) {
      expect(s.socket.pending().filter((m) => m.type === 'error')).toEqual([]);
      s.socket.close();
    }
    // Sixteen joins in series and 330 relayed messages: nothing here is timed, so allow a loaded machine.
  }, 30_000);
});
