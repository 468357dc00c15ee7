/**
 * The production template (deploy/coturn/turnserver.conf.template), rendered from a signaling server
 * configuration by the same code `npm run turn:config` runs, loaded by a real coturn on loopback:
 * credentials the server issues work over UDP, TCP and TLS; the TURN server relays to public peers
 * and refuses to relay into special-purpose networks; it grants no RFC 6062 TCP allocation; secret
 * rotation works by re-rendering. CreatePermission only: no relayed data is ever sent to any peer,
 * public or not, so nothing leaves this machine.
 *
 * Measured with coturn 4.6.1 (Debian) on this production render:
 * - CreatePermission succeeds for 1.1.1.1, 8.8.8.8, 9.9.9.9 (IPv4 relay) and 2606:4700:4700::1111,
 *   2001:4860:4860::8888 (IPv6 relay on relay-ip ::1, asked for with REQUESTED-ADDRESS-FAMILY), and
 *   for the public addresses just outside each private IPv4 range;
 * - it answers 403 for every special-purpose peer listed below, IPv4 and IPv6;
 * - Allocate with REQUESTED-TRANSPORT TCP answers 442 over TCP and TLS (no-tcp-relay).
 * The control suite renders the same template with "::0.0.0.0-::255.255.255.255" put back and
 * no-tcp-relay taken out, as the template had them before: there 1.1.1.1 and 8.8.8.8 get 403 and the
 * TCP allocation is granted, so these checks catch both defects.
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

// Public peers (and public neighbours of the private ranges) that a real call may need to reach.
const PUBLIC_IPV4 = ['1.1.1.1', '8.8.8.8', '9.9.9.9', '11.0.0.1', '100.128.0.1', '172.32.0.1', '192.169.0.1'];
const PUBLIC_IPV6 = ['2606:4700:4700::1111', '2001:4860:4860::8888'];

const SPECIAL_IPV4: Array<[string, string]> = [
  ['loopback', '127.0.0.1'],
  ['another loopback address', '127.0.0.53'],
  ['RFC 1918 10/8', '10.0.0.1'],
  ['the end of RFC 1918 10/8', '10.255.255.255'],
  ['RFC 1918 172.16/12', '172.16.5.4'],
  ['the end of RFC 1918 172.16/12', '172.31.255.255'],
  ['RFC 1918 192.168/16', '192.168.1.1'],
  ['carrier-grade NAT', '100.64.0.1'],
  ['the end of carrier-grade NAT', '100.127.255.255'],
  ['link local', '169.254.0.1'],
  ['cloud metadata', '169.254.169.254'],
  ['this network', '0.0.0.0'],
  ['documentation', '192.0.2.1'],
  ['benchmarking', '198.18.0.1'],
  ['multicast', '239.255.255.250'],
  ['reserved', '240.0.0.1'],
];

const SPECIAL_IPV6: Array<[string, string]> = [
  ['IPv6 loopback', '::1'],
  ['the unspecified address', '::'],
  ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
  ['IPv4-mapped metadata', '::ffff:169.254.169.254'],
  ['IPv4-mapped RFC 1918', '::ffff:10.0.0.1'],
  ['IPv4-compatible loopback', '::127.0.0.1'],
  ['IPv4-compatible RFC 1918', '::10.0.0.1'],
  ['unique local', 'fd00::1'],
  ['unique local fc00::/8', 'fc00::1'],
  ['link local', 'fe80::1'],
  ['NAT64 to RFC 1918', '64:ff9b::a00:1'],
  ['NAT64 to loopback', '64:ff9b::7f00:1'],
  ['documentation', '2001:db8::1'],
  ['6to4', '2002:a00:1::1'],
  ['multicast', 'ff02::1'],
];

/** The template's rendered text with a line put back or taken out, for the control suite. */
function withLine(text: string, add: string, remove: string): string {
  const lines = text.split('\n').filter((l) => l !== remove);
  expect(lines.length, `the render has no "${remove}" line to take out`).toBe(text.split('\n').length - 1);
  return [...lines, add].join('\n');
}

