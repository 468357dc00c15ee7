import { domainToASCII, domainToUnicode } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeServer, formatJoinLink, formatWebJoinLink, parseJoinLink, parseServerOrigin } from '../../shared/links.js';
import { decodePunycode, describeHost } from '../../shared/punycode.js';

const prod = { allowInsecureLoopback: false };
const dev = { allowInsecureLoopback: true };
const ROOM = '0123456789abcdefghjkmnpqrs';

describe('join links', () => {
  const good: [string, string, { roomId: string; server: string }, boolean][] = [
    ['protocol link', `zerorange://join/${ROOM}?server=https%3A%2F%2Fsignal.example.com`, { roomId: ROOM, server: 'https://signal.example.com' }, false],
    ['protocol link, unencoded server', `zerorange://join/${ROOM}?server=https://signal.example.com`, { roomId: ROOM, server: 'https://signal.example.com' }, false],
    ['protocol link with port and trailing slash', `zerorange://join/team-standup/?server=https://signal.example.com:8443/`, { roomId: 'team-standup', server: 'https://signal.example.com:8443' }, false],
    ['web link', `https://signal.example.com/join/${ROOM}`, { roomId: ROOM, server: 'https://signal.example.com' }, false],
    ['web link with default port', `https://signal.example.com:443/join/abc`, { roomId: 'abc', server: 'https://signal.example.com' }, false],
    ['surrounding whitespace', `  https://signal.example.com/join/abc \n`, { roomId: 'abc', server: 'https://signal.example.com' }, false],
    ['uppercase scheme', `ZERORANGE://join/abc?server=https://s.example.com`, { roomId: 'abc', server: 'https://s.example.com' }, false],
    ['IPv6 server', `zerorange://join/abc?server=https://[2001:db8::1]:8443`, { roomId: 'abc', server: 'https://[2001:db8::1]:8443' }, false],
    ['http on loopback in development', `zerorange://join/abc?server=http://127.0.0.1:8787`, { roomId: 'abc', server: 'http://127.0.0.1:8787' }, true],
    ['http web link on localhost in development', `http://localhost:8787/join/abc`, { roomId: 'abc', server: 'http://localhost:8787' }, true],
  ];
  it.each(good)('accepts a %s', (_name, link, expected, devMode) => {
    expect(parseJoinLink(link, devMode ? dev : prod)).toEqual({ ok: true, link: expected });
  });

  const hostile: [string, string, RegExp][] = [
    ['javascript: URL', 'javascript:alert(1)//zerorange://join/abc', /not ZeroRange links/],
    ['data: URL', 'data:text/html,<script>alert(1)</script>', /not ZeroRange links|plain ASCII/],
    ['file: URL', 'file:///etc/passwd', /not ZeroRange links/],
    ['another custom scheme', 'slack://join/abc?server=https://s.example.com', /not ZeroRange links/],
    ['protocol link to another action', 'zerorange://settings?server=https://s.example.com', /looks like/],
    ['path traversal', 'zerorange://join/../../etc?server=https://s.example.com', /not a room|looks like/],
    ['encoded traversal', 'zerorange://join/%2e%2e%2fetc?server=https://s.example.com', /not a room/],
    ['web path traversal', 'https://s.example.com/join/../admin', /looks like|not a room/],
    ['over-long room id', `zerorange://join/${'a'.repeat(65)}?server=https://s.example.com`, /at most 64/],
    ['uppercase room id', 'zerorange://join/ABC?server=https://s.example.com', /not a room/],
    ['Cyrillic look-alike in the room', 'zerorange://join/аbc?server=https://s.example.com', /plain ASCII/],
    ['Cyrillic look-alike in the server', 'zerorange://join/abc?server=https://ехаmple.com', /plain ASCII/],
    ['punycode-free fullwidth host', 'https://ｅxample.com/join/abc', /plain ASCII/],
    ['http server in production', 'zerorange://join/abc?server=http://signal.example.com', /https/],
    ['http loopback server in production', 'zerorange://join/abc?server=http://127.0.0.1:8787', /https/],
    ['http non-loopback server in development', 'zerorange://join/abc?server=http://10.0.0.5', /https/],
    ['credentials in the server', 'zerorange://join/abc?server=https://user:pass@s.example.com', /credentials/],
    ['credentials in a web link', 'https://user@s.example.com/join/abc', /credentials/],
    ['a server with a path', 'zerorange://join/abc?server=https://s.example.com/evil', /just https/],
    ['a server with a query', 'zerorange://join/abc?server=https://s.example.com/%3Fx=1', /just https|not a room/],
    ['two servers', 'zerorange://join/abc?server=https://a.example.com&server=https://b.example.com', /exactly one/],
    ['no server', 'zerorange://join/abc', /exactly one/],
    ['a javascript: server', 'zerorange://join/abc?server=javascript:alert(1)', /https/],
    ['a fragment', 'https://s.example.com/join/abc#x', /fragment/],
    ['a web link with a query', 'https://s.example.com/join/abc?next=https://evil', /looks like/],
    ['a web link to another path', 'https://s.example.com/rooms/abc', /looks like/],
    ['empty', '   ', /empty/],
    ['not a URL', 'just some words', /plain ASCII|not a link/],
    ['huge', `https://s.example.com/join/abc?${'x'.repeat(3000)}`, /too long/],
  ];
  it.each(hostile)('refuses %s', (name, link, reason) => {
    const result = parseJoinLink(link, name.includes('in production') ? prod : dev);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('formats links that parse back to the same room and server', () => {
    const link = { roomId: ROOM, server: 'https://signal.example.com:8443' };
    expect(parseJoinLink(formatJoinLink(link), prod)).toEqual({ ok: true, link });
    expect(parseJoinLink(formatWebJoinLink(link), prod)).toEqual({ ok: true, link });
  });

  it('allows plain http to listed development hosts only', () => {
    const rules = { allowInsecureLoopback: false, insecureHosts: ['10.77.0.1'] };
    expect(parseJoinLink('zerorange://join/abc?server=http://10.77.0.1:8787', rules)).toMatchObject({ ok: true });
    expect(parseJoinLink('zerorange://join/abc?server=http://10.77.0.2:8787', rules).ok).toBe(false);
    expect(parseJoinLink('zerorange://join/abc?server=http://127.0.0.1:8787', rules).ok).toBe(false);
  });

  it('normalises server origins', () => {
    expect(parseServerOrigin('https://Signal.Example.COM/', prod)).toEqual({ ok: true, origin: 'https://signal.example.com' });
    expect(parseServerOrigin('signal.example.com', prod).ok).toBe(false);
  });
});

describe('Punycode hosts and hosts ending in a dot', () => {
  // RFC 3492 section 7.1 samples, and everyday names.
  const vectors: [string, string][] = [
    ['ihqwcrb4cv8a8dqg056pqjye', '他们为什么不说中文'],
    ['egbpdaj6bu4bxfgehfvwxn', 'ليهمابتكلموشعربي؟'],
    ['b1abfaaepdrnnbgefbadotcwatmq2g4l', 'почемужеонинеговорятпорусски'],
    ['3B-ww4c5e180e575a65lsy2b', '3年B組金八先生'],
    ['-> $1.00 <--', '-> $1.00 <-'],
    ['bcher-kva', 'bücher'],
    ['80ak6aa92e', 'аррӏе'],
  ];
  it.each(vectors)('decodes %s', (encoded, decoded) => {
    expect(decodePunycode(encoded)).toBe(decoded);
  });

  it('refuses what is not Punycode', () => {
    for (const bad of ['a!b', 'bcher-kv', '9999999999a', 'ü-abc', 'zzzzzzzzzzzzzz']) expect(decodePunycode(bad), bad).toBeNull();
  });

  it('agrees with Node on names the WHATWG URL parser encodes', () => {
    const names = ['bücher.example', 'пример.испытание', 'ドメイン名例.jp', 'mañana.com', 'straße.de', '😀.example', 'ελληνικά.gr', 'a.b.c'];
    for (const name of names) {
      const ascii = domainToASCII(name);
      expect(describeHost(ascii).unicode, ascii).toBe(domainToUnicode(ascii));
    }
  });

  it('shows a Punycode server in Unicode, with a warning, and the link as written', () => {
    const link = parseJoinLink('https://xn--80ak6aa92e.com/join/abc', prod);
    expect(link.ok).toBe(true);
    const server = describeServer(link.ok ? link.link.server : '');
    expect(server).toMatchObject({ display: 'https://аррӏе.com', origin: 'https://xn--80ak6aa92e.com' });
    expect(server.warnings).toHaveLength(1);
    expect(server.warnings[0]).toMatch(/Punycode \(xn--80ak6aa92e\.com\).*“аррӏе\.com”.*imitate/);
  });

  it('warns about a host ending in a dot, which is another origin', () => {
    const link = parseJoinLink('zerorange://join/abc?server=https://signal.example.com.:8443', prod);
    expect(link).toEqual({ ok: true, link: { roomId: 'abc', server: 'https://signal.example.com.:8443' } });
    const server = describeServer('https://signal.example.com.:8443');
    expect(server.display).toBe('https://signal.example.com.:8443');
    expect(server.warnings).toEqual([expect.stringMatching(/ends in a dot \(“signal\.example\.com\.”\)/)]);
  });

  it('warns twice for both, and keeps an undecodable xn-- label as written', () => {
    expect(describeServer('https://xn--bcher-kva.example.').warnings).toHaveLength(2);
    const bad = describeServer('https://xn--zzzzzzzzzzzzzz.example');
    expect(bad.display).toBe('https://xn--zzzzzzzzzzzzzz.example');
    expect(bad.warnings[0]).toMatch(/not valid Punycode/);
  });

  it('says nothing about ordinary servers, IPv6 literals and ports', () => {
    for (const origin of ['https://signal.example.com', 'https://[2001:db8::1]:8443', 'http://127.0.0.1:8787']) {
      expect(describeServer(origin)).toEqual({ display: origin, origin, warnings: [] });
    }
  });
});
