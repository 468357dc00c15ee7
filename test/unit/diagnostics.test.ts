import { describe, expect, it } from 'vitest';
import { DiagnosticsDocument, DiagnosticsDocumentArg, MAX_DIAGNOSTICS_CHARS } from '../../shared/diagnostics/document.js';
import { diagnosticsFileName, serializeDiagnostics, type DiagnosticsFormat } from '../../shared/diagnostics/export.js';
import { toHtmlReport } from '../../shared/diagnostics/htmlReport.js';
import { peerSeries } from '../../shared/diagnostics/metrics.js';
import { findSecrets, maskAddresses, redactDiagnostics, redactText } from '../../shared/diagnostics/redact.js';
import { toWebrtcInternalsDump } from '../../shared/diagnostics/webrtcInternals.js';
import { DESKTOP_ARGS } from '../../shared/ipc/desktopApi.js';
import { ADDRESSES, ALL_ADDRESSES, ALL_SECRETS, diagnosticsFixture, SECRETS } from '../support/diagnosticsFixture.js';

const FORMATS: DiagnosticsFormat[] = ['json', 'webrtc-internals', 'html'];

describe('diagnostics document schema', () => {
  it('accepts a realistic document', () => {
    const parsed = DiagnosticsDocument.safeParse(diagnosticsFixture());
    expect(parsed.error?.issues).toBeUndefined();
    expect(DiagnosticsDocumentArg.safeParse(diagnosticsFixture()).success).toBe(true);
  });

  it.each<[string, (doc: Record<string, unknown>) => unknown]>([
    ['another version', (d) => ({ ...d, version: 2 })],
    ['no version', ({ version: _v, ...d }) => d],
    ['a time that is not ISO 8601', (d) => ({ ...d, generatedAt: 'yesterday' })],
    ['an unknown network policy', (d) => ({ ...d, settings: { networkPolicy: 'p2p', effectivePolicy: 'auto', restrictiveNetwork: false } })],
    ['ICE servers as objects', (d) => ({ ...d, iceServers: [{ urls: 'turn:x', credential: 'c' }] })],
    ['a snapshot that is not an object', (d) => ({ ...d, peers: [{ ...(d.peers as object[])[0], statsHistory: [{ at: '2025-01-01T00:00:00Z', snapshot: 'x' }] }] })],
    ['a network check nested too deep', (d) => ({ ...d, networkCheck: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) as unknown })],
    ['a number', () => 42],
    ['null', () => null],
  ])('refuses %s', (_name, mutate) => {
    const doc = mutate(diagnosticsFixture() as unknown as Record<string, unknown>);
    expect(DiagnosticsDocument.safeParse(doc).success).toBe(false);
    expect(DiagnosticsDocumentArg.safeParse(doc).success).toBe(false);
  });

  it('as an IPC argument: refuses cyclic and oversized values before walking them, drops unknown keys', () => {
    const cyclic: Record<string, unknown> = diagnosticsFixture();
    cyclic.self = cyclic;
    expect(DiagnosticsDocumentArg.safeParse(cyclic).success).toBe(false);
    const huge = { ...diagnosticsFixture(), padding: 'x'.repeat(MAX_DIAGNOSTICS_CHARS) };
    expect(DiagnosticsDocumentArg.safeParse(huge).error?.issues[0]?.message).toMatch(/at most 20 MB/);
    const extra = diagnosticsFixture() as unknown as { peers: Record<string, unknown>[] };
    extra.peers[0]!.credential = SECRETS.turnCredential;
    expect(DiagnosticsDocumentArg.parse(extra).peers[0]).not.toHaveProperty('credential');
    const args = DESKTOP_ARGS.saveDiagnostics;
    expect(args.safeParse([diagnosticsFixture(), { format: 'json', includeAddresses: false }]).success).toBe(true);
    expect(args.safeParse([diagnosticsFixture(), { format: 'pdf', includeAddresses: false }]).success).toBe(false);
    expect(args.safeParse([diagnosticsFixture(), { format: 'json' }]).success).toBe(false);
  });
});

