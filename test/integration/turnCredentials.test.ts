/**
 * The TURN credentials the signaling server hands out (server/src/turn.ts) against a real coturn
 * with use-auth-secret: accepted over UDP, TCP and TLS; expired, mis-signed and rotated-out ones
 * refused with 401. Everything stays on loopback; no test sends relayed data to any peer.
 */
import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTurnCredential } from '../../server/src/turn.js';
import { ensureDevCa, issueDevCertificate } from '../../dev/devCerts.js';
import { hasCoturn, startCoturn, type CoturnHandle } from '../support/coturn.js';
import { TurnClient, type TurnConnectOptions } from '../support/stunClient.js';

const coturnPresent = hasCoturn();
if (!coturnPresent) {
  console.warn('turnCredentials.test.ts: skipped: `turnserver` (coturn) is not on PATH; install coturn to run it');
}

type Transport = TurnConnectOptions['transport'];
const TRANSPORTS: Transport[] = ['udp', 'tcp', 'tls'];
const REALM = 'zerorange.test';
const SECRET_A = `secret-a-${randomBytes(12).toString('hex')}`;
const SECRET_B = `secret-b-${randomBytes(12).toString('hex')}`;

function coturnConfig(secrets: string[]): string {
  return ['use-auth-secret', ...secrets.map((s) => `static-auth-secret=${s}`), `realm=${REALM}`, 'fingerprint'].join('\n');
}

function credential(secret: string, ttlSeconds = 600): { username: string; password: string } {
  const c = createTurnCredential({ secret, id: `user-${randomBytes(4).toString('hex')}`, ttlSeconds });
  return { username: c.username, password: c.credential };
}

describe.skipIf(!coturnPresent)('TURN REST credentials against coturn', () => {
  let work: string;
  let caPem: Buffer;
  let tlsFiles: { cert: string; key: string };
  let turn: CoturnHandle | undefined;
  const clients = new Set<TurnClient>();

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'zr-turncred-'));
    const ca = await ensureDevCa(path.join(work, 'ca'));
    const cert = await issueDevCertificate({
      caDir: path.join(work, 'ca'),
      outDir: path.join(work, 'tls'),
      hosts: ['localhost', '127.0.0.1'],
      days: 1,
    });
    caPem = await readFile(ca.caCertPath);
    tlsFiles = { cert: cert.certPath, key: cert.keyPath };
    turn = await startCoturn({ config: coturnConfig([SECRET_A, SECRET_B]), tls: tlsFiles });
  });

  afterAll(async () => {
    await Promise.all([...clients].map((c) => c.close()));
    await turn?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A client to the current coturn; TLS trusts only the dev CA and checks the name "localhost". */
  async function connect(transport: Transport, extra: Partial<TurnConnectOptions> = {}): Promise<TurnClient> {
    const t = turn!;
    const port = transport === 'tls' ? t.tlsPort! : transport === 'tcp' ? t.tcpPort : t.udpPort;
    const c = await TurnClient.connect({
      transport,
      host: '127.0.0.1',
      port,
      timeoutMs: 3000,
      ...(transport === 'tls' ? { ca: caPem, servername: 'localhost' } : {}),
      ...extra,
    });
    clients.add(c);
    return c;
  }

  async function allocateWith(transport: Transport, creds: { username: string; password: string }) {
    const c = await connect(transport);
    try {
      return await c.allocate(creds);
    } finally {
      await c.close();
      clients.delete(c);
    }
  }

  it('answers plain STUN Binding over UDP with the mapped loopback address', async () => {
    const c = await connect('udp');
    const res = await c.bindingRequest();
    expect(res).toMatchObject({ ok: true, mapped: { address: '127.0.0.1', family: 'IPv4' } });
  });

  it.each(TRANSPORTS)('allocates a relay over %s with a fresh credential', async (transport) => {
    const res = await allocateWith(transport, credential(SECRET_A));
    expect(res, turn!.logTail()).toMatchObject({ ok: true, relayed: { address: '127.0.0.1', family: 'IPv4' } });
    if (res.ok) expect(res.lifetime).toBeGreaterThan(0);
  });

  it.each(TRANSPORTS)('accepts credentials signed with the second static-auth-secret over %s', async (transport) => {
    expect(await allocateWith(transport, credential(SECRET_B))).toMatchObject({ ok: true });
  });

  it.each(TRANSPORTS)('refuses an expired credential with 401 over %s', async (transport) => {
    expect(await allocateWith(transport, credential(SECRET_A, -60))).toMatchObject({ ok: false, code: 401 });
  });

  it.each(TRANSPORTS)('refuses a wrong password with 401 over %s', async (transport) => {
    const creds = credential(SECRET_A);
    // Same username, password signed with another secret: a valid-looking but wrong HMAC.
    const wrong = { username: creds.username, password: credential('not-a-configured-secret').password };
    expect(await allocateWith(transport, wrong)).toMatchObject({ ok: false, code: 401 });
    expect(await allocateWith(transport, { ...creds, password: 'wrong' })).toMatchObject({ ok: false, code: 401 });
  });

  it('keeps the allocation usable: refresh and CreatePermission are authenticated with the same key', async () => {
    const c = await connect('udp');
    expect(await c.allocate(credential(SECRET_A))).toMatchObject({ ok: true });
    // coturn raises a requested lifetime below its 600 s default to 600, so ask for more.
    expect(await c.refresh(1200)).toMatchObject({ ok: true, lifetime: 1200 });
    // Permission requests only talk to coturn; nothing is ever sent to these peers.
    expect(await c.createPermission('10.0.0.1')).toEqual({ ok: true });
    // Loopback peers are refused without allow-loopback-peers, which this config does not set.
    expect(await c.createPermission('127.0.0.1')).toMatchObject({ ok: false, code: 403 });
    await c.close();
  });

  it('serves TLS with the dev certificate, trusted only through the dev CA', async () => {
    await expect(connect('tls', { ca: undefined })).rejects.toThrow(/certificate/i);
    await expect(connect('tls', { servername: 'elsewhere.test' })).rejects.toThrow(/elsewhere\.test/);
    // Without SNI the IP subjectAltName 127.0.0.1 is what gets checked.
    const c = await connect('tls', { servername: undefined });
    expect(await c.bindingRequest()).toMatchObject({ ok: true });
  });

  it('after a restart without secret A, refuses its credentials (401) and still accepts secret B', async () => {
    await Promise.all([...clients].map((c) => c.close()));
    clients.clear();
    const old = turn!;
    const ports = { listening: old.udpPort, tls: old.tlsPort! };
    await old.stop();
    turn = undefined;
    turn = await startCoturn({ config: coturnConfig([SECRET_B]), tls: tlsFiles, ports });

    for (const transport of TRANSPORTS) {
      expect(await allocateWith(transport, credential(SECRET_A)), transport).toMatchObject({ ok: false, code: 401 });
      expect(await allocateWith(transport, credential(SECRET_B)), transport).toMatchObject({ ok: true });
    }
  });
});
