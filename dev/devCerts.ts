/**
 * Development-only certificate authority and TLS certificates (for coturn's turns: listener and
 * tests), made with the `openssl` CLI. Never use these in production.
 */
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export interface DevCa {
  caCertPath: string;
  caKeyPath: string;
}

export interface DevCertificate {
  certPath: string;
  keyPath: string;
  /** base64(sha256(DER SubjectPublicKeyInfo)): the value Chromium's --ignore-certificate-errors-spki-list takes. */
  spkiSha256Base64: string;
}

const CA_CERT = 'dev-ca.pem';
const CA_KEY = 'dev-ca-key.pem';
const CA_DAYS = 3650;
/** A CA this close to expiry is replaced rather than reused. */
const CA_MIN_REMAINING_MS = 30 * 24 * 3600 * 1000;

const CA_CONFIG = `[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = ZeroRange Development CA
O = ZeroRange (development only)
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

/** Creates an EC P-256 CA in `dir` once; later calls reuse it while it is valid and matches its key. */
export async function ensureDevCa(dir: string): Promise<DevCa> {
  const caCertPath = path.resolve(dir, CA_CERT);
  const caKeyPath = path.resolve(dir, CA_KEY);
  if (await isUsableCa(caCertPath, caKeyPath)) return { caCertPath, caKeyPath };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Build in a private scratch dir and rename into place, so a crash never leaves half a CA behind.
  const work = await mkdtemp(path.join(dir, '.ca-'));
  try {
    const key = path.join(work, CA_KEY);
    const cert = path.join(work, CA_CERT);
    const conf = path.join(work, 'ca.cnf');
    await writeFile(conf, CA_CONFIG);
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    await chmod(key, 0o600);
    await openssl(['req', '-x509', '-new', '-config', conf, '-key', key, '-sha256', '-days', String(CA_DAYS), '-out', cert]);
    await rename(key, caKeyPath);
    await rename(cert, caCertPath);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { caCertPath, caKeyPath };
}

/**
 * Issues an EC P-256 server certificate signed by the CA in `caDir` (created if needed) for `hosts`
 * (DNS names and IP literals, all put in subjectAltName). Writes `<name>.pem` and `<name>-key.pem`.
 */
export async function issueDevCertificate(opts: {
  caDir: string;
  outDir: string;
  hosts: string[];
  days?: number;
  /** File name stem; default "server". */
  name?: string;
}): Promise<DevCertificate> {
  const { hosts, days = 90, name = 'server' } = opts;
  if (hosts.length === 0) throw new Error('issueDevCertificate: hosts must name at least one DNS name or IP');
  // Validated strictly: the values are written into an openssl config file.
  const sans = hosts.map((h) => {
    if (net.isIP(h)) return `IP:${h}`;
    if (/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(h)) return `DNS:${h}`;
    throw new Error(`issueDevCertificate: not a DNS name or IP address: ${JSON.stringify(h)}`);
  });
  if (!Number.isInteger(days) || days < 1) throw new Error(`issueDevCertificate: days must be a positive integer, got ${days}`);
  if (!/^[\w.-]+$/.test(name)) throw new Error(`issueDevCertificate: bad name ${JSON.stringify(name)}`);

  const ca = await ensureDevCa(opts.caDir);
  await mkdir(opts.outDir, { recursive: true });
  const certPath = path.resolve(opts.outDir, `${name}.pem`);
  const keyPath = path.resolve(opts.outDir, `${name}-key.pem`);
  const work = await mkdtemp(path.join(opts.outDir, `.${name}-`));
  try {
    const key = path.join(work, 'key.pem');
    const csr = path.join(work, 'req.csr');
    const cert = path.join(work, 'cert.pem');
    const ext = path.join(work, 'ext.cnf');
    await writeFile(
      ext,
      [
        // [req] keeps `openssl req` independent of the system openssl.cnf.
        '[req]',
        'distinguished_name = dn',
        '[dn]',
        '[v3_leaf]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = serverAuth',
        `subjectAltName = ${sans.join(', ')}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    );
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    await chmod(key, 0o600);
    // The CN is informational only (clients match subjectAltName); keep it short and config-safe.
    await openssl(['req', '-new', '-config', ext, '-key', key, '-subj', `/O=ZeroRange (development only)/CN=${hosts[0]!.slice(0, 64)}`, '-out', csr]);
    await openssl([
      'x509', '-req', '-in', csr, '-CA', ca.caCertPath, '-CAkey', ca.caKeyPath,
      // A random serial avoids a .srl file next to the CA and serial reuse between issues.
      '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', String(days), '-sha256', '-extfile', ext, '-extensions', 'v3_leaf', '-out', cert,
    ]);
    await rename(key, keyPath);
    await rename(cert, certPath);
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const spki = createPublicKey(await readFile(certPath)).export({ type: 'spki', format: 'der' });
  return { certPath, keyPath, spkiSha256Base64: createHash('sha256').update(spki).digest('base64') };
}

async function isUsableCa(certPath: string, keyPath: string): Promise<boolean> {
  if (!existsSync(certPath) || !existsSync(keyPath)) return false;
  try {
    const cert = new X509Certificate(await readFile(certPath));
    const keyPub = createPublicKey(await readFile(keyPath));
    const matches = cert.publicKey.export({ type: 'spki', format: 'der' }).equals(keyPub.export({ type: 'spki', format: 'der' }));
    const validFrom = Date.parse(cert.validFrom);
    const validTo = Date.parse(cert.validTo);
    return cert.ca && matches && validFrom <= Date.now() && validTo - Date.now() > CA_MIN_REMAINING_MS;
  } catch {
    return false; // unreadable or corrupt: make a new one
  }
}

function openssl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error('openssl not found on PATH; install it (Debian/Ubuntu: apt-get install openssl)'));
      }
      reject(new Error(`openssl ${args[0]} failed: ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}
