/**
 * Network namespaces for call tests (Linux, root only).
 *
 * Chromium never uses `lo` for host candidates, so every browser in a call test runs in a client
 * namespace of its own, joined by a veth to a bridge in a server namespace where the stack runs:
 *
 *   root ns  zr<pid>h<n> 10.77.0.254/24 ──┐
 *   zr-<pid>-<n>-c0  eth0 10.77.0.11/24 ──┤ br0 10.77.0.1/24 in zr-<pid>-<n>-srv
 *   zr-<pid>-<n>-c1  eth0 10.77.0.12/24 ──┘
 *
 * Nothing leaves the machine: no namespace has a default route, nothing is NATed, and the only
 * route added to the root namespace is 10.77.0.0/24 on our own veth. Firewalls are nftables tables
 * inside client namespaces. Everything is removed by destroy(), by a process 'exit' hook (and on
 * SIGTERM/SIGHUP), or — after a SIGKILL — by the sweep the next createTestNetwork() starts with.
 */
import { processAlive } from '../../dev/stackLock.js';
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

export const SERVER_IP = '10.77.0.1';
export const HOST_IP = '10.77.0.254';
const PREFIX = 24;
const FIRST_CLIENT_HOST = 11;
const MAX_CLIENTS = 20;
/** 10.77.0.254 on the root side exists once per machine, so one network may be up at a time. */
const LOCK_FILE = '/run/zerorange-testnet.lock';
const NS_NAME = /^zr-(\d+)-(\d+)-(srv|c\d+)$/;
const ROOT_LINK = /^zr(\d+)h(\d+)$/;

export interface TestClient {
  /** Namespace name, e.g. `zr-4242-1-c0`. */
  ns: string;
  /** Address of the client's `eth0`: 10.77.0.11, .12, … */
  ip: string;
}

/**
 * `'restrictive'`: the client may open TCP connections to serverIp on 443 and on
 *   `allowTcpPorts` only (signaling, IdP); all other output, UDP included, is dropped, and only
 *   replies to its own connections come in. Dropped, not rejected, as real firewalls do: a
 *   blocked TURN/TCP connect then hangs (Chromium reports nothing) instead of failing fast.
 * `'restrictive-no-tls'`: the same with 443 dropped too.
 * `{ udpLossPercent }`: every UDP packet into or out of the client is dropped with that
 *   probability (each direction independently); everything else passes.
 * `{ udpRateKbytesPerSecond }`: UDP the client sends beyond that rate is dropped (a policer, like a
 *   congested uplink); what congestion control must adapt to.
 */
export type FirewallProfile = 'restrictive' | 'restrictive-no-tls' | { udpLossPercent: number } | { udpRateKbytesPerSecond: number };

