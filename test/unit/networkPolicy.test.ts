import { describe, expect, it } from 'vitest';
import type { IceServer } from '../../shared/protocol/index.js';
import {
  NETWORK_POLICY_LABELS,
  RESTRICTIVE_MESSAGE,
  RestrictiveNetworkDetector,
  parseIceUrl,
  rtcConfigurationFor,
} from '../../renderer/src/call/networkPolicy.js';
import { classifyPath as classifySelected, encryptionLabel, selectedPair, type StatsReportLike } from '../../renderer/src/call/stats/path.js';
import { reduceStats } from '../../renderer/src/call/stats/statsReducer.js';
import { FakeClock } from '../support/fakeClock.js';

const classifyPath = (report: StatsReportLike) => classifySelected(selectedPair(report));

const STUN = 'stun:turn.example.com:3478';
const TURN_UDP = 'turn:turn.example.com:3478?transport=udp';
const TURN_TCP = 'turn:turn.example.com:3478?transport=tcp';
const TURNS_443 = 'turns:turn.example.com:443?transport=tcp';
const URLS = [STUN, TURN_UDP, TURN_TCP, TURNS_443];

const SERVERS: IceServer[] = [
  { urls: STUN },
  { urls: [TURN_UDP, TURN_TCP, TURNS_443], username: '1700000000:sid', credential: 'secret-a' },
  { urls: 'turn:backup.example.com:3478', username: 'backup-user', credential: 'secret-b' },
];

describe('rtcConfigurationFor', () => {
  it('names the policies exactly', () => {
    expect(NETWORK_POLICY_LABELS).toEqual({ auto: 'Auto', relay: 'Always relay', 'relay-tls': 'Relay over TLS 443 only' });
  });

  it('auto: every server, all transports, no pooled candidates', () => {
    expect(rtcConfigurationFor('auto', SERVERS)).toEqual({
      ok: true,
      config: { iceServers: SERVERS, iceTransportPolicy: 'all', iceCandidatePoolSize: 0 },
    });
  });

  it('relay: every TURN URL with its own credentials, no STUN', () => {
    expect(rtcConfigurationFor('relay', SERVERS)).toEqual({
      ok: true,
      config: {
        iceServers: [
          { urls: [TURN_UDP, TURN_TCP, TURNS_443], username: '1700000000:sid', credential: 'secret-a' },
          { urls: ['turn:backup.example.com:3478'], username: 'backup-user', credential: 'secret-b' },
        ],
        iceTransportPolicy: 'relay',
        iceCandidatePoolSize: 0,
      },
    });
  });

  it('relay-tls: only turns: URLs', () => {
    expect(rtcConfigurationFor('relay-tls', SERVERS)).toEqual({
      ok: true,
      config: {
        iceServers: [{ urls: [TURNS_443], username: '1700000000:sid', credential: 'secret-a' }],
        iceTransportPolicy: 'relay',
        iceCandidatePoolSize: 0,
      },
    });
  });

  it('explains instead of building a configuration that can never connect', () => {
    const noTls = rtcConfigurationFor('relay-tls', [SERVERS[0]!, SERVERS[2]!]);
    expect(noTls.ok).toBe(false);
    expect(!noTls.ok && noTls.error).toMatch(/Relay over TLS 443 only.*turns:/);
    const stunOnly = rtcConfigurationFor('relay', [SERVERS[0]!]);
    expect(!stunOnly.ok && stunOnly.error).toMatch(/Always relay.*TURN/);
  });

  it('parses ICE URLs with default ports', () => {
    expect(parseIceUrl('turns:turn.example.com')).toEqual({ scheme: 'turns', host: 'turn.example.com', port: 5349, relay: 'tls' });
    expect(parseIceUrl('turn:[2001:db8::1]:3478?transport=tcp')).toEqual({ scheme: 'turn', host: '[2001:db8::1]', port: 3478, relay: 'tcp' });
    expect(parseIceUrl('stun:stun.example.com')).toMatchObject({ port: 3478, relay: null });
    expect(parseIceUrl('https://example.com')).toBeNull();
  });
});

