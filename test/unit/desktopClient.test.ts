import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDesktopClient, DesktopError, desktopClient, windowDesktopApi } from '../../renderer/src/desktop.js';
import { DESKTOP_CALLS, DESKTOP_EVENTS, type DesktopApi } from '../../shared/ipc/desktopApi.js';

// A bridge whose every call answers with its name and arguments, and whose events record the callback.
function fakeApi(): DesktopApi {
  const api: Record<string, unknown> = {};
  for (const call of DESKTOP_CALLS) api[call] = vi.fn(async (...args: unknown[]) => ({ ok: true, value: { call, args } }));
  for (const event of DESKTOP_EVENTS) api[event] = vi.fn(() => () => undefined);
  return api as unknown as DesktopApi;
}

describe('the desktop client', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('has exactly one function per call and event of the contract', () => {
    const client = createDesktopClient(fakeApi());
    expect(Object.keys(client).sort()).toEqual([...DESKTOP_CALLS, ...DESKTOP_EVENTS].sort());
    expect(Object.keys(windowDesktopApi).sort()).toEqual([...DESKTOP_CALLS, ...DESKTOP_EVENTS].sort());
  });

  it('passes arguments through and unwraps each result', async () => {
    const api = fakeApi();
    const client = createDesktopClient(api);
    for (const call of DESKTOP_CALLS) {
      const fn = client[call] as (...args: unknown[]) => Promise<unknown>;
      await expect(fn('a', 2)).resolves.toEqual({ call, args: ['a', 2] });
    }
    const unsubscribe = () => undefined;
    vi.mocked(api.onJoinLink).mockReturnValue(unsubscribe);
    const callback = () => undefined;
    expect(client.onJoinLink(callback)).toBe(unsubscribe);
    expect(api.onJoinLink).toHaveBeenCalledWith(callback);
  });

  it('throws the error main reported, and an internal one when the bridge itself fails', async () => {
    const api = fakeApi();
    vi.mocked(api.joinRoom).mockResolvedValue({ ok: false, error: { code: 'room-full', message: 'The room is full.' } });
    vi.mocked(api.signIn).mockRejectedValue(new Error('channel closed'));
    const client = createDesktopClient(api);
    await expect(client.joinRoom('r')).rejects.toMatchObject({ name: 'DesktopError', code: 'room-full', message: 'The room is full.' });
    await expect(client.signIn()).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('channel closed') });
  });

  it('looks window.desktop up on every call, and reports a missing one as bridge-missing', async () => {
    vi.stubGlobal('window', {});
    await expect(desktopClient().getState()).rejects.toBeInstanceOf(DesktopError);
    await expect(desktopClient().getState()).rejects.toMatchObject({ code: 'bridge-missing' });
    const api = fakeApi();
    vi.stubGlobal('window', { desktop: api });
    await expect(desktopClient().setServer('https://calls.example.org')).resolves.toEqual({ call: 'setServer', args: ['https://calls.example.org'] });
    expect(desktopClient()).toBe(desktopClient());
  });
});
