/**
 * Automatic updates against a local update server serving real electron-builder metadata
 * (`latest-linux.yml`: version, files with sha512 and size, stagingPercentage) and a real file.
 *
 * What runs for real: electron-updater's DebUpdater (metadata fetch and parse through the generic
 * provider, version comparison, staged rollout against this installation's id, the download into its
 * cache and the SHA-512 check) and its ElectronHttpExecutor's download path; only the executor's
 * `createRequest` (Electron's net.request, which needs an Electron binary) is Node's http.request here.
 * Not covered in Node: installing (dpkg, NSIS, Squirrel.Mac) and Windows/macOS signature checks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type RequestOptions, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebUpdater } from 'electron-updater';
import { ElectronHttpExecutor } from 'electron-updater/out/electronHttpExecutor.js';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { UpdateService } from '../../electron/main/updates/UpdateService.js';
import type { UpdateStatus } from '../../shared/ipc/shellServices.js';

type NetRequest = ReturnType<ElectronHttpExecutor['createRequest']>;

/** electron-updater's executor with Node's http in place of Electron's net.request. */
class NodeNetExecutor extends ElectronHttpExecutor {
  constructor() {
    super(() => undefined);
  }
  override createRequest(options: RequestOptions, callback: (response: IncomingMessage) => void): NetRequest {
    return request(options, callback) as unknown as NetRequest;
  }
}

const FILE = 'ZeroRange-0.2.0-amd64.deb';
const channelFile = (channel: string) => `${channel}-linux${process.arch === 'x64' ? '' : `-${process.arch}`}.yml`;