type Candidate = Record<string, unknown>;

/** A getStats() report with one transport and its selected pair (or none). */
function report(local: Candidate, remote: Candidate, opts: { selected?: boolean; dtlsState?: string } = {}) {
  const selected = opts.selected ?? true;
  return new Map<string, Record<string, unknown>>([
    [
      'T01',
      {
        type: 'transport',
        dtlsState: opts.dtlsState ?? 'connected',
        srtpCipher: 'SRTP_AES128_CM_HMAC_SHA1_80',
        dtlsCipher: 'TLS_AES_128_GCM_SHA256',
        ...(selected && { selectedCandidatePairId: 'CP1' }),
      },
    ],
    ['CP1', { type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', state: selected ? 'succeeded' : 'in-progress', nominated: selected }],
    ['L1', { type: 'local-candidate', ...local }],
    ['R1', { type: 'remote-candidate', ...remote }],
  ]);
}

const host = { candidateType: 'host', protocol: 'udp', port: 50000 };
const relay = (relayProtocol: string, url: string) => ({ candidateType: 'relay', protocol: 'udp', relayProtocol, url, port: 61000 });

describe('classifyPath', () => {
  it('host to host is direct', () => {
    expect(classifyPath(report(host, host))).toEqual({
      kind: 'direct',
      label: 'Direct',
      localCandidateType: 'host',
      remoteCandidateType: 'host',
      relayProtocol: null,
      url: null,
      port: null,
    });
  });

  it('names the relay transport and the TURN port, not the allocated one', () => {
    expect(classifyPath(report(relay('udp', TURN_UDP), host))).toMatchObject({ kind: 'relay-udp', label: 'Relay UDP', port: 3478, url: TURN_UDP });
    expect(classifyPath(report(relay('tcp', TURN_TCP), host))).toMatchObject({ kind: 'relay-tcp', label: 'Relay TCP', relayProtocol: 'tcp' });
    expect(classifyPath(report(relay('tls', TURNS_443), host))).toMatchObject({ kind: 'relay-tls', label: 'Relay TLS 443', port: 443 });
    expect(classifyPath(report(relay('tls', 'turns:turn.example.com:5349?transport=tcp'), host))).toMatchObject({
      kind: 'relay-tls',
      label: 'Relay TLS',
      port: 5349,
    });
  });

  it('counts a relay on the other side as relayed', () => {
    expect(classifyPath(report(host, { candidateType: 'relay' }))).toMatchObject({ kind: 'relay-udp', label: 'Relay UDP', remoteCandidateType: 'relay' });
  });

  it('says Connecting… without a selected pair', () => {
    expect(classifyPath(report(host, host, { selected: false }))).toMatchObject({ kind: 'unknown', label: 'Connecting…' });
    expect(classifyPath(new Map())).toMatchObject({ kind: 'unknown', label: 'Connecting…' });
  });

  it('falls back to the nominated succeeded pair', () => {
    const stats = report(relay('tls', TURNS_443), host);
    delete stats.get('T01')!.selectedCandidatePairId;
    stats.get('CP1')!.state = 'succeeded';
    stats.get('CP1')!.nominated = true;
    expect(classifyPath(stats).label).toBe('Relay TLS 443');
  });
});

describe('encryptionLabel', () => {
  it('names the SRTP cipher once DTLS is connected, and nothing before', () => {
    // From the selected transport, as the stats sampler reduces it.
    const label = (stats: Parameters<typeof reduceStats>[0]) => encryptionLabel(reduceStats(stats, null, 0).snapshot.transport);
    expect(label(report(host, host))).toBe('Encrypted (DTLS-SRTP, SRTP_AES128_CM_HMAC_SHA1_80)');
    expect(label(report(host, host, { dtlsState: 'connecting' }))).toBeNull();
    expect(label(new Map())).toBeNull();
    expect(encryptionLabel({ dtlsState: 'connected', srtpCipher: null })).toBe('Encrypted (DTLS)');
  });
});

describe('RestrictiveNetworkDetector', () => {
  function detector() {
    const clock = new FakeClock();
    const d = new RestrictiveNetworkDetector({ urls: URLS, now: clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
    return { clock, d };
  }
  const tlsRelay = { type: 'relay', protocol: 'udp', relayProtocol: 'tls', url: TURNS_443 };

  it('a srflx candidate means an ordinary network', async () => {
    const { clock, d } = detector();
    clock.advance(20);
    d.onCandidate({ type: 'host', protocol: 'udp' });
    expect(d.verdict).toBeNull();
    clock.advance(10);
    d.onCandidate({ type: 'srflx', protocol: 'udp', url: STUN });
    expect(await d.decided).toMatchObject({ restrictive: false, blocked: false, message: null, evidence: { decidedBy: 'open-path', decidedAtMs: 30, srflx: 1 } });
    d.onCandidate(tlsRelay);
    expect(d.verdict!.restrictive).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('a UDP relay candidate also means UDP gets out', () => {
    const { d } = detector();
    d.onCandidate({ type: 'relay', protocol: 'udp', relayProtocol: 'udp', url: TURN_UDP });
    expect(d.verdict).toMatchObject({ restrictive: false, blocked: false });
  });

  it('only a TLS relay within the window after it: restrictive', async () => {
    const { clock, d } = detector();
    clock.advance(70);
    d.onCandidate(tlsRelay);
    clock.advance(1_499);
    expect(d.verdict).toBeNull();
    clock.advance(1);
    const verdict = await d.decided;
    expect(verdict).toMatchObject({ restrictive: true, blocked: false, message: RESTRICTIVE_MESSAGE });
    expect(verdict.evidence).toMatchObject({ firstTlsRelayAtMs: 70, relayTls: 1, srflx: 0, decidedBy: 'tls-window', decidedAtMs: 1_570 });
    expect(RESTRICTIVE_MESSAGE).toBe('This network blocks UDP — calls go through TURN over TLS 443');
  });

  it('a late TLS relay is judged at the overall deadline', () => {
    const { clock, d } = detector();
    clock.advance(2_500);
    d.onCandidate(tlsRelay);
    clock.advance(500);
    expect(d.verdict).toMatchObject({ restrictive: true, evidence: { decidedBy: 'overall-window', decidedAtMs: 3_000 } });
  });

  it('nothing at all in 3 s: blocked, saying what was tried', () => {
    const { clock, d } = detector();
    d.onCandidate({ type: 'host', protocol: 'udp' });
    clock.advance(2_999);
    expect(d.verdict).toBeNull();
    clock.advance(1);
    const verdict = d.verdict!;
    expect(verdict).toMatchObject({ blocked: true, restrictive: false, evidence: { decidedBy: 'overall-window' } });
    expect(verdict.message).toContain('UDP 3478, TCP 3478, TLS 443');
    expect(verdict.message).toContain('turn.example.com:443');
  });

  it('a 701 from the UDP server plus a TLS relay: restrictive', () => {
    const { clock, d } = detector();
    clock.advance(50);
    d.onCandidateError({ errorCode: 701, url: TURN_UDP });
    clock.advance(20);
    d.onCandidate(tlsRelay);
    clock.advance(1_500);
    expect(d.verdict).toMatchObject({ restrictive: true, evidence: { errors: [{ url: TURN_UDP, errorCode: 701, atMs: 50 }] } });
  });

  it('decides at once when every other server reported 701', () => {
    const { clock, d } = detector();
    for (const url of [STUN, TURN_UDP, TURN_TCP]) d.onCandidateError({ errorCode: 701, url });
    clock.advance(70);
    d.onCandidate(tlsRelay);
    expect(d.verdict).toMatchObject({ restrictive: true, evidence: { decidedBy: 'others-unreachable', decidedAtMs: 70 } });
    expect(clock.pending).toBe(0);
  });

  it('gathering complete with nothing: blocked at once', () => {
    const { d } = detector();
    d.onGatheringComplete();
    expect(d.verdict).toMatchObject({ blocked: true, evidence: { decidedBy: 'gathering-complete', gatheringComplete: true } });
  });
});
