import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { FuzzTarget } from '../support/fuzzTarget.js';
import { connect, requestHead } from '../support/rawHttp.js';
import { textFrameArb } from '../support/signalArbitraries.js';
import { TestSocket } from '../support/signalingHarness.js';

/**
 * Property-based fuzzing of the signaling socket against the server in its own process: random and
 * mutated messages from a joined member and from sockets that never joined, and random WebSocket
 * frames on raw TCP. Throughout, the process lives, logs no error, and two members keep talking.
 */

/** One client-to-server frame: any opcode and flags, masked or not, a length that may lie. */
const frameArb = fc
  .record({
    fin: fc.boolean(),
    rsv: fc.integer({ min: 0, max: 7 }),
    opcode: fc.oneof(fc.constantFrom(0x0, 0x1, 0x2, 0x8, 0x9, 0xa), fc.integer({ min: 0, max: 15 })),
    masked: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, { arbitrary: fc.constant(false), weight: 1 }),
    payload: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 }).map((s) => new TextEncoder().encode(s))),
    lengthForm: fc.constantFrom('exact', 'exact', 'exact', '16', '64', 'lie', 'huge'),
  })
  .map(({ fin, rsv, opcode, masked, payload, lengthForm }) => {
    const n = payload.length;
    let len: Buffer;
    const maskBit = masked ? 0x80 : 0;
    if (lengthForm === '16') len = Buffer.from([maskBit | 126, n >> 8, n & 0xff]);
    else if (lengthForm === '64') {
      len = Buffer.alloc(9);
      len[0] = maskBit | 127;
      len.writeBigUInt64BE(BigInt(n), 1);
    } else if (lengthForm === 'huge') {
      len = Buffer.alloc(9);
      len[0] = maskBit | 127;
      len.writeBigUInt64BE(0x7fffffffffffffffn, 1);
    } else if (lengthForm === 'lie') len = Buffer.from([maskBit | Math.min(125, n + 7)]);
    else if (n < 126) len = Buffer.from([maskBit | n]);
    else len = Buffer.from([maskBit | 126, n >> 8, n & 0xff]);
    const key = randomBytes(4);
    const body = Buffer.from(payload);
    if (masked) for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
    return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | (rsv << 4) | opcode]), len, ...(masked ? [key] : []), body]);
  });

/** Opens a raw WebSocket (handshake by hand); resolves once the 101 arrived. */
async function rawWebSocket(port: number): Promise<net.Socket> {
  const socket = await connect(port);
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
    socket.write(requestHead('/v1/signal', ['upgrade: websocket', 'connection: Upgrade', `sec-websocket-key: ${randomBytes(16).toString('base64')}`, 'sec-websocket-version: 13']));
  });
}

const closedWithin = (socket: net.Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => (clearTimeout(timer), resolve(true)));
  });

describe('fuzzing the signaling socket', () => {
  let target: FuzzTarget;
  let alice: Awaited<ReturnType<FuzzTarget['connect']>>;
  let bob: Awaited<ReturnType<FuzzTarget['connect']>>;
  let fuzzer: TestSocket | undefined;
  const room = 'fuzz-signal';
  const tried = { joinedMessages: 0, unjoinedMessages: 0, rawFrames: 0, rawConnections: 0, rejoins: 0, checks: 0 };

  /** The two members still reach each other through the server, and the process lives. */
  async function membersStillTalk(): Promise<void> {
    expect(target.alive(), 'the signaling server process exited').toBe(true);
    const id = tried.checks++;
    alice.socket.send({ type: 'signal', to: bob.welcome.self.peerId, data: { kind: 'media-state', audio: true, video: id % 2 === 0, screen: false } });
    await bob.socket.next('signal', (m) => m.from === alice.welcome.self.peerId);
    await alice.socket.ping();
    await bob.socket.ping();
  }

  /** The fuzzing member's socket, joined again after the server closed it (leave, fatal error). */
  async function fuzzerSocket(): Promise<TestSocket> {
    if (fuzzer && fuzzer.ws.readyState === fuzzer.ws.OPEN) return fuzzer;
    fuzzer?.close();
    tried.rejoins += 1;
    fuzzer = (await target.connect(room, 'carol')).socket;
    return fuzzer;
  }

  beforeAll(async () => {
    target = await FuzzTarget.start();
    alice = await target.connect(room, 'alice');
    bob = await target.connect(room, 'bob');
  });
  afterAll(async () => {
    fuzzer?.close();
    alice?.socket.close();
    bob?.socket.close();
    await target?.stop();
    console.log(
      `WebSocket fuzzing: ${tried.joinedMessages} messages from a joined member, ${tried.unjoinedMessages} from sockets that never joined, ` +
        `${tried.rawFrames} raw frames on ${tried.rawConnections} connections; the fuzzing member was joined ${tried.rejoins} times; ` +
        `two legitimate members were checked ${tried.checks} times`,
    );
  });

  it('a joined member sending random, mutated and oversized messages and binary frames', async () => {
    const known = [alice.welcome.self.peerId, bob.welcome.self.peerId];
    const frame = fc.oneof({ arbitrary: textFrameArb(known), weight: 9 }, { arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), weight: 1 });
    await fc.assert(
      fc.asyncProperty(frame, async (data) => {
        tried.joinedMessages += 1;
        const socket = await fuzzerSocket();
        socket.sendRaw(data);
        // A round trip (or the close) after each message: the next one meets a server that has handled it.
        await Promise.race([socket.ping(), socket.closed]).catch(() => undefined);
        if (tried.joinedMessages % 250 === 0) await membersStillTalk();
      }),
      { numRuns: 6000, endOnFailure: true },
    );
    await membersStillTalk();
  });

  it('sockets that never joined sending random messages', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(textFrameArb(), { minLength: 1, maxLength: 5 }), async (frames) => {
        const socket = await TestSocket.open(`ws://127.0.0.1:${target.port}/v1/signal`);
        for (const f of frames) {
          tried.unjoinedMessages += 1;
          socket.sendRaw(f);
        }
        socket.send({ type: 'join', v: PROTOCOL_VERSION, roomToken: 'not-a-token' });
        // Whatever came before, the server answers the bogus join with a fatal error and closes.
        await socket.closed;
      }),
      { numRuns: 500, endOnFailure: true },
    );
    await membersStillTalk();
  });

  it('raw WebSocket frames of any shape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 4 }), async (frames) => {
        const socket = await rawWebSocket(target.port);
        tried.rawConnections += 1;
        for (const f of frames) {
          tried.rawFrames += 1;
          socket.write(f);
        }
        socket.end();
        if (!(await closedWithin(socket, 5000))) socket.destroy();
        if (tried.rawConnections % 100 === 0) await membersStillTalk();
      }),
      { numRuns: 2000, endOnFailure: true },
    );
    await membersStillTalk();
  });

  it('logged no error for any of it', () => {
    expect(target.errorLines()).toEqual([]);
  });
});
