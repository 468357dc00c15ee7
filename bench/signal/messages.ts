/**
 * Realistic signaling traffic: Chrome-like SDP offers and answers of 3–8 KB and ICE candidates of
 * about 200 B. Each message carries a 10-digit sequence number where real traffic has a number (the
 * SDP session id, the candidate foundation), so the receiver can time it without parsing JSON.
 */
import type { Adapter, SignalKind } from './adapters.js';
import { clientFrame } from './rawWs.js';

const SEQ_DIGITS = 10;
const SDP_MARK = Buffer.from('o=- ');
const CANDIDATE_MARK = Buffer.from('candidate:');

function sdp(kind: 'offer' | 'answer', targetBytes: number, salt: number): string {
  const lines = [
    'v=0',
    `o=- ${'0'.repeat(SEQ_DIGITS)} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS 5f2c1c9e-0b7e-4c43-9d5e-7a1d3f0e6c21',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${(salt % 65536).toString(16).padStart(4, '0')}`,
    'a=ice-pwd:0c8mQk3Yq6T2dH1wB9rZ5vXn',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 4B:2E:9A:7F:11:C3:5D:80:E2:6B:94:0F:3A:D1:78:5C:B6:29:E0:4D:83:1F:AA:67:C9:02:5E:B8:3D:71:F4:96',
    `a=setup:${kind === 'offer' ? 'actpass' : 'active'}`,
    'a=mid:0',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=sendrecv',
    'a=msid:5f2c1c9e-0b7e-4c43-9d5e-7a1d3f0e6c21 0d6f3b52-8c1a-4f7e-b2d4-9e6a1c3f5b80',
    'a=rtcp-mux',
    'a=rtcp-rsize',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    'a=ssrc:3735928559 cname:q4dZb6Hh0oP1Wm2x',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 45 46 35 36 102 103',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=mid:1',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtcp-rsize',
  ];
  // Chrome lists many video codecs, each with rtcp-fb and fmtp lines: that is what makes SDPs large.
  for (let pt = 96; lines.join('\r\n').length < targetBytes - 120; pt++) {
    lines.push(
      `a=rtpmap:${pt} ${pt % 2 ? 'rtx' : pt % 3 ? 'VP8' : 'H264'}/90000`,
      `a=rtcp-fb:${pt} goog-remb`,
      `a=rtcp-fb:${pt} transport-cc`,
      `a=rtcp-fb:${pt} ccm fir`,
      `a=rtcp-fb:${pt} nack`,
      `a=rtcp-fb:${pt} nack pli`,
      `a=fmtp:${pt} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f;apt=${pt - 1}`,
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

function candidate(salt: number): string {
  return JSON.stringify({
    candidate: `candidate:${'0'.repeat(SEQ_DIGITS)} 1 udp 2122260223 10.${(salt >> 8) & 255}.${salt & 255}.7 ${50000 + (salt % 10000)} typ host generation 0 ufrag ${(salt % 65536).toString(16).padStart(4, '0')} network-id 1`,
    sdpMid: '0',
    sdpMLineIndex: 0,
    usernameFragment: (salt % 65536).toString(16).padStart(4, '0'),
  });
}

/** A prebuilt frame and where its sequence number goes. */
export interface FrameTemplate {
  frame: Buffer;
  seqAt: number;
}

/** One call setup between A and B: offer, answer, then four candidates each way. */
export const CYCLE: ReadonlyArray<{ kind: SignalKind; fromA: boolean }> = [
  { kind: 'offer', fromA: true },
  { kind: 'answer', fromA: false },
  ...Array.from({ length: 4 }, () => ({ kind: 'candidate' as const, fromA: true })),
  ...Array.from({ length: 4 }, () => ({ kind: 'candidate' as const, fromA: false })),
];

export function frameTemplate(adapter: Adapter, to: string, kind: SignalKind, salt: number): FrameTemplate {
  // 3–8 KB SDPs, spread by the salt.
  const body = kind === 'candidate' ? candidate(salt) : JSON.stringify(sdp(kind, 3000 + ((salt * 2654435761) >>> 0) % 5000, salt));
  const frame = clientFrame(Buffer.from(adapter.signal(to, kind, body)));
  const mark = kind === 'candidate' ? CANDIDATE_MARK : SDP_MARK;
  return { frame, seqAt: frame.indexOf(mark) + mark.length };
}

/** A copy of the template with `seq` written in (a queued write keeps its own buffer). */
export function stamp(t: FrameTemplate, seq: number): Buffer {
  const out = Buffer.allocUnsafe(t.frame.length);
  t.frame.copy(out);
  let n = seq;
  for (let i = t.seqAt + SEQ_DIGITS - 1; i >= t.seqAt; i--) {
    out[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return out;
}

function readSeq(payload: Buffer, at: number): number {
  let n = 0;
  for (let i = at; i < at + SEQ_DIGITS; i++) {
    const d = payload[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The sequence number in a relayed message, or -1 for anything else (errors, pongs, joins). */
export function seqOf(payload: Buffer): number {
  let at = payload.indexOf(CANDIDATE_MARK);
  if (at >= 0) return readSeq(payload, at + CANDIDATE_MARK.length);
  at = payload.indexOf(SDP_MARK);
  if (at >= 0) return readSeq(payload, at + SDP_MARK.length);
  return -1;
}
