import fc from 'fast-check';

/** Peer ids: the given real ones, well-formed strangers, and anything at all. */
export const peerIdArb = (known: string[] = []) =>
  fc.oneof(...(known.length ? [fc.constantFrom(...known)] : []), fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/), fc.string({ maxLength: 80 }));

export const signalDataArb = fc.oneof(
  fc.record({
    kind: fc.constant('description'),
    description: fc.record({ type: fc.constantFrom('offer', 'answer', 'pranswer', 'rollback'), sdp: fc.string({ maxLength: 2000 }) }, { requiredKeys: ['type'] }),
  }),
  fc.record({
    kind: fc.constant('candidate'),
    candidate: fc.option(
      fc.record(
        { candidate: fc.string({ maxLength: 200 }), sdpMid: fc.option(fc.string({ maxLength: 10 })), sdpMLineIndex: fc.option(fc.nat(1024)), usernameFragment: fc.option(fc.string({ maxLength: 20 })) },
        { requiredKeys: ['candidate'] },
      ),
    ),
  }),
  fc.constant({ kind: 'restart' }),
  fc.record({ kind: fc.constant('media-state'), audio: fc.boolean(), video: fc.boolean(), screen: fc.boolean() }),
  fc.record({ kind: fc.constant('e2ee-identity'), publicKey: fc.stringMatching(/^[A-Za-z0-9_-]{87}$/) }),
  fc.record({ kind: fc.constant('e2ee-key'), keyId: fc.nat(255), iv: fc.stringMatching(/^[A-Za-z0-9_-]{16}$/), sealed: fc.stringMatching(/^[A-Za-z0-9_-]{22,128}$/) }),
);

/** Messages a client may send, well-formed (a join's token is of course not a real one). */
export const validClientMessageArb = (known: string[] = []) =>
  fc.oneof(
    { arbitrary: fc.record({ type: fc.constant('signal'), to: peerIdArb(known), data: signalDataArb }), weight: 6 },
    { arbitrary: fc.record({ type: fc.constant('ping'), id: fc.nat() }), weight: 2 },
    { arbitrary: fc.record({ type: fc.constant('join'), v: fc.integer({ min: -2, max: 3 }), roomToken: fc.string({ minLength: 1, maxLength: 500 }) }), weight: 1 },
  );

type Json = Record<string, unknown>;

/** A valid message with some keys set to random JSON, removed, or its type changed. */
export const mutatedClientMessageArb = (known: string[] = []) =>
  fc
    .tuple(
      validClientMessageArb(known),
      fc.array(fc.tuple(fc.constantFrom('set', 'delete', 'retype', 'nest'), fc.constantFrom('type', 'to', 'data', 'id', 'v', 'roomToken', 'kind', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 3 })), {
        minLength: 1,
        maxLength: 4,
      }),
    )
    .map(([message, edits]) => {
      const m: Json = { ...(message as Json) };
      for (const [op, key, value] of edits) {
        if (op === 'set') m[key] = value;
        else if (op === 'delete') delete m[key];
        else if (op === 'retype') m.type = typeof value === 'string' ? value : 'signal';
        else if (typeof m.data === 'object' && m.data !== null) (m.data as Json)[key] = value;
      }
      return JSON.stringify(m);
    });

/** Whatever text a socket might carry: JSON of every shape, broken JSON, huge and deep documents. */
export const textFrameArb = (known: string[] = []) =>
  fc.oneof(
    { arbitrary: validClientMessageArb(known).map((m) => JSON.stringify(m)), weight: 4 },
    { arbitrary: mutatedClientMessageArb(known), weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n)), weight: 1 },
    { arbitrary: fc.integer({ min: 60_000, max: 140_000 }).map((n) => JSON.stringify({ type: 'ping', id: 1, pad: 'x'.repeat(n) })), weight: 1 },
    { arbitrary: fc.constantFrom('{"type":"leave"}', '{"type":"signal","to":"__proto__","data":{"kind":"restart"}}', 'null', '""', '{}', '[]', '{"type":"ping","id":1e400}'), weight: 1 },
  );
