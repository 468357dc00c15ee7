import { describe, expect, it } from 'vitest';
import { CallMemory, type CallStorage } from '../../renderer/src/call/CallMemory.js';
import { sdpSessionId } from '../../renderer/src/call/PeerLink.js';

class MapStorage implements CallStorage {
  readonly items = new Map<string, string>();
  getItem = (key: string) => this.items.get(key) ?? null;
  setItem = (key: string, value: string) => void this.items.set(key, value);
  removeItem = (key: string) => void this.items.delete(key);
}

const CALL = { server: 'https://signal.example.com', roomId: 'team-standup', clientId: 'abcdefghijklmnopqrstuvwx', audio: false, video: true };

describe('CallMemory', () => {
  it('gives a returning window the same clientId for the same room within the grace period', () => {
    let now = 1_000_000;
    const storage = new MapStorage();
    const memory = new CallMemory(storage, () => now, 60_000);
    let made = 0;
    const make = () => `fresh-clientid-${String(++made).padStart(4, '0')}`;
    const first = memory.clientIdFor(CALL.server, CALL.roomId, make);
    expect(first).toBe('fresh-clientid-0001');
    memory.remember({ ...CALL, clientId: first });
    now += 59_999;
    // As after a reload: a new CallMemory on the same storage.
    const again = new CallMemory(storage, () => now, 60_000);
    expect(again.recall()).toMatchObject({ ...CALL, clientId: first, until: 1_060_000 });
    expect(again.clientIdFor(CALL.server, CALL.roomId, make)).toBe(first);
    // Another room, or the same room on another server, is another participant.
    expect(again.clientIdFor(CALL.server, 'other-room', make)).toBe('fresh-clientid-0002');
    expect(again.clientIdFor('https://other.example.com', CALL.roomId, make)).toBe('fresh-clientid-0003');
  });

  it('forgets a call past the grace period, and after an explicit leave', () => {
    let now = 0;
    const storage = new MapStorage();
    const memory = new CallMemory(storage, () => now, 60_000);
    memory.remember(CALL);
    now = 60_000;
    expect(memory.recall()).toBeNull();
    expect(storage.items.size).toBe(0);
    memory.remember(CALL);
    memory.forget();
    expect(memory.clientIdFor(CALL.server, CALL.roomId, () => 'new-one-0123456789ab')).toBe('new-one-0123456789ab');
  });

  it('each refresh moves the deadline, so a long call is still resumable', () => {
    let now = 0;
    const memory = new CallMemory(new MapStorage(), () => now, 60_000);
    for (; now <= 580_000; now += 20_000) memory.remember(CALL);
    now = 580_000 + 59_000; // 59 s after the last refresh, ten minutes into the call
    expect(memory.recall()?.clientId).toBe(CALL.clientId);
  });

  it('ignores damaged records and works without storage', () => {
    const storage = new MapStorage();
    const memory = new CallMemory(storage, () => 0);
    for (const raw of ['{', 'null', '{"server":1}', JSON.stringify({ ...CALL, clientId: 'short', until: 10 })]) {
      storage.items.set('zerorange.call', raw);
      expect(memory.recall(), raw).toBeNull();
    }
    const throwing: CallStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    const none = new CallMemory(throwing, () => 0);
    expect(() => none.remember(CALL)).not.toThrow();
    expect(none.recall()).toBeNull();
    expect(new CallMemory(null).clientIdFor('s', 'r', () => 'made-here-0123456789')).toBe('made-here-0123456789');
  });
});

describe('sdpSessionId', () => {
  const sdp = (id: string, version: number) => `v=0\r\no=- ${id} ${version} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n`;
  it('is the same across renegotiations of one peer connection and differs for a new one', () => {
    expect(sdpSessionId(sdp('4611731400430051336', 2))).toBe('4611731400430051336');
    expect(sdpSessionId(sdp('4611731400430051336', 3))).toBe(sdpSessionId(sdp('4611731400430051336', 2)));
    expect(sdpSessionId(sdp('123', 2))).not.toBe(sdpSessionId(sdp('4611731400430051336', 2)));
  });
  it('is null without a description or an origin line', () => {
    expect(sdpSessionId(undefined)).toBeNull();
    expect(sdpSessionId('v=0\r\ns=-\r\n')).toBeNull();
  });
});
