import { describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  generateRoomId,
  isRoomId,
  parseClientMessage,
  parseServerMessage,
  GENERATED_ROOM_ID_ALPHABET,
  GENERATED_ROOM_ID_LENGTH,
} from '../../shared/protocol/index.js';
import { randomFillSync } from 'node:crypto';

const PEER = 'AbCdEfGh12345678';
const desc = { kind: 'description', description: { type: 'offer', sdp: 'v=0\r\n' } };
const cand = { kind: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } };

describe('client messages', () => {
  const valid: [string, unknown][] = [
    ['join', { type: 'join', v: PROTOCOL_VERSION, roomToken: 'a.b.c' }],
    ['signal description', { type: 'signal', to: PEER, data: desc }],
    ['signal rollback without sdp', { type: 'signal', to: PEER, data: { kind: 'description', description: { type: 'rollback' } } }],
    ['signal candidate', { type: 'signal', to: PEER, data: cand }],
    ['signal end of candidates', { type: 'signal', to: PEER, data: { kind: 'candidate', candidate: null } }],
    ['signal restart', { type: 'signal', to: PEER, data: { kind: 'restart' } }],
    ['signal media state', { type: 'signal', to: PEER, data: { kind: 'media-state', audio: true, video: false, screen: false } }],
    ['leave', { type: 'leave' }],
    ['ping', { type: 'ping', id: 7 }],
  ];
  it.each(valid)('accepts %s', (_name, msg) => {
    const result = parseClientMessage(JSON.stringify(msg));
    expect(result).toEqual({ ok: true, message: msg });
  });

  const invalid: [string, unknown, string][] = [
    ['unknown type', { type: 'hello' }, 'invalid-message'],
    ['join without token', { type: 'join', v: 1 }, 'invalid-message'],
    ['join with empty token', { type: 'join', v: 1, roomToken: '' }, 'invalid-message'],
    ['join without version', { type: 'join', roomToken: 'x' }, 'invalid-message'],
    ['signal without to', { type: 'signal', data: desc }, 'invalid-message'],
    ['signal to a bad peer id', { type: 'signal', to: '../x', data: desc }, 'invalid-message'],
    ['signal with unknown kind', { type: 'signal', to: PEER, data: { kind: 'file' } }, 'invalid-message'],
    ['signal with bad sdp type', { type: 'signal', to: PEER, data: { kind: 'description', description: { type: 'x', sdp: '' } } }, 'invalid-message'],
    ['signal with oversized candidate', { type: 'signal', to: PEER, data: { kind: 'candidate', candidate: { candidate: 'x'.repeat(2000) } } }, 'invalid-message'],
    ['signal with from set by the client is stripped', { type: 'signal', to: PEER, from: 'spoof', data: { kind: 'restart' } }, 'ok'],
    ['ping with negative id', { type: 'ping', id: -1 }, 'invalid-message'],
    ['array', [], 'invalid-message'],
    ['null', null, 'invalid-message'],
  ];
  it.each(invalid)('refuses %s', (_name, msg, code) => {
    const result = parseClientMessage(JSON.stringify(msg));
    if (code === 'ok') {
      expect(result.ok).toBe(true);
      expect(result.ok && 'from' in result.message).toBe(false);
    } else {
      expect(result).toMatchObject({ ok: false, code });
    }
  });

  it('refuses malformed JSON as bad-request', () => {
    expect(parseClientMessage('{"type":')).toMatchObject({ ok: false, code: 'bad-request' });
  });

  it('refuses a frame over the size limit before parsing it', () => {
    const big = JSON.stringify({ type: 'join', v: 1, roomToken: 'x'.repeat(MAX_MESSAGE_BYTES) });
    expect(parseClientMessage(big)).toMatchObject({ ok: false, code: 'message-too-large' });
  });
});

describe('server messages', () => {
  const peer = { peerId: PEER, name: 'Alice' };
  const valid: [string, unknown][] = [
    ['welcome', { type: 'welcome', v: 1, room: 'abc', self: peer, peers: [], roomSizeLimit: 4 }],
    ['peer-joined', { type: 'peer-joined', peer }],
    ['peer-left', { type: 'peer-left', peerId: PEER, reason: 'timeout' }],
    ['signal', { type: 'signal', from: PEER, data: cand }],
    ['ice-servers', { type: 'ice-servers', iceServers: [{ urls: 'stun:h:3478' }, { urls: ['turns:h:443?transport=tcp'], username: 'u', credential: 'c' }], expiresAt: '2026-01-01T00:00:00.000Z' }],
    ['pong', { type: 'pong', id: 1 }],
    ['error', { type: 'error', code: 'room-full', message: 'full', fatal: true }],
  ];
  it.each(valid)('accepts %s', (_name, msg) => {
    expect(parseServerMessage(JSON.stringify(msg))).toEqual({ ok: true, message: msg });
  });

  const invalid: [string, unknown][] = [
    ['welcome without self', { type: 'welcome', v: 1, room: 'abc', peers: [], roomSizeLimit: 4 }],
    ['peer-left with unknown reason', { type: 'peer-left', peerId: PEER, reason: 'bored' }],
    ['signal without from', { type: 'signal', data: cand }],
    ['ice-servers with an http url', { type: 'ice-servers', iceServers: [{ urls: 'http://evil' }], expiresAt: 'x' }],
    ['error with unknown code', { type: 'error', code: 'nope', message: '', fatal: false }],
  ];
  it.each(invalid)('refuses %s', (_name, msg) => {
    expect(parseServerMessage(JSON.stringify(msg))).toMatchObject({ ok: false, code: 'invalid-message' });
  });
});

describe('room ids', () => {
  it.each(['abc', 'team-standup', 'a'.repeat(64), '0123456789abcdefghjkmnpqrs'])('accepts %s', (id) => {
    expect(isRoomId(id)).toBe(true);
  });
  it.each(['ab', 'a'.repeat(65), 'ABC', '-abc', 'abc-', 'a_b', 'a/b', '../etc', 'аbc' /* Cyrillic а */, 'a b', ''])(
    'refuses %j',
    (id) => {
      expect(isRoomId(id)).toBe(false);
    },
  );
  it('generates valid ids of 130 random bits from the CSPRNG', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateRoomId((b) => randomFillSync(b))));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toHaveLength(GENERATED_ROOM_ID_LENGTH);
      expect(isRoomId(id)).toBe(true);
      expect([...id].every((c) => GENERATED_ROOM_ID_ALPHABET.includes(c))).toBe(true);
    }
    expect(Math.log2(GENERATED_ROOM_ID_ALPHABET.length) * GENERATED_ROOM_ID_LENGTH).toBeGreaterThanOrEqual(128);
  });
});
