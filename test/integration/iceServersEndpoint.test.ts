import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IceServersResponse } from '../../shared/protocol/index.js';
import { SignalingHarness, TEST_TURN_SECRET } from '../support/signalingHarness.js';

/** `POST /v1/ice-servers`: TURN credentials for "Check my network", with no room involved. */
describe('POST /v1/ice-servers', () => {
  let h: SignalingHarness;

  const post = async (accessToken: string | undefined, method = 'POST') => {
    const res = await fetch(`${h.baseUrl}/v1/ice-servers`, {
      method,
      headers: accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` },
    });
    return { status: res.status, body: (await res.json()) as unknown, headers: res.headers };
  };
  const audits = () =>
    h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.audit === true);

  beforeAll(async () => {
    h = await SignalingHarness.start({ limits: { networkCheckBurst: 3, networkChecksPerMinute: 1 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('issues STUN and TURN servers with fresh REST credentials that match the HMAC of the shared secret', async () => {
    const before = Date.now();
    const res = await post(await h.accessToken('alice'));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = IceServersResponse.parse(res.body);
    expect(body.iceServers[0]).toEqual({ urls: 'stun:127.0.0.1:3478' });
    const turn = body.iceServers.find((s) => s.username)!;
    expect(turn.urls).toEqual(['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp', 'turns:127.0.0.1:443?transport=tcp']);
    // `<expiry>:<check session id>`, signed as coturn's use-auth-secret expects.
    const [expiry, id] = turn.username!.split(':');
    expect(Number(expiry) * 1000).toBe(Date.parse(body.expiresAt));
    expect(Number(expiry) * 1000 - before).toBeGreaterThan(890_000);
    expect(id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(turn.credential).toBe(createHmac('sha1', TEST_TURN_SECRET).update(turn.username!).digest('base64'));

    // Each check gets its own session id, and it is audited (without the credential).
    const again = IceServersResponse.parse((await post(await h.accessToken('alice'))).body);
    const againId = again.iceServers.find((s) => s.username)!.username!.split(':')[1];
    expect(againId).not.toBe(id);
    const issued = audits().filter((l) => l.event === 'ice-servers.issued');
    expect(issued.map((l) => l.sid)).toEqual(expect.arrayContaining([id, againId]));
    expect(issued[0]).toMatchObject({ sub: expect.any(String), purpose: 'network-check' });
    expect(h.logs.join('\n')).not.toContain(turn.credential!);
  });

  it('answers 401 without a token or with a bad one, and audits the rejection', async () => {
    const none = await post(undefined);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: { code: 'unauthorized' } });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const bad = await post('not-a-token');
    expect(bad.status).toBe(401);
    expect(audits().some((l) => l.event === 'access-token.rejected')).toBe(true);
  });

  it('takes POST only', async () => {
    const res = await post(await h.accessToken('alice'), 'GET');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('limits checks per user, says when to retry, and leaves other users alone', async () => {
    const token = await h.accessToken('bob');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(token)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await post(token);
    expect(limited.body).toMatchObject({ error: { code: 'rate-limited' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(audits().some((l) => l.event === 'ice-servers.denied' && l.reason === 'rate-limited')).toBe(true);
    expect((await post(await h.accessToken('carol'))).status).toBe(200);
  });

  it('lets any page read /healthz (the check measures it from the app)', async () => {
    const res = await fetch(`${h.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});
