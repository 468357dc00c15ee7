import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../server/src/config.js';
import { CoturnConfigError, renderCoturnConfig } from '../../server/src/coturnConfig.js';

const config = (turn: Record<string, unknown> = {}) =>
  parseConfig({
    publicUrl: 'https://signal.example.test',
    idp: { issuer: 'https://id.example.test', audience: 'zr', clientId: 'desktop' },
    roomToken: { secret: 'r'.repeat(32) },
    turn: { secrets: ['n'.repeat(32), 'o'.repeat(32)], host: 'turn.example.test', realm: 'example.test', ...turn },
  });
const tls = { certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem' };
const lines = (text: string) => text.split('\n');

describe('renderCoturnConfig', () => {
  it('takes realm, every secret (newest first) and ports from the server configuration', () => {
    const text = renderCoturnConfig(config(), tls);
    const l = lines(text);
    expect(l).toContain('realm=example.test');
    expect(l.filter((x) => x.startsWith('static-auth-secret='))).toEqual([`static-auth-secret=${'n'.repeat(32)}`, `static-auth-secret=${'o'.repeat(32)}`]);
    expect(l).toContain('listening-port=3478');
    expect(l).toContain('tls-listening-port=443');
    expect(l).toContain('cert=/etc/tls/cert.pem');
    expect(l).toContain('syslog');
  });

  it('listens for TLS elsewhere behind an SNI router, and renders NAT, relay and allowed addresses', () => {
    const text = renderCoturnConfig(config(), { ...tls, tlsListeningPort: 5349, externalIps: ['203.0.113.7/10.0.0.7'], relayIps: ['10.0.0.7'], allowedPeerIps: ['10.0.0.7'], log: '/var/log/turn.log' });
    const l = lines(text);
    expect(l).toContain('tls-listening-port=5349');
    expect(l).toContain('external-ip=203.0.113.7/10.0.0.7');
    expect(l).toContain('relay-ip=10.0.0.7');
    expect(l).toContain('allowed-peer-ip=10.0.0.7');
    expect(l).toContain('log-file=/var/log/turn.log');
  });

  it('denies special-purpose peers without a range that coturn applies to every IPv4 peer', () => {
    const l = lines(renderCoturnConfig(config(), tls));
    const denied = l.filter((x) => x.startsWith('denied-peer-ip=')).map((x) => x.slice('denied-peer-ip='.length));
    expect(denied).toEqual(expect.arrayContaining([
      '127.0.0.0-127.255.255.255',
      '10.0.0.0-10.255.255.255',
      '100.64.0.0-100.127.255.255',
      '169.254.0.0-169.254.255.255',
      '::1-::1',
      '::ffff:0.0.0.0-::ffff:255.255.255.255',
      // IPv4-compatible space from ::1: a range starting at :: would match every IPv4 peer.
      '::0.0.0.1-::255.255.255.255',
      '64:ff9b::-64:ff9b::ffff:ffff',
      'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ]));
    expect(denied).not.toContain('::-::');
    expect(denied).not.toContain('::0.0.0.0-::255.255.255.255');
    expect(l).toContain('no-tcp-relay');
    expect(l).toContain('no-multicast-peers');
    expect(l).not.toContain('allow-loopback-peers');
  });

  it('turns TLS off when turnsPort is 0', () => {
    const text = renderCoturnConfig(config({ turnsPort: 0 }));
    expect(lines(text)).toContain('no-tls');
    expect(text).not.toMatch(/^(cert|pkey|tls-listening-port)=/m);
  });

  it.each([
    ['TLS without a certificate', () => renderCoturnConfig(config(), {}), /certificate and key/],
    ['STUN and TURN on different ports', () => renderCoturnConfig(config({ stunPort: 3479 }), tls), /one port/],
    ['a hostname where an address belongs', () => renderCoturnConfig(config(), { ...tls, allowedPeerIps: ['intranet.local'] }), /not an address/],
    ['a line break smuggled into an address', () => renderCoturnConfig(config(), { ...tls, relayIps: ['10.0.0.1\nallow-loopback-peers'] }), /not an address/],
    ['an inverted peer range', () => renderCoturnConfig(config(), { ...tls, allowedPeerIps: ['10.0.0.9-10.0.0.1'] }), /not an address or a low-high/],
    ['a peer range across families', () => renderCoturnConfig(config(), { ...tls, allowedPeerIps: ['10.0.0.1-::1'] }), /not an address or a low-high/],
    ['an allowed range coturn reads as every IPv4 peer', () => renderCoturnConfig(config(), { ...tls, allowedPeerIps: ['::-::ffff'] }), /unspecified address/],
    ['a range where a relay address belongs', () => renderCoturnConfig(config(), { ...tls, relayIps: ['10.0.0.1-10.0.0.2'] }), /not an address/],
    ['an inverted relay port range', () => renderCoturnConfig(config(), { ...tls, minPort: 60000, maxPort: 50000 }), /port range/],
    ['a secret with whitespace', () => renderCoturnConfig(config({ secrets: [`${'s'.repeat(32)} x`] }), tls), /whitespace/],
  ])('refuses %s', (_name, render, message) => {
    expect(render).toThrow(CoturnConfigError);
    expect(render).toThrow(message);
  });
});
