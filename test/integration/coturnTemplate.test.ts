/**
 * The production template (deploy/coturn/turnserver.conf.template), rendered from a signaling server
 * configuration by the same code `npm run turn:config` runs, loaded by a real coturn on loopback:
 * credentials the server issues work over UDP, TCP and TLS; the TURN server refuses to relay into
 * special-purpose networks; secret rotation works by re-rendering. CreatePermission only: no relayed
 * data is ever sent to any peer.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ServerConfig } from '../../server/src/config.js';
import { renderCoturnConfig } from '../../server/src/coturnConfig.js';
import { createTurnCredential } from '../../server/src/turn.js';
import { freePort, startCoturn, turnserverPath, type CoturnProcess } from '../../dev/coturn.js';
import { ensureDevCa, issueDevCertificate } from '../../dev/devCerts.js';
import { TurnClient, type TurnConnectOptions } from '../support/stunClient.js';

const present = turnserverPath() !== null;
if (!present) console.warn('coturnTemplate.test.ts: skipped: `turnserver` (coturn) is not installed');

const SECRET_OLD = randomBytes(24).toString('base64url');
const SECRET_NEW = randomBytes(24).toString('base64url');
// A private address standing in for the deployment's own media network, allowed explicitly.
const OWN_MEDIA_IP = '10.99.0.5';

describe.skipIf(!present)('production coturn template', () => {
  let work: string;
  let ca: Buffer;
  let tls: { certPath: string; keyPath: string };
  let ports: { turn: number; tls: number };
  let coturn: CoturnProcess | undefined;
  const clients: TurnClient[] = [];

  const serverConfig = (secrets: string[]): ServerConfig =>
    parseConfig({
      publicUrl: 'https://signal.example.test',
      idp: { issuer: 'https://id.example.test', audience: 'zr', clientId: 'desktop' },
      roomToken: { secret: randomBytes(32).toString('hex') },
      turn: { secrets, host: '127.0.0.1', realm: 'turn.example.test', stunPort: ports.turn, turnPort: ports.turn, turnsPort: ports.tls },
    });

  async function run(secrets: string[]): Promise<void> {
    await coturn?.stop();
    const config = renderCoturnConfig(serverConfig(secrets), {
      certFile: tls.certPath,
      keyFile: tls.keyPath,
      listeningIps: ['127.0.0.1', '::1'],
      // Relaying from loopback keeps every allocation on this machine.
      relayIps: ['127.0.0.1', '::1'],
      allowedPeerIps: [OWN_MEDIA_IP],
      minPort: 40000,
      maxPort: 40999,
    });
    coturn = await startCoturn({ config, host: '127.0.0.1', udpPort: ports.turn, tcpPorts: [ports.turn, ports.tls], tls: true });
  }

  async function client(transport: TurnConnectOptions['transport']): Promise<TurnClient> {
    const c = await TurnClient.connect({
      transport,
      host: '127.0.0.1',
      port: transport === 'tls' ? ports.tls : ports.turn,
      ...(transport === 'tls' ? { ca, servername: 'localhost' } : {}),
    });
    clients.push(c);
    return c;
  }

  const issued = (secret: string, ttlSeconds = 900) => {
    const c = createTurnCredential({ secret, id: randomBytes(8).toString('base64url'), ttlSeconds });
    return { username: c.username, password: c.credential };
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'zr-coturn-template-'));
    await ensureDevCa(path.join(work, 'ca'));
    tls = await issueDevCertificate({ caDir: path.join(work, 'ca'), outDir: path.join(work, 'tls'), hosts: ['localhost', '127.0.0.1'], days: 1 });
    ca = await readFile(path.join(work, 'ca', 'dev-ca.pem'));
    const turn = await freePort();
    ports = { turn, tls: await freePort('127.0.0.1', [turn]) };
    await run([SECRET_NEW, SECRET_OLD]);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await coturn?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('renders every placeholder and the hardening options', () => {
    const text = renderCoturnConfig(serverConfig([SECRET_NEW]), { certFile: '/c.pem', keyFile: '/k.pem' });
    expect(text).not.toMatch(/@[A-Z_]+@/);
    for (const line of ['use-auth-secret', 'fingerprint', 'no-cli', 'no-software-attribute', 'no-multicast-peers', 'no-rfc5780', 'stale-nonce=600', 'no-tlsv1', 'no-tlsv1_1', 'denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255', 'denied-peer-ip=169.254.0.0-169.254.255.255']) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).toMatch(/^user-quota=\d+$/m);
    expect(text).toMatch(/^total-quota=\d+$/m);
    expect(text).toMatch(/^max-bps=\d+$/m);
    expect(text).toMatch(/^min-port=49152$/m);
    expect(text).not.toMatch(/^allow-loopback-peers/m);
  });

  it.each(['udp', 'tcp', 'tls'] as const)('allocates over %s with credentials the server issues, and refuses expired or wrong ones', async (transport) => {
    const c = await client(transport);
    const ok = await c.allocate(issued(SECRET_NEW));
    expect(ok, coturn!.logTail()).toMatchObject({ ok: true, relayed: { address: '127.0.0.1' } });
    const expired = await (await client(transport)).allocate(issued(SECRET_NEW, -60));
    expect(expired).toMatchObject({ ok: false, code: 401 });
    const forged = await (await client(transport)).allocate(issued(randomBytes(24).toString('base64url')));
    expect(forged).toMatchObject({ ok: false, code: 401 });
  });

  it.each([
    ['loopback', '127.0.0.1'],
    ['another loopback address', '127.0.0.53'],
    ['RFC 1918 10/8', '10.0.0.1'],
    ['RFC 1918 172.16/12', '172.16.5.4'],
    ['RFC 1918 192.168/16', '192.168.1.1'],
    ['carrier-grade NAT', '100.64.0.1'],
    ['cloud metadata', '169.254.169.254'],
    ['this network', '0.0.0.0'],
    ['benchmarking', '198.18.0.1'],
    ['multicast', '239.255.255.250'],
  ])('refuses to relay to %s (%s) over IPv4', async (_name, peer) => {
    const c = await client('udp');
    expect(await c.allocate(issued(SECRET_NEW))).toMatchObject({ ok: true });
    expect(await c.createPermission(peer)).toMatchObject({ ok: false, code: 403 });
  });

  it.each([
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['IPv4-mapped metadata', '::ffff:169.254.169.254'],
    ['IPv4-mapped RFC 1918', '::ffff:10.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['unique local', 'fd00::1'],
    ['link local', 'fe80::1'],
    ['NAT64', '64:ff9b::a00:1'],
  ])('refuses to relay to %s (%s) over IPv6', async (_name, peer) => {
    const c = await client('udp');
    expect(await c.allocate(issued(SECRET_NEW), { family: 'IPv6' })).toMatchObject({ ok: true, relayed: { family: 'IPv6' } });
    expect(await c.createPermission(peer)).toMatchObject({ ok: false, code: 403 });
  });

  it("allows the deployment's own listed media address and nothing beside it", async () => {
    const c = await client('udp');
    expect(await c.allocate(issued(SECRET_NEW))).toMatchObject({ ok: true });
    expect(await c.createPermission(OWN_MEDIA_IP)).toEqual({ ok: true });
    expect(await c.createPermission('10.99.0.6')).toMatchObject({ ok: false, code: 403 });
  });

  it('rotates secrets: both work while listed, the removed one is refused after re-rendering', async () => {
    expect(await (await client('udp')).allocate(issued(SECRET_OLD))).toMatchObject({ ok: true });
    expect(await (await client('tls')).allocate(issued(SECRET_NEW))).toMatchObject({ ok: true });
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await run([SECRET_NEW]);
    for (const transport of ['udp', 'tcp', 'tls'] as const) {
      expect(await (await client(transport)).allocate(issued(SECRET_OLD))).toMatchObject({ ok: false, code: 401 });
      expect(await (await client(transport)).allocate(issued(SECRET_NEW))).toMatchObject({ ok: true });
    }
  });
});
