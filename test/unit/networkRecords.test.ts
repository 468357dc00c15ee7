import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { networkFingerprint, networkPrefix, NetworkRecords } from '../../electron/main/NetworkRecords.js';

const v4 = (address: string, cidr = `${address}/24`, internal = false): NetworkInterfaceInfo =>
  ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr }) as NetworkInterfaceInfo;
const v6 = (address: string): NetworkInterfaceInfo =>
  ({ address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/64`, scopeid: 0 }) as NetworkInterfaceInfo;

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'zr-net-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('network fingerprint', () => {
  it('is stable across a new DHCP lease and IPv6 privacy addresses, and differs on another network', () => {
    const home = networkFingerprint({ lo: [v4('127.0.0.1', '127.0.0.1/8', true)], wlan0: [v4('192.168.1.23'), v6('2001:db8:1:2::abcd'), v6('fe80::1')] }, 'salt');
    const homeLater = networkFingerprint({ wlan0: [v4('192.168.1.77'), v6('2001:db8:1:2::9999')] }, 'salt');
    const office = networkFingerprint({ eth0: [v4('10.20.30.40', '10.20.30.40/16')] }, 'salt');
    expect(home).toBe(homeLater);
    expect(office).not.toBe(home);
    expect(networkFingerprint({ lo: [v4('127.0.0.1', '127.0.0.1/8', true)] }, 'salt')).toBeNull();
  });

  it('depends on the salt, so the stored file names no network', () => {
    const ifs = { eth0: [v4('10.0.0.5')] };
    expect(networkFingerprint(ifs, 'a')).not.toBe(networkFingerprint(ifs, 'b'));
  });
});

describe('network prefix', () => {
  it('takes the /64 of a compressed IPv6 address, the same as of its full form', () => {
    expect(networkPrefix(v6('2001:db8::5'))).toBe('6:2001:db8:0:0/64');
    expect(networkPrefix(v6('2001:0db8:0000:0000:0000:0000:0000:0005'))).toBe('6:2001:db8:0:0/64');
    expect(networkPrefix(v6('2001:db8:1:2::abcd'))).toBe('6:2001:db8:1:2/64');
    expect(networkPrefix(v6('2001:db8:1::'))).toBe('6:2001:db8:1:0/64');
    // Splitting on ':' took "2001:db8::5" as the /64 "2001:db8::5": another address on the same network differed.
    expect(networkPrefix(v6('2001:db8::5'))).toBe(networkPrefix(v6('2001:db8::ffff:1')));
    expect(networkPrefix(v6('2001:db8:0:1::5'))).not.toBe(networkPrefix(v6('2001:db8::5')));
  });

  it('ignores a zone id, reads an IPv4-mapped address as IPv4, skips link-local and what it cannot parse', () => {
    expect(networkPrefix(v6('2001:db8:1:2::5%eth0'))).toBe('6:2001:db8:1:2/64');
    expect(networkPrefix(v6('::ffff:192.0.2.77'))).toBe('4:192.0.2.0/24');
    expect(networkPrefix(v6('::ffff:192.0.2.77'))).toBe(networkPrefix(v4('192.0.2.5')));
    expect(networkPrefix(v6('fe80::1%wlan0'))).toBeNull();
    expect(networkPrefix(v6('fe80::1'))).toBeNull();
    expect(networkPrefix(v6('not-an-address'))).toBeNull();
    expect(networkPrefix(v4('10.20.30.40', '10.20.30.40/16'))).toBe('4:10.20.0.0/16');
    expect(networkPrefix(v4('127.0.0.1', '127.0.0.1/8', true))).toBeNull();
  });
});

describe('NetworkRecords', () => {
  it('remembers a restrictive network, forgets after 30 days or when asked', () => {
    let now = Date.parse('2026-11-01T00:00:00Z');
    let ifs: NodeJS.Dict<NetworkInterfaceInfo[]> = { eth0: [v4('10.0.0.5')] };
    const dir = tmp();
    const records = new NetworkRecords(dir, () => ifs, () => now);
    expect(records.current().record).toBeNull();
    records.remember(true);
    expect(records.current().record).toMatchObject({ restrictive: true });
    // Survives a restart; the file holds no address.
    expect(new NetworkRecords(dir, () => ifs, () => now).current().record).toMatchObject({ restrictive: true });
    expect(readFileSync(join(dir, 'networks.json'), 'utf8')).not.toContain('10.0.0');
    ifs = { wlan0: [v4('192.168.7.9')] };
    expect(records.current().record).toBeNull();
    ifs = { eth0: [v4('10.0.0.5')] };
    now += 31 * 24 * 3600 * 1000;
    expect(records.current().record).toBeNull();
    records.remember(true);
    records.forgetAll();
    expect(records.current().record).toBeNull();
  });

  it('starts afresh from a corrupt file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'networks.json'), '{not json');
    const records = new NetworkRecords(dir, () => ({ eth0: [v4('10.0.0.5')] }));
    expect(records.current().record).toBeNull();
    records.remember(false);
    expect(records.current().record).toMatchObject({ restrictive: false });
  });
});
