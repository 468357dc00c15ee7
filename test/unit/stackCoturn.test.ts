/**
 * The end-to-end harness's coturn is a production coturn: `npm run stack --host 10.77.0.1
 * --allowed-peer-ip 10.77.0.0-10.77.0.255` (test/support/stackInNamespace.ts) renders the production
 * template through the deployment's own code path (turnConfigCli's argument parsing and
 * renderCoturnConfig), and the result differs from a production render on that address only by the
 * allowed-peer-ip line for the test network's range. So every relayed call in the end-to-end suite
 * runs against the production deny list, whose public/special halves coturnTemplate.test.ts checks
 * on a real coturn.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../server/src/config.js';
import { CoturnConfigError, renderCoturnConfig, startsAtUnspecified } from '../../server/src/coturnConfig.js';
import { parseTurnConfigArgs } from '../../server/src/turnConfigCli.js';
import { withProcessFiles } from '../../dev/coturn.js';
import { renderStackCoturnConfig, stackCoturnOptions } from '../../dev/stackCoturn.js';
import { SERVER_IP } from '../support/netns.js';
import { TEST_PEER_RANGE } from '../support/stackInNamespace.js';

// The server configuration dev/stack.ts builds for the harness (fresh secrets every run there).
const config = parseConfig({
  development: true,
  listen: { host: SERVER_IP, port: 8787 },
  idp: { issuer: `http://${SERVER_IP}:9400`, audience: 'zerorange', clientId: 'zerorange-desktop' },
  roomToken: { secret: 'r'.repeat(43) },
  turn: { secrets: ['s'.repeat(43)], host: SERVER_IP, realm: 'zerorange.dev', stunPort: 3478, turnPort: 3478, turnsPort: 443, tlsHost: SERVER_IP },
});
const tls = { certFile: '/tmp/zerorange-stack-x/turn-cert/cert.pem', keyFile: '/tmp/zerorange-stack-x/turn-cert/key.pem' };

/** Lines only in `a` and lines only in `b`, by a longest common subsequence (order kept). */
function lineDiff(a: string[], b: string[]): { onlyA: string[]; onlyB: string[] } {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const onlyA: string[] = [];
  const onlyB: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      onlyA.push(a[i++]!);
    } else {
      onlyB.push(b[j++]!);
    }
  }
  return { onlyA, onlyB };
}

describe('the end-to-end harness runs production-shaped coturn', () => {
  const harness = renderStackCoturnConfig(config, { host: SERVER_IP, ...tls, allowedPeerIps: [TEST_PEER_RANGE] });
  // What an administrator on 10.77.0.1 gets from `npm run turn:config` with the same certificate.
  const productionArgs = ['--cert', tls.certFile, '--key', tls.keyFile, '--listening-ip', SERVER_IP, '--relay-ip', SERVER_IP, '--log', 'stdout'];
  const production = renderCoturnConfig(config, parseTurnConfigArgs(productionArgs).options);

  it('differs from the production render only by the allowed-peer-ip line for the test range', () => {
    const diff = lineDiff(harness.split('\n'), production.split('\n'));
    expect(diff).toEqual({ onlyA: [`allowed-peer-ip=${TEST_PEER_RANGE}`], onlyB: [] });
    expect(TEST_PEER_RANGE).toBe('10.77.0.0-10.77.0.255');
  });

  it('keeps the production deny list: no loopback exception, no tcp relay, every special range denied', () => {
    const lines = harness.split('\n');
    expect(lines).not.toContain('allow-loopback-peers');
    expect(lines.filter((l) => l.startsWith('allowed-peer-ip='))).toEqual([`allowed-peer-ip=${TEST_PEER_RANGE}`]);
    expect(lines).toContain('no-tcp-relay');
    expect(lines).toContain('denied-peer-ip=10.0.0.0-10.255.255.255');
    expect(lines.filter((l) => l.startsWith('denied-peer-ip=')).length).toBeGreaterThanOrEqual(25);
  });

  it('starts coturn with that text, only its process files moved', () => {
    const started = withProcessFiles(harness, '/tmp/zerorange-coturn-x');
    expect(started).toMatch(/^pidfile=\/tmp\/zerorange-coturn-x\//m);
    const processFile = /^(#.*|log-file=.*|pidfile=.*|userdb=.*|syslog|no-stdout-log|)$/;
    const policy = (text: string) => text.split('\n').filter((l) => !processFile.test(l));
    expect(policy(started)).toEqual(policy(harness));
    expect(policy(harness).length).toBeGreaterThan(50);
  });
});

describe('the development stack on loopback', () => {
  it('adds loopback peers, which a loopback relay needs, and nothing else', () => {
    const dev = renderStackCoturnConfig(config, { host: '127.0.0.1', ...tls });
    const prod = renderCoturnConfig(config, parseTurnConfigArgs(['--cert', tls.certFile, '--key', tls.keyFile, '--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1', '--log', 'stdout']).options);
    expect(lineDiff(dev.split('\n'), prod.split('\n'))).toEqual({
      onlyA: ['allowed-peer-ip=127.0.0.0-127.255.255.255', 'allowed-peer-ip=::1', 'allow-loopback-peers'],
      onlyB: [],
    });
  });

  it('allows its own address on a LAN host unless an allowed range already covers it', () => {
    expect(stackCoturnOptions({ host: '192.168.1.5', ...tls }).allowedPeerIps).toEqual(['192.168.1.5']);
    expect(stackCoturnOptions({ host: SERVER_IP, ...tls, allowedPeerIps: [TEST_PEER_RANGE] }).allowedPeerIps).toEqual([TEST_PEER_RANGE]);
    expect(stackCoturnOptions({ host: SERVER_IP, ...tls }).allowLoopbackPeers).toBeUndefined();
  });
});

describe('peer rules coturn would read as "every address"', () => {
  it.each(['::-::', '::0.0.0.0-::255.255.255.255', '::-::1', '0:0::0-::ffff', '::', '0.0.0.0', '0.0.0.0-0.0.0.0'])('%s starts at the unspecified address', (range) => {
    expect(startsAtUnspecified(range)).toBe(true);
  });

  it.each(['0.0.0.0-0.255.255.255', '::1-::1', '::0.0.0.1-::255.255.255.255', '::ffff:0.0.0.0-::ffff:255.255.255.255', '10.0.0.0-10.255.255.255', 'fe80::-febf::'])('%s does not', (range) => {
    expect(startsAtUnspecified(range)).toBe(false);
  });

  it('are refused in the allowed list and in the template', () => {
    expect(() => renderCoturnConfig(config, { ...tls, allowedPeerIps: ['::-::'] })).toThrow(CoturnConfigError);
    const template = 'denied-peer-ip=::-::\nrealm=@REALM@\n';
    expect(() => renderCoturnConfig(config, tls, template)).toThrow(/denied-peer-ip=::-:: starts at the unspecified address/);
  });
});