describe('automatic updates (electron-updater, generic provider)', () => {
  const payload = randomBytes(300_000);
  const sha512 = createHash('sha512').update(payload).digest('base64');
  let server: Server;
  let base: string;
  /** What the server serves, per path; tests change it. */
  let files: Map<string, Buffer>;
  const requests: string[] = [];
  const dirs: string[] = [];
  const services: UpdateService[] = [];

  function metadata(extra: Record<string, unknown> = {}, version = '0.2.0'): Buffer {
    // The shape electron-builder publishes.
    return Buffer.from(
      stringify({ version, files: [{ url: FILE, sha512, size: payload.length }], path: FILE, sha512, releaseDate: '2026-12-01T10:00:00.000Z', ...extra }),
    );
  }

  function serve(meta: Buffer, file: Buffer = payload, channel = 'latest') {
    files = new Map([
      [`/updates/${channelFile(channel)}`, meta],
      [`/updates/${FILE}`, file],
    ]);
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push(path);
      const body = files.get(path);
      if (!body) return res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/updates/`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  afterEach(() => {
    for (const s of services.splice(0)) s.dispose();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    requests.length = 0;
  });

  /** A real DebUpdater for an installed 0.1.0, with its own user-data and cache folders. */
  function updater(opts: { stagingId?: string } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'zr-update-'));
    dirs.push(dir);
    const userData = join(dir, 'user');
    mkdirSync(userData);
    if (opts.stagingId) writeFileSync(join(userData, '.updaterId'), opts.stagingId);
    // What electron-builder packs as resources/app-update.yml for a generic publish target.
    const config = join(dir, 'app-update.yml');
    writeFileSync(config, stringify({ provider: 'generic', url: base, updaterCacheDirName: 'zerorange-updater' }));
    const app = {
      version: '0.1.0',
      name: 'ZeroRange',
      isPackaged: true,
      appUpdateConfigPath: config,
      userDataPath: userData,
      baseCachePath: join(dir, 'cache'),
      whenReady: () => Promise.resolve(),
      relaunch: () => undefined,
      quit: () => undefined,
      onQuit: () => undefined,
    };
    const u = new DebUpdater(undefined, app);
    (u as unknown as { httpExecutor: NodeNetExecutor }).httpExecutor = new NodeNetExecutor();
    // As the app does when it is given a feed URL (the provider takes the executor set above).
    u.setFeedURL({ provider: 'generic', url: base });
    u.logger = null;
    const installs: unknown[] = [];
    // Installing runs dpkg through sudo: recorded, never run here.
    u.quitAndInstall = (...args: unknown[]) => void installs.push(args);
    return { u, dir, installs, cacheFile: join(dir, 'cache', 'zerorange-updater', 'pending', FILE) };
  }

  function service(u: DebUpdater, call: { on: boolean }, extra: { channel?: string } = {}) {
    const statuses: UpdateStatus[] = [];
    const s = new UpdateService({ updater: u, enabled: true, inCall: () => call.on, setTimer: () => () => undefined, ...extra });
    s.onStatus((st) => statuses.push(st));
    services.push(s);
    return { s, statuses };
  }

  it('finds a newer version, downloads it in the background, verifies its SHA-512 and offers the restart', async () => {
    serve(metadata());
    const { u, installs, cacheFile } = updater();
    const { s, statuses } = service(u, { on: false });
    await s.check();
    expect(s.status).toMatchObject({ state: 'ready', version: '0.2.0', percent: 100, inCall: false });
    expect(statuses.map((st) => st.state)).toEqual(expect.arrayContaining(['checking', 'downloading', 'ready']));
    expect(readFileSync(cacheFile).equals(payload)).toBe(true);
    expect(requests).toEqual([`/updates/${channelFile('latest')}`, `/updates/${FILE}`]);
    s.restartToUpdate();
    expect(installs).toEqual([[false, true]]);
  });

  it('refuses a file whose SHA-512 does not match the metadata, and keeps nothing of it', async () => {
    const tampered = Buffer.from(payload);
    tampered[1234] = tampered[1234]! ^ 0xff;
    serve(metadata(), tampered);
    const { u, installs, cacheFile } = updater();
    const { s } = service(u, { on: false });
    await s.check();
    expect(s.status.state).toBe('error');
    expect(s.status.message).toMatch(/sha512 checksum mismatch/i);
    expect(existsSync(cacheFile)).toBe(false);
    expect(() => s.restartToUpdate()).toThrow(/no update is ready/);
    expect(installs).toEqual([]);
  });

  it('offers nothing and fetches nothing during a call; checks and downloads once the call ends', async () => {
    serve(metadata());
    const { u, installs } = updater();
    const call = { on: true };
    const { s } = service(u, call);
    await s.check();
    expect(s.status).toMatchObject({ state: 'deferred', inCall: true });
    expect(requests).toEqual([]);
    call.on = false;
    s.callChanged();
    await expect.poll(() => s.status.state).toBe('ready');
    // A new call starts: the update is held back, and no restart can happen in it.
    call.on = true;
    s.callChanged();
    expect(s.status).toMatchObject({ state: 'ready', inCall: true });
    expect(() => s.restartToUpdate()).toThrow(/once your call has ended/);
    expect(installs).toEqual([]);
  });

  it('a call that starts while the metadata is fetched holds the download back', async () => {
    serve(metadata());
    const { u } = updater();
    const call = { on: false };
    const { s } = service(u, call);
    u.on('update-available', () => (call.on = true));
    await s.check();
    expect(s.status).toMatchObject({ state: 'deferred', version: '0.2.0', inCall: true });
    expect(requests).not.toContain(`/updates/${FILE}`);
  });

  it('honours a staged rollout against this installation’s id', async () => {
    // The id's last four bytes place this installation at about 50% of the rollout.
    const stagingId = '6ba7b810-9dad-51d1-80b4-00c080000000';
    serve(metadata({ stagingPercentage: 40 }));
    const early = updater({ stagingId });
    const first = service(early.u, { on: false });
    await first.s.check();
    expect(first.s.status.state).toBe('idle');
    expect(requests).not.toContain(`/updates/${FILE}`);
    // The installation kept its id (a new random one would make this test a coin toss).
    expect(readFileSync(join(early.dir, 'user', '.updaterId'), 'utf8')).toBe(stagingId);

    serve(metadata({ stagingPercentage: 60 }));
    const later = updater({ stagingId });
    const second = service(later.u, { on: false });
    await second.s.check();
    expect(second.s.status).toMatchObject({ state: 'ready', version: '0.2.0' });
  });

  it('no newer version: nothing offered; a pinned channel reads that channel’s metadata', async () => {
    serve(metadata({}, '0.1.0'));
    const same = updater();
    const a = service(same.u, { on: false });
    await a.s.check();
    expect(a.s.status).toMatchObject({ state: 'idle', version: null });

    serve(metadata({}, '0.3.0-beta.1'), payload, 'beta');
    requests.length = 0;
    const beta = updater();
    const b = service(beta.u, { on: false }, { channel: 'beta' });
    await b.s.check();
    expect(requests[0]).toBe(`/updates/${channelFile('beta')}`);
    expect(b.s.status).toMatchObject({ state: 'ready', version: '0.3.0-beta.1' });
  });

  it('turned off by the organisation: never checks, and says so', async () => {
    serve(metadata());
    const { u } = updater();
    const s = new UpdateService({ updater: u, enabled: false, inCall: () => false, setTimer: () => () => undefined });
    services.push(s);
    s.start();
    await s.check();
    expect(s.status).toMatchObject({ state: 'disabled', message: expect.stringMatching(/organisation/) });
    expect(requests).toEqual([]);
  });

  it('checks at start and then daily', async () => {
    serve(metadata({}, '0.1.0'));
    const { u } = updater();
    const timers: { fn: () => void; ms: number }[] = [];
    const s = new UpdateService({ updater: u, enabled: true, inCall: () => false, firstCheckAfterMs: 5_000, setTimer: (fn, ms) => (timers.push({ fn, ms }), () => undefined) });
    services.push(s);
    s.start();
    expect(timers.map((t) => t.ms)).toEqual([5_000]);
    timers[0]!.fn();
    expect(timers.map((t) => t.ms)).toEqual([5_000, 24 * 60 * 60 * 1000]);
    await expect.poll(() => requests.length).toBe(1);
  });
});