describe('redaction', () => {
  it.each([
    ['10.77.0.12', '10.77.x.x'],
    ['srflx 203.0.113.7:54321 ok', 'srflx 203.0.x.x:54321 ok'],
    ['2001:db8:85a3::8a2e:370:7334', '2001:db8:x'],
    ['[2001:db8::1]:3478', '[2001:db8:x]:3478'],
    ['fe80::1%eth0.', 'fe80:0:x.'],
    ['::ffff:192.0.2.1', '::ffff:192.0.x.x'],
    // Not addresses: times, MACs, versions, C++.
    ['2025-01-31T12:00:59.000Z 12:00:59', '2025-01-31T12:00:59.000Z 12:00:59'],
    ['02:00:00:00:00:01 Chrome/140.0.7339.133 std::vector', '02:00:00:00:00:01 Chrome/140.0.7339.133 std::vector'],
  ])('masks addresses: %s', (input, expected) => {
    expect(maskAddresses(input)).toBe(expected);
  });

  it('masks addresses by default, keeps them with includeAddresses, removes secrets either way', () => {
    const doc = diagnosticsFixture();
    const masked = JSON.stringify(redactDiagnostics(doc, { includeAddresses: false }));
    expect(findSecrets(masked, ALL_ADDRESSES)).toEqual([]);
    expect(masked).toContain('10.77.x.x');
    expect(masked).toContain('2001:db8:x');
    expect(JSON.stringify(redactDiagnostics(doc))).toBe(masked);
    const kept = JSON.stringify(redactDiagnostics(doc, { includeAddresses: true }));
    expect(findSecrets(kept, ALL_ADDRESSES)).toEqual(ALL_ADDRESSES);
    for (const text of [masked, kept]) expect(findSecrets(text, ALL_SECRETS)).toEqual([]);
  });

  it('is idempotent, keeps the schema and does not touch its input', () => {
    const doc = diagnosticsFixture();
    const before = structuredClone(doc);
    const once = redactDiagnostics(doc, { includeAddresses: false });
    expect(doc).toEqual(before);
    expect(redactDiagnostics(once, { includeAddresses: false })).toEqual(once);
    expect(DiagnosticsDocument.safeParse(once).success).toBe(true);
    // What is not secret survives.
    expect(once.peers[0]!.states.dtls).toBe('connected');
    expect(once.peers[0]!.statsHistory[0]!.snapshot.CF1).toMatchObject({ fingerprintAlgorithm: 'sha-256', fingerprint: '[redacted]' });
    expect(once.timeline[1]!.detail).toContain('a=setup:actpass');
  });

  it.each([
    ['a=ice-pwd:abcdefghijklmnopqrstuv\r\na=ice-ufrag:wxyz', 'a=ice-pwd:[redacted]\r\na=ice-ufrag:[redacted]'],
    ['{"username":"1700000000:bob","credential":"c2VjcmV0"}', '{"username":"[redacted]","credential":"[redacted]"}'],
    ['{\\"usernameFragment\\":\\"abcd\\"}', '{\\"usernameFragment\\":\\"[redacted]\\"}'],
    ['https://u:p@example.org/?access_token=abc&x=1', 'https://[redacted]@example.org/?access_token=[redacted]&x=1'],
    ['user 1700000000:alice@example.org', 'user [redacted]'],
    ['id_token=eyJa.eyJb.c', 'id_token=[jwt]'],
  ])('removes secrets from text: %s', (input, expected) => {
    expect(redactText(input, { includeAddresses: true })).toBe(expected);
  });

  it('findSecrets finds secrets as written and as JSON or HTML escape them', () => {
    expect(findSecrets('a "b\\"c" &lt;d&gt;', ['b"c', '<d>', 'e', ''])).toEqual(['b"c', '<d>']);
  });
});

