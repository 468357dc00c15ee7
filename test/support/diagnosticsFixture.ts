import type { DiagnosticsDocument } from '../../shared/diagnostics/document.js';

/**
 * A realistic diagnostics document with secrets planted everywhere a careless producer could leave
 * them: SDP, candidate strings, stats entries, the network check, free-text timeline details.
 */

export const SECRETS = {
  turnUsername: '1767225600:k3Yq9ZpeerX',
  turnCredential: 'tUrNcReD+/9zQw8=',
  jwt: 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvb20iOiJhYmMifQ.MEUCIQDsig_-abcXYZ',
  roomToken: 'rt_9f8e7d6c5b4a3210',
  accessToken: 'at-QWERTY1234567890',
  refreshToken: 'rf-ZXCVBN0987654321',
  password: 'hunter2-correct-horse',
  ufrag: 'UfRgZ9xq',
  remoteUfrag: 'RmTuFrG7',
  icePwd: 'PwDsecret0123456789abcdef',
  fingerprint: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
  certificate: 'MIIBszCCAVmgAwIBAgIJAKsecretCERT',
} as const;

export const ADDRESSES = {
  host: '10.77.0.12',
  srflx: '203.0.113.7',
  relay: '198.51.100.20',
  v6: '2001:db8:85a3::8a2e:370:7334',
} as const;

const PEER = 'peer-alice-0001';
const S = SECRETS;
const A = ADDRESSES;

const sdp = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  `c=IN IP4 ${A.srflx}`,
  `a=ice-ufrag:${S.ufrag}`,
  `a=ice-pwd:${S.icePwd}`,
  'a=ice-options:trickle',
  `a=fingerprint:sha-256 ${S.fingerprint}`,
  'a=setup:actpass',
  `a=candidate:842163049 1 udp 1677729535 ${A.srflx} 54321 typ srflx raddr ${A.host} rport 50000 generation 0 ufrag ${S.ufrag} network-id 1`,
  '',
].join('\r\n');

function snapshot(i: number): Record<string, unknown> {
  return {
    T01: { type: 'transport', id: 'T01', iceLocalUsernameFragment: S.ufrag, dtlsState: 'connected', selectedCandidatePairId: 'CP1', bytesSent: 1000 * i },
    CP1: {
      type: 'candidate-pair',
      id: 'CP1',
      state: 'succeeded',
      nominated: true,
      currentRoundTripTime: 0.02 + i * 0.001,
      availableOutgoingBitrate: 1_500_000,
      bytesSent: 50_000 * i,
      bytesReceived: 60_000 * i,
    },
    IL1: { type: 'local-candidate', id: 'IL1', address: A.host, port: 50000, protocol: 'udp', candidateType: 'host', usernameFragment: S.ufrag },
    IR1: { type: 'remote-candidate', id: 'IR1', address: A.v6, port: 3478, candidateType: 'srflx', usernameFragment: S.remoteUfrag },
    CF1: { type: 'certificate', id: 'CF1', fingerprint: S.fingerprint, fingerprintAlgorithm: 'sha-256', base64Certificate: S.certificate },
    IT01A: { type: 'inbound-rtp', kind: 'audio', packetsLost: 2 * i, packetsReceived: 100 * i, bytesReceived: 40_000 * i, jitter: 0.003 },
    OT01A: { type: 'outbound-rtp', kind: 'audio', bytesSent: 45_000 * i, packetsSent: 100 * i },
    rttMs: 20 + i,
  };
}

/** The shape the renderer's stats module (renderer/src/call/stats) produces. */
function moduleSnapshot(i: number): Record<string, unknown> {
  const stream = (bitrate: number | null) => ({ bitrate, codec: 'audio/opus' });
  return {
    at: Date.UTC(2025, 0, 31, 12, 0, i * 2),
    path: {
      label: 'Relay (TURN/TLS)',
      kind: 'relay',
      pairId: 'CP9',
      localCandidateType: 'relay',
      remoteCandidateType: 'srflx',
      protocol: 'udp',
      relayProtocol: 'tls',
      turnUrl: `turns:${A.relay}:443?transport=tcp`,
      turnPort: 443,
      localAddress: A.relay,
      localPort: 61000,
      remoteAddress: A.srflx,
      remotePort: 54321,
      candidates: { local: { host: 1, srflx: 0, prflx: 0, relay: 1 }, remote: { host: 0, srflx: 1, prflx: 0, relay: 0 } },
    },
    transport: { iceState: 'connected', dtlsState: 'connected', dtlsRole: 'client', tlsVersion: 'FEFC', dtlsCipher: 'TLS_AES_128_GCM_SHA256', srtpCipher: 'AES_CM_128_HMAC_SHA1_80' },
    quality: {
      rttMs: 80 + i,
      jitterMs: 4,
      lossInPercent: i === 1 ? null : i / 2,
      lossOutPercent: 0,
      availableOutgoingBitrate: 900_000,
      audioIn: { ...stream(i === 1 ? null : 32_000), jitterBufferDelayMs: 40 },
      audioOut: stream(30_000),
      videoIn: { ...stream(null), width: null, height: null, fps: null, framesDropped: null, jitterBufferDelayMs: null },
      videoOut: { ...stream(null), width: null, height: null, fps: null, qualityLimitationReason: null },
    },
  };
}