describe.skipIf(!present)('production coturn template', () => {
  let work: string;
  let ca: Buffer;
  let tls: { certPath: string; keyPath: string };
  let ports: { turn: number; tls: number };
  let coturn: CoturnProcess | undefined;
  const clients: TurnClient[] = [];

  const serverConfig = (secrets: string[], p = ports): ServerConfig =>
    parseConfig({
      publicUrl: 'https://signal.example.test',
      idp: { issuer: 'https://id.example.test', audience: 'zr', clientId: 'desktop' },
      roomToken: { secret: randomBytes(32).toString('hex') },
      turn: { secrets, host: '127.0.0.1', realm: 'turn.example.test', stunPort: p.turn, turnPort: p.turn, turnsPort: p.tls },
    });

  /** The production render for loopback: what `npm run turn:config` writes with these options. */
  const render = (secrets: string[], p = ports): string =>
    renderCoturnConfig(serverConfig(secrets, p), {
      certFile: tls.certPath,
      keyFile: tls.keyPath,
      listeningIps: ['127.0.0.1', '::1'],
      // Relaying from loopback keeps every allocation on this machine; ::1 gives IPv6 relays.
      relayIps: ['127.0.0.1', '::1'],
      allowedPeerIps: [OWN_MEDIA_IP],
      minPort: 40000,
      maxPort: 40999,
    });

  const launch = (config: string, p = ports) =>
    startCoturn({ config, host: '127.0.0.1', udpPort: p.turn, tcpPorts: [p.turn, p.tls], tls: true });

  async function run(secrets: string[]): Promise<void> {
    await coturn?.stop();
    coturn = await launch(render(secrets));
  }

  async function client(transport: TurnConnectOptions['transport'], p = ports): Promise<TurnClient> {
    const c = await TurnClient.connect({
      transport,
      host: '127.0.0.1',
      port: transport === 'tls' ? p.tls : p.turn,
      ...(transport === 'tls' ? { ca, servername: 'localhost' } : {}),
    });
    clients.push(c);
    return c;
  }

  /** A client holding a UDP relay of the given family, ready for CreatePermission. */
  async function relay(family: 'IPv4' | 'IPv6', p = ports): Promise<TurnClient> {
    let c = await client('udp', p);
    let result = await c.allocate(issued(SECRET_NEW), { family });
    // Rarely coturn fails to open its relay socket for an allocation (its log: "socket: Protocol not
    // supported"; once in nine full runs here, on an IPv6 relay). The allocation is the test's setup,
    // not the rule under test, so it is tried once more on a new client; a real refusal fails twice.
    if (!result.ok) {
      c = await client('udp', p);
      result = await c.allocate(issued(SECRET_NEW), { family });
    }
    expect(result, coturn?.logTail()).toMatchObject({ ok: true, relayed: { family } });
    return c;
  }

  const issued = (secret: string, ttlSeconds = 900) => {
    const c = createTurnCredential({ secret, id: randomBytes(8).toString('base64url'), ttlSeconds });
    return { username: c.username, password: c.credential };
  };

  const freePorts = async () => {
    const turn = await freePort();
    return { turn, tls: await freePort('127.0.0.1', [turn]) };
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'zr-coturn-template-'));
    await ensureDevCa(path.join(work, 'ca'));
    tls = await issueDevCertificate({ caDir: path.join(work, 'ca'), outDir: path.join(work, 'tls'), hosts: ['localhost', '127.0.0.1'], days: 1 });
    ca = await readFile(path.join(work, 'ca', 'dev-ca.pem'));
    ports = await freePorts();
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
    for (const line of ['use-auth-secret', 'fingerprint', 'no-cli', 'no-software-attribute', 'no-multicast-peers', 'no-rfc5780', 'no-tcp-relay', 'stale-nonce=600', 'no-tlsv1', 'no-tlsv1_1', 'denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255', 'denied-peer-ip=169.254.0.0-169.254.255.255']) {
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

  it.each(PUBLIC_IPV4)('permits relaying to the public peer %s over IPv4', async (peer) => {
    expect(await (await relay('IPv4')).createPermission(peer)).toEqual({ ok: true });
  });

  it.each(PUBLIC_IPV6)('permits relaying to the public peer %s over IPv6', async (peer) => {
    expect(await (await relay('IPv6')).createPermission(peer)).toEqual({ ok: true });
  });

  it.each(SPECIAL_IPV4)('refuses to relay to %s (%s) over IPv4', async (_name, peer) => {
    expect(await (await relay('IPv4')).createPermission(peer)).toMatchObject({ ok: false, code: 403 });
  });

  it.each(SPECIAL_IPV6)('refuses to relay to %s (%s) over IPv6', async (_name, peer) => {
    expect(await (await relay('IPv6')).createPermission(peer)).toMatchObject({ ok: false, code: 403 });
  });

  it.each(['tcp', 'tls'] as const)('refuses an RFC 6062 TCP allocation over %s with 442', async (transport) => {
    const c = await client(transport);
    expect(await c.allocate(issued(SECRET_NEW), { relay: 'tcp' })).toMatchObject({ ok: false, code: 442 });
  });

  it("allows the deployment's own listed media address and nothing beside it", async () => {
    const c = await relay('IPv4');
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

  describe('control: the same checks fail on the template as it was', () => {
    let old: CoturnProcess | undefined;
    let oldPorts: { turn: number; tls: number };
    beforeAll(async () => {
      oldPorts = await freePorts();
      const text = withLine(render([SECRET_NEW], oldPorts), 'denied-peer-ip=::0.0.0.0-::255.255.255.255', 'no-tcp-relay');
      old = await launch(text, oldPorts);
    });
    afterAll(async () => {
      await old?.stop();
    });

    it('an IPv6 range starting at :: refuses every public IPv4 peer', async () => {
      const c = await relay('IPv4', oldPorts);
      for (const peer of ['1.1.1.1', '8.8.8.8']) expect(await c.createPermission(peer)).toMatchObject({ ok: false, code: 403 });
    });

    it('without no-tcp-relay a TCP allocation is granted', async () => {
      const c = await client('tcp', oldPorts);
      expect(await c.allocate(issued(SECRET_NEW), { relay: 'tcp' })).toMatchObject({ ok: true });
    });
  });
});
