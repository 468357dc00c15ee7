import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSegment, parseTarget } from '../../server/src/http/request.js';

describe('parseTarget', () => {
  it('splits origin-form targets into a still-encoded path and the query', () => {
    expect(parseTarget('/v1/rooms/a%20b/join?x=1#f')).toEqual({ path: '/v1/rooms/a%20b/join', query: 'x=1' });
    expect(parseTarget('/healthz')).toEqual({ path: '/healthz', query: '' });
    expect(parseTarget('http://signal.example.com/healthz?a')).toEqual({ path: '/healthz', query: 'a' });
    expect(parseTarget('https://signal.example.com')).toEqual({ path: '/', query: '' });
  });

  it('gives null for what new URL() threw on, and for other non-targets', () => {
    for (const bad of [undefined, '', '*', 'healthz', 'http://[/v1/signal', 'ftp://x/', '/a b', '/\u00e9', `/${'a'.repeat(9000)}`]) {
      expect(parseTarget(bad), String(bad)).toBeNull();
    }
    // `//[` is a path (empty segment, then `[`): no route has it, but it is no reason to throw.
    expect(parseTarget('//[')).toEqual({ path: '//[', query: '' });
  });

  it('never throws, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.webUrl(), fc.webPath()), (s) => {
        const t = parseTarget(s);
        if (t) expect(t.path.startsWith('/')).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decodeSegment', () => {
  it('decodes valid escapes and gives null for malformed ones', () => {
    expect(decodeSegment('a%20b')).toBe('a b');
    expect(decodeSegment('%ZZ')).toBeNull();
    expect(decodeSegment('%E0%A4%A')).toBeNull();
    expect(decodeSegment('%')).toBeNull();
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('%', '%E0', '%A4', '%ZZ', '%25', '%F0%9F'))), (parts) => {
        const s = parts.join('');
        const d = decodeSegment(s);
        if (d !== null) expect(typeof d).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});