export interface FirewallOptions {
  /** TCP ports on serverIp the restrictive profiles let through besides 443. */
  allowTcpPorts?: number[];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface TestNetwork {
  serverNs: string;
  serverIp: typeof SERVER_IP;
  /** The root namespace's address on the bridge: where servers in serverNs see the test process. */
  hostIp: typeof HOST_IP;
  clients: readonly TestClient[];
  /** Runs a command in one of this network's namespaces (execFile, no shell); rejects on a non-zero exit. */
  exec(ns: string, cmd: string, args: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** Spawns a command in one of this network's namespaces; `ip netns exec` execs it, so the pid is the command's. */
  spawnIn(ns: string, cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** Pids of the processes inside a namespace (`ip netns pids`). */
  pids(ns: string): Promise<number[]>;
  /** Replaces the client's firewall (atomically) with the profile's. */
  applyFirewall(clientIndex: number, profile: FirewallProfile, opts?: FirewallOptions): Promise<void>;
  clearFirewall(clientIndex: number): Promise<void>;
  /**
   * Moves a client to another address of the test subnet, as a laptop changing networks would: the new
   * address (and with it the subnet route) comes up, then the old one goes. `clients[i].ip` follows.
   */
  readdressClient(clientIndex: number, ip: string): Promise<void>;
  /** Kills what still runs in the namespaces, deletes them (and with them every veth, the bridge and nft table). Idempotent. */
  destroy(): Promise<void>;
}

export type NetnsAvailability = { ok: true } | { ok: false; reason: string };

function ipSync(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
    child.once('error', (err) => (clearTimeout(timer), reject(err)));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code}): ${stderr.trim() || stdout.trim()}`));
    });
    if (child.stdin) {
      // A command that exits without reading its input must not crash the test process (EPIPE).
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

const ip = (...args: string[]) => run('ip', args);


export async function isNetnsAvailable(): Promise<NetnsAvailability> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root' };
  for (const tool of ['ip', 'nft', 'sysctl']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return { ok: false, reason: `${tool} is not installed (iproute2, nftables, procps)` };
    }
  }
  const probe = `zr-${process.pid}-probe`;
  try {
    await ip('netns', 'add', probe);
  } catch (err) {
    return { ok: false, reason: `ip netns add fails here: ${(err as Error).message}` };
  }
  try {
    await ip('-n', probe, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1');
    await run('ip', ['netns', 'exec', probe, 'nft', 'add', 'table', 'inet', 'zr_probe']);
  } catch (err) {
    return { ok: false, reason: `veth or nftables unusable in a namespace: ${(err as Error).message}` };
  } finally {
    await ip('netns', 'del', probe).catch(() => undefined);
  }
  return { ok: true };
}

// --- Teardown, also for a dying process ---------------------------------------------------------

interface Owned {
  namespaces: string[];
  rootLink: string;
}

/** Networks of this process not yet destroyed: what the exit hook removes. */
const live = new Set<Owned>();
let hooksInstalled = false;

function nsPidsSync(ns: string): number[] {
  try {
    return ipSync(['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Blocks the thread (exit handlers cannot await). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Synchronous teardown (usable from 'exit'). Whatever still runs in the namespaces was started by
 * this network's user (a stack, a browser): SIGTERM first so a stack removes its files, SIGKILL after
 * `graceMs`. Then the namespaces go, and with them every veth, the bridge and nft table; our root
 * veth is deleted explicitly because namespace teardown in the kernel is asynchronous.
 */
function teardownSync(owned: Owned, graceMs = 3000): void {
  const running = () => owned.namespaces.flatMap(nsPidsSync);
  let left = running();
  if (left.length) {
    signalAll(left, 'SIGTERM');
    for (const deadline = Date.now() + graceMs; (left = running()).length && Date.now() < deadline; ) sleepSync(50);
    signalAll(left, 'SIGKILL');
  }
  for (const ns of owned.namespaces) {
    try {
      ipSync(['netns', 'del', ns]);
    } catch {
      // not there
    }
  }
  if (!owned.rootLink) return;
  try {
    ipSync(['link', 'del', owned.rootLink]);
  } catch {
    // went with its peer
  }
}

function releaseLockSync(): void {
  try {
    if (readFileSync(LOCK_FILE, 'utf8').trim() === String(process.pid)) rmSync(LOCK_FILE);
  } catch {
    // not ours or gone
  }
}

function onExit(): void {
  for (const owned of live) teardownSync(owned);
  live.clear();
  releaseLockSync();
}

function onFatalSignal(signal: NodeJS.Signals): void {
  onExit();
  // Re-raise for the default action unless someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  process.once('SIGTERM', onFatalSignal);
  process.once('SIGHUP', onFatalSignal);
}

/**
 * Removes namespaces and root veths left by test processes that died without cleaning up (their pid
 * is in the name). Returns what it removed. Leftovers of live processes are left alone.
 */
export function sweepLeftoverNetworks(): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = ipSync(['netns', 'list']).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  } catch {
    return removed;
  }
  const dead = (pid: string) => Number(pid) !== process.pid && !processAlive(Number(pid));
  const deadNs = names.filter((n) => {
    const m = NS_NAME.exec(n);
    return m !== null && dead(m[1]!);
  });
  let links: string[] = [];
  try {
    links = (JSON.parse(ipSync(['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
  } catch {
    // no JSON support: the links go with their namespaces anyway
  }
  const deadLinks = links.filter((l) => {
    const m = ROOT_LINK.exec(l);
    return m !== null && dead(m[1]!);
  });
  if (deadNs.length) {
    teardownSync({ namespaces: deadNs, rootLink: '' });
    removed.push(...deadNs.map((ns) => `netns ${ns}`));
  }
  for (const link of deadLinks) {
    try {
      ipSync(['link', 'del', link]);
      removed.push(`link ${link}`);
    } catch {
      // went with its namespace
    }
  }
  return removed;
}

function acquireLock(): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(LOCK_FILE, 'utf8').trim());
      if (holder === process.pid) {
        throw new Error('this process already has a test network up: destroy() it first (10.77.0.0/24 exists once)', { cause: err });
      }
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new Error(`another test network is up (pid ${holder}, ${LOCK_FILE}): 10.77.0.0/24 can exist once per machine`, { cause: err });
      }
      rmSync(LOCK_FILE, { force: true });
    }
  }
  throw new Error(`cannot take ${LOCK_FILE}`);
}

// --- Firewalls ------------------------------------------------------------------------------

const FW_TABLE = `zr_fw_${process.pid}`;

function firewallRules(profile: FirewallProfile, opts: FirewallOptions): string {
  if (typeof profile === 'object' && 'udpRateKbytesPerSecond' in profile) {
    // A policer: UDP the client sends beyond this rate is dropped, as on a congested uplink.
    const rate = profile.udpRateKbytesPerSecond;
    if (!Number.isInteger(rate) || rate < 1) throw new Error(`udpRateKbytesPerSecond must be a positive integer, not ${rate}`);
    return [
      `table inet ${FW_TABLE} {`,
      `  chain output { type filter hook output priority 0; policy accept; meta l4proto udp limit rate over ${rate} kbytes/second drop; }`,
      '}',
    ].join('\n');
  }
  if (typeof profile === 'object') {
    const n = profile.udpLossPercent;
    if (!Number.isInteger(n) || n < 0 || n > 100) throw new Error(`udpLossPercent must be an integer 0..100, not ${n}`);
    // nft refuses `< 100`: all of it is plainly `drop`.
    const loss = n >= 100 ? 'meta l4proto udp drop' : `meta l4proto udp numgen random mod 100 < ${n} drop`;
    return [
      `table inet ${FW_TABLE} {`,
      `  chain input { type filter hook input priority 0; policy accept; ${loss}; }`,
      `  chain output { type filter hook output priority 0; policy accept; ${loss}; }`,
      '}',
    ].join('\n');
  }
  const ports = [...(profile === 'restrictive' ? [443] : []), ...(opts.allowTcpPorts ?? [])];
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`not a TCP port: ${p}`);
  const allow = ports.length ? `ip daddr ${SERVER_IP} tcp dport { ${[...new Set(ports)].join(', ')} } accept` : '';
  return [
    `table inet ${FW_TABLE} {`,
    '  chain output {',
    '    type filter hook output priority 0; policy drop;',
    '    oifname "lo" accept',
    '    ct state established,related accept',
    `    ${allow}`,
    '  }',
    '  chain input {',
    '    type filter hook input priority 0; policy drop;',
    '    iifname "lo" accept',
    '    ct state established,related accept',
    '  }',
    '}',
  ].join('\n');
}

// --- The network ----------------------------------------------------------------------------

let sequence = 0;

export async function createTestNetwork(opts: { clients: number }): Promise<TestNetwork> {
  if (!Number.isInteger(opts.clients) || opts.clients < 1 || opts.clients > MAX_CLIENTS) {
    throw new Error(`clients must be 1..${MAX_CLIENTS}, not ${opts.clients}`);
  }
  const swept = sweepLeftoverNetworks();
  if (swept.length) console.warn(`netns: removed leftovers of dead test processes: ${swept.join(', ')}`);
  acquireLock();

  const id = `${process.pid}-${++sequence}`;
  const serverNs = `zr-${id}-srv`;
  const clients: TestClient[] = Array.from({ length: opts.clients }, (_, i) => ({
    ns: `zr-${id}-c${i}`,
    ip: `10.77.0.${FIRST_CLIENT_HOST + i}`,
  }));
  const owned: Owned = { namespaces: [], rootLink: `zr${process.pid}h${sequence}` };
  installHooks();
  live.add(owned);

  const mine = new Set([serverNs, ...clients.map((c) => c.ns)]);
  const checkNs = (ns: string) => {
    if (!mine.has(ns)) throw new Error(`${ns} is not a namespace of this test network`);
  };
  const inNs = (ns: string, cmd: string, args: readonly string[]) => ['netns', 'exec', ns, cmd, ...args];
  // No IPv6 inside: no link-local addresses for Chromium to gather, no route anywhere.
  const noIpv6 = (ns: string) => run('ip', inNs(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']));

  try {
    for (const ns of mine) {
      await ip('netns', 'add', ns);
      owned.namespaces.push(ns);
      await noIpv6(ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await ip('-n', serverNs, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0');
    await ip('-n', serverNs, 'addr', 'add', `${SERVER_IP}/${PREFIX}`, 'dev', 'br0');
    await ip('-n', serverNs, 'link', 'set', 'br0', 'up');
    for (const [i, c] of clients.entries()) {
      // Both ends are created in their namespaces directly: nothing appears in the root namespace.
      await ip('link', 'add', 'eth0', 'netns', c.ns, 'type', 'veth', 'peer', 'name', `c${i}`, 'netns', serverNs);
      await ip('-n', serverNs, 'link', 'set', `c${i}`, 'master', 'br0', 'up');
      await ip('-n', c.ns, 'addr', 'add', `${c.ip}/${PREFIX}`, 'dev', 'eth0');
      await ip('-n', c.ns, 'link', 'set', 'eth0', 'up');
    }
    await ip('link', 'add', owned.rootLink, 'type', 'veth', 'peer', 'name', 'host0', 'netns', serverNs);
    await ip('link', 'set', owned.rootLink, 'addrgenmode', 'none');
    // The connected route 10.77.0.0/24 on this link is the only route added to the root namespace.
    await ip('addr', 'add', `${HOST_IP}/${PREFIX}`, 'dev', owned.rootLink);
    await ip('link', 'set', owned.rootLink, 'up');
    await ip('-n', serverNs, 'link', 'set', 'host0', 'master', 'br0', 'up');
  } catch (err) {
    teardownSync(owned);
    live.delete(owned);
    releaseLockSync();
    throw err;
  }

  const clientAt = (i: number): TestClient => {
    const c = clients[i];
    if (!c) throw new Error(`no client ${i} (there are ${clients.length})`);
    return c;
  };
  const pids = async (ns: string) => {
    checkNs(ns);
    const { stdout } = await ip('netns', 'pids', ns);
    return stdout.split('\n').filter(Boolean).map(Number);
  };
  const clearFirewall = async (clientIndex: number) => {
    const c = clientAt(clientIndex);
    await run('ip', inNs(c.ns, 'nft', ['-f', '-']), { input: `table inet ${FW_TABLE}\ndelete table inet ${FW_TABLE}\n` });
  };
  let destroyed: Promise<void> | undefined;

  return {
    serverNs,
    serverIp: SERVER_IP,
    hostIp: HOST_IP,
    clients,
    exec(ns, cmd, args, execOpts = {}) {
      checkNs(ns);
      return run('ip', inNs(ns, cmd, args), execOpts);
    },
    spawnIn(ns, cmd, args, spawnOpts = {}) {
      checkNs(ns);
      return spawn('ip', inNs(ns, cmd, args), spawnOpts);
    },
    pids,
    async applyFirewall(clientIndex, profile, fwOpts = {}) {
      const c = clientAt(clientIndex);
      // Declaring, deleting and re-creating the table in one transaction replaces it atomically.
      const script = `table inet ${FW_TABLE}\ndelete table inet ${FW_TABLE}\n${firewallRules(profile, fwOpts)}\n`;
      await run('ip', inNs(c.ns, 'nft', ['-f', '-']), { input: script });
    },
    clearFirewall,
    async readdressClient(clientIndex, newIp) {
      const c = clientAt(clientIndex);
      const m = /^10\.77\.0\.(\d{1,3})$/.exec(newIp);
      const host = m ? Number(m[1]) : 0;
      const taken = [SERVER_IP, HOST_IP, ...clients.map((x) => x.ip)];
      if (host < 2 || host > 253 || taken.includes(newIp)) throw new Error(`${newIp} is not a free address of the test subnet 10.77.0.0/${PREFIX}`);
      // Deleting a primary address deletes its secondaries too, unless they are promoted.
      await run('ip', inNs(c.ns, 'sysctl', ['-qw', 'net.ipv4.conf.eth0.promote_secondaries=1']));
      await ip('-n', c.ns, 'addr', 'add', `${newIp}/${PREFIX}`, 'dev', 'eth0');
      try {
        await ip('-n', c.ns, 'addr', 'del', `${c.ip}/${PREFIX}`, 'dev', 'eth0');
      } catch (err) {
        // Never leave the client with two addresses while its record names one.
        await ip('-n', c.ns, 'addr', 'del', `${newIp}/${PREFIX}`, 'dev', 'eth0').catch(() => undefined);
        throw err;
      }
      (c as { ip: string }).ip = newIp;
    },
    destroy() {
      destroyed ??= (async () => {
        for (const ns of owned.namespaces) {
          const left = await pids(ns).catch(() => []);
          if (left.length) console.warn(`netns: killing processes still in ${ns}: ${left.join(' ')}`);
        }
        for (const i of clients.keys()) await clearFirewall(i).catch(() => undefined);
        teardownSync(owned);
        live.delete(owned);
        releaseLockSync();
        const stillThere = ipSync(['netns', 'list']).split('\n').filter((l) => mine.has(l.split(' ')[0]!));
        if (stillThere.length) throw new Error(`namespaces not removed: ${stillThere.join(', ')}`);
      })();
      return destroyed;
    },
  };
}
