import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ClientMessage, parseClientMessage } from '../../shared/protocol/index.js';
import { textFrameArb, validClientMessageArb } from '../support/signalArbitraries.js';

/** Property-based tests of the server's message parser: every input gets a result, never a throw. */
describe('parseClientMessage under fuzzing', () => {
  let tried = 0;
  afterAll(() => console.log(`parseClientMessage fuzzing: ${tried} inputs tried`));

  it('answers any text with ok and a protocol message, or one of its three error codes', () => {
    fc.assert(
      fc.property(textFrameArb(), (raw) => {
        tried += 1;
        const result = parseClientMessage(raw);
        if (result.ok) expect(ClientMessage.safeParse(result.message).success).toBe(true);
        else expect(['bad-request', 'invalid-message', 'message-too-large']).toContain(result.code);
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts every well-formed message whatever its contents', () => {
    fc.assert(
      fc.property(validClientMessageArb(), (message) => {
        tried += 1;
        const raw = JSON.stringify(message);
        const valid = ClientMessage.safeParse(message).success;
        expect(parseClientMessage(raw).ok).toBe(valid);
      }),
      { numRuns: 3000 },
    );
  });
});