describe('exports', () => {
  it.each(FORMATS)('%s: no planted secret survives, addresses only when asked', (format) => {
    const doc = diagnosticsFixture();
    const masked = serializeDiagnostics(doc, { format, includeAddresses: false });
    expect(findSecrets(masked, ALL_SECRETS)).toEqual([]);
    expect(findSecrets(masked, ALL_ADDRESSES)).toEqual([]);
    const kept = serializeDiagnostics(doc, { format, includeAddresses: true });
    expect(findSecrets(kept, ALL_SECRETS)).toEqual([]);
    expect(findSecrets(kept, [ADDRESSES.host])).toEqual([ADDRESSES.host]);
  });

  it('the webrtc-internals dump has peer connections, an update log and stats series', () => {
    const doc = redactDiagnostics(diagnosticsFixture());
    const dump = toWebrtcInternalsDump(doc);
    expect(dump.getUserMedia).toEqual([]);
    expect(dump.UserAgent).toMatch(/Chrome\/140\.0\.7339\.133 Electron\/45\.4\.1/);
    const pc = dump.PeerConnections['peer-alice-0001']!;
    expect(pc).toMatchObject({ pid: expect.any(Number), constraints: '', url: 'app://zerorange/' });
    expect(pc.rtcConfiguration).toContain('iceTransportPolicy: relay');
    const rtt = pc.stats['CP1-currentRoundTripTime']!;
    expect(rtt).toMatchObject({ statsType: 'candidate-pair', startTime: doc.peers[0]!.statsHistory[0]!.at, endTime: doc.peers[0]!.statsHistory[4]!.at });
    const values = JSON.parse(rtt.values) as number[];
    expect(values).toHaveLength(5);
    expect(values[0]).toBeCloseTo(0.021);
    expect(JSON.parse(pc.stats['summary-rttMs']!.values)).toEqual([21, 22, 23, 24, 25]);
    expect(pc.stats['IT01A-packetsLost']!.statsType).toBe('inbound-rtp');
    // Every key splits into id and field on its last '-'; only numbers are series.
    for (const key of Object.keys(pc.stats)) expect(key.lastIndexOf('-')).toBeGreaterThan(0);
    expect(pc.stats['CP1-state']).toBeUndefined();
    const types = pc.updateLog.map((u) => u.type);
    expect(types).toEqual(['zerorange-peer', 'setLocalDescription', 'setRemoteDescription', 'icecandidate', 'turn', 'selectedCandidatePairChanged', 'zerorange-states']);
    expect(pc.updateLog.every((u) => typeof u.time === 'string' && typeof u.value === 'string')).toBe(true);
    // The stats module's snapshot: entries by section, nested fields dotted.
    const bob = dump.PeerConnections['peer-bob-0002']!;
    expect(bob.stats['quality-rttMs']).toMatchObject({ statsType: 'quality', values: '[81,82,83]' });
    expect(bob.stats['quality-audioOut.bitrate']!.values).toBe('[30000,30000,30000]');
  });

  it('charts RTT, loss and bitrate per peer', () => {
    const series = peerSeries(diagnosticsFixture().peers[0]!);
    expect(series.rttMs.map(([, v]) => v)).toEqual([21, 22, 23, 24, 25]);
    // 2 lost per 100 received each interval: 2/102.
    expect(series.lossPct[0]![1]).toBeCloseTo((2 / 102) * 100);
    expect(series.lossPct).toHaveLength(4);
    // (45 000 + 40 000) bytes every 2 s.
    expect(series.kbps[0]![1]).toBeCloseTo((85_000 * 8) / 2000);
    // The renderer's stats module's snapshots: rttMs, lossInPercent, per-stream bitrates (bits/s) added up.
    const module = peerSeries(diagnosticsFixture().peers[1]!);
    expect(module.rttMs.map(([, v]) => v)).toEqual([81, 82, 83]);
    expect(module.lossPct.map(([, v]) => v)).toEqual([1, 1.5]);
    expect(module.kbps.map(([, v]) => v)).toEqual([30, 62, 62]);
  });

  it('the HTML report is self-contained: no script, nothing loaded, everything escaped', () => {
    const html = toHtmlReport(redactDiagnostics(diagnosticsFixture()));
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\s(src|href|on\w+)=/i);
    expect(html).toContain('Alice &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain("default-src 'none'");
    expect(html.match(/<svg /g)).toHaveLength(6);
    expect(html).toMatch(/<polyline [^>]*points="[\d., ]+"/);
  });

  it('names files after the format and the time, without characters Windows refuses', () => {
    const at = new Date(Date.UTC(2025, 0, 31, 12, 0, 0));
    expect(diagnosticsFileName('json', at)).toBe('zerorange-diagnostics-2025-01-31T12-00-00.000Z.json');
    expect(diagnosticsFileName('webrtc-internals', at)).toMatch(/\.txt$/);
    expect(diagnosticsFileName('html', at)).toMatch(/\.html$/);
  });
});
