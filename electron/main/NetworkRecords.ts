import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';

/** What the app learned about one network: it blocks UDP and plain TURN, so start with relay over 443. */
export interface NetworkRecord {
  restrictive: boolean;
  /** When this was last observed (ISO 8601). */
  seenAt: string;
}

interface FileShape {
  /** Per-install salt, so the file reveals nothing about the networks it names. */
  salt: string;
  records: Record<string, NetworkRecord>;
}

const MAX_AGE_MS = 30 * 24 * 3600 * 1000;
const MAX_RECORDS = 64;

/** The network an interface address is on: its IPv4 /24 (or shorter) or IPv6 /64; null for addresses that name no network. */
export function networkPrefix(info: NetworkInterfaceInfo): string | null {
  if (info.internal) return null;
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // A parser, not string splitting: IPv6 is written compressed (2001:db8::5), maybe with a zone (%eth0).
    address = ipaddr.parse(info.address);
  } catch {
    return null;
  }
  let cidrBits = info.family === 'IPv4' ? Number(info.cidr?.split('/')[1] ?? 24) : 24;
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
    cidrBits = 24;
  }
  if (address.kind() === 'ipv4') {
    // The /24 (or the interface's own, if shorter) is coarse enough to stay stable across DHCP leases.
    const bits = Number.isInteger(cidrBits) && cidrBits >= 0 ? Math.min(24, cidrBits) : 24;
    const n = address.toByteArray().reduce((acc, o) => (acc << 8) | o, 0) >>> 0;
    const masked = bits === 0 ? 0 : (n & (0xffffffff << (32 - bits))) >>> 0;
    return `4:${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.')}/${bits}`;
  }
  // IPv6 link-local and privacy addresses change; the /64 of a global address is the network.
  if (address.range() === 'linkLocal') return null;
  return `6:${(address as ipaddr.IPv6).parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}/64`;
}

/** A coarse fingerprint of the networks this machine is on; equal on the same network, different elsewhere. */
export function networkFingerprint(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>, salt: string): string | null {
  const prefixes = new Set<string>();
  for (const list of Object.values(interfaces)) for (const info of list ?? []) {
    const p = networkPrefix(info);
    if (p) prefixes.add(p);
  }
  if (prefixes.size === 0) return null;
  return createHash('sha256').update(salt).update([...prefixes].sort().join('|')).digest('base64url').slice(0, 22);
}

/** Records per network fingerprint, in one small file under the app's data folder. */
export class NetworkRecords {
  private readonly file: string;
  private data: FileShape;

  constructor(
    dir: string,
    private readonly interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>,
    private readonly now: () => number = Date.now,
  ) {
    this.file = join(dir, 'networks.json');
    this.data = this.load();
  }

  current(): { fingerprint: string | null; record: NetworkRecord | null } {
    const fingerprint = networkFingerprint(this.interfaces(), this.data.salt);
    const record = fingerprint ? this.data.records[fingerprint] : undefined;
    if (!record || this.now() - Date.parse(record.seenAt) > MAX_AGE_MS) return { fingerprint, record: null };
    return { fingerprint, record };
  }

  remember(restrictive: boolean): void {
    const fingerprint = networkFingerprint(this.interfaces(), this.data.salt);
    if (!fingerprint) return;
    this.data.records[fingerprint] = { restrictive, seenAt: new Date(this.now()).toISOString() };
    const entries = Object.entries(this.data.records).sort((a, b) => Date.parse(b[1].seenAt) - Date.parse(a[1].seenAt));
    this.data.records = Object.fromEntries(entries.slice(0, MAX_RECORDS));
    this.save();
  }

  /** Forgets every network, and takes a new salt so old fingerprints cannot be matched again. */
  forgetAll(): void {
    this.data = { salt: randomBytes(16).toString('base64url'), records: {} };
    this.save();
  }

  private load(): FileShape {
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<FileShape>;
      if (typeof raw.salt === 'string' && raw.salt.length >= 16 && raw.records && typeof raw.records === 'object') {
        const records: Record<string, NetworkRecord> = {};
        for (const [k, v] of Object.entries(raw.records)) {
          if (typeof v?.restrictive === 'boolean' && typeof v.seenAt === 'string' && !Number.isNaN(Date.parse(v.seenAt))) records[k] = v;
        }
        return { salt: raw.salt, records };
      }
    } catch {
      // absent or unreadable: start afresh
    }
    return { salt: randomBytes(16).toString('base64url'), records: {} };
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