const at = (seconds: number) => new Date(Date.UTC(2025, 0, 31, 12, 0, seconds)).toISOString();

export function diagnosticsFixture(): DiagnosticsDocument {
  return {
    version: 1,
    generatedAt: at(59),
    app: { name: 'ZeroRange', version: '0.1.0', electron: '45.4.1', chrome: '140.0.7339.133', node: '22.19.0', platform: 'linux', arch: 'x64' },
    settings: { networkPolicy: 'auto', effectivePolicy: 'relay-tls', restrictiveNetwork: true },
    iceServers: ['stun:turn.example.org:3478', 'turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'],
    peers: [
      {
        peerId: PEER,
        displayName: 'Alice <script>alert(1)</script>',
        candidates: {
          local: [
            { id: 'IL1', type: 'host', protocol: 'udp', relayProtocol: null, address: A.host, port: 50000, url: null },
            { id: 'IL2', type: 'relay', protocol: 'udp', relayProtocol: 'tls', address: A.relay, port: 61000, url: 'turns:turn.example.org:443?transport=tcp' },
          ],
          remote: [{ id: 'IR1', type: 'srflx', protocol: 'udp', relayProtocol: null, address: A.v6, port: 3478, url: null }],
        },
        candidatePairs: [
          { id: 'CP1', localCandidateId: 'IL1', remoteCandidateId: 'IR1', state: 'succeeded', nominated: true, currentRoundTripTime: 0.021 },
          { id: 'CP2', localCandidateId: 'IL2', remoteCandidateId: 'IR1', state: 'failed', nominated: false, currentRoundTripTime: null },
        ],
        selectedPairHistory: [{ at: at(3), localType: 'host', remoteType: 'srflx', protocol: 'udp', relayProtocol: null }],
        statsHistory: [1, 2, 3, 4, 5].map((i) => ({ at: at(i * 2), snapshot: snapshot(i) })),
        states: { connection: 'connected', ice: 'connected', iceGathering: 'complete', dtls: 'connected' },
      },
      {
        peerId: 'peer-bob-0002',
        displayName: null,
        candidates: { local: [], remote: [] },
        candidatePairs: [],
        selectedPairHistory: [],
        statsHistory: [1, 2, 3].map((i) => ({ at: at(i * 2), snapshot: moduleSnapshot(i) })),
        states: { connection: 'connecting', ice: 'checking', iceGathering: 'gathering', dtls: null },
      },
    ],
    timeline: [
      { at: at(0), peerId: null, kind: 'join', detail: `POST https://calls.example.org/v1/rooms/abc/join Authorization: Bearer ${S.jwt}` },
      { at: at(1), peerId: PEER, kind: 'setLocalDescription', detail: JSON.stringify({ type: 'offer', sdp }) },
      { at: at(1), peerId: PEER, kind: 'setRemoteDescription', detail: sdp.replace(S.ufrag, S.remoteUfrag) },
      {
        at: at(2),
        peerId: PEER,
        kind: 'icecandidate',
        detail: JSON.stringify({ candidate: `candidate:1 1 udp 2122260223 ${A.v6} 50000 typ host ufrag ${S.ufrag}`, usernameFragment: S.ufrag }),
      },
      { at: at(2), peerId: PEER, kind: 'turn', detail: `allocate with username=${S.turnUsername} credential=${S.turnCredential} on [${A.v6}]:3478` },
      { at: at(4), peerId: null, kind: 'signaling', detail: `wss://calls.example.org/v1/signal?token=${S.roomToken} from ${A.host}:50000` },
      { at: at(5), peerId: null, kind: 'note', detail: `password: ${S.password}; refreshToken=${S.refreshToken}` },
    ],
    networkCheck: {
      at: at(30),
      iceServers: [{ urls: ['turn:turn.example.org:3478?transport=udp'], username: S.turnUsername, credential: S.turnCredential }],
      accessToken: S.accessToken,
      roomToken: S.roomToken,
      results: { udp: 'blocked', turnTls: 'ok', publicAddress: A.srflx, note: `token ${S.jwt}` },
    },
  };
}

export const ALL_SECRETS: string[] = [...Object.values(SECRETS)];
export const ALL_ADDRESSES: string[] = [...Object.values(ADDRESSES)];
