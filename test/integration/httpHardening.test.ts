import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientConfig } from '../../shared/protocol/index.js';
import { connect, parseResponse, rawRequest, requestHead } from '../support/rawHttp.js';
import { SignalingHarness } from '../support/signalingHarness.js';

const portOf = (h: SignalingHarness) => Number(new URL(h.baseUrl).port);
const UPGRADE = ['upgrade: websocket', 'connection: Upgrade', 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version: 13'];
/** pino's error level: client faults must never reach it. */
const errorLines = (h: SignalingHarness) => h.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

describe('the HTTP surface under malformed input', () => {
  let h: SignalingHarness;
  let port: number;
  beforeAll(async () => {
    h = await SignalingHarness.start();
    port = portOf(h);
  });
  afterAll(() => h?.close());

  it('answers an upgrade whose target does not parse with 400, and keeps serving', async () => {
    // Once this threw inside the upgrade listener and ended the process.
    for (const target of ['//[', '//[::1', '/%', '//', 'http://[/v1/signal', '*']) {
      expect([400, 404]).toContain((await rawRequest(port, requestHead(target, UPGRADE))).status);
      expect([400, 404]).toContain((await rawRequest(port, requestHead(target))).status);
    }
    const { socket } = await h.connect('after-bad-upgrade', 'alice');
    await socket.ping();
    socket.close();
    expect((await rawRequest(port, requestHead('/healthz'))).status).toBe(200);
  });

  it('answers malformed percent-encoding with 400 or 404, never 500', async () => {
    expect((await rawRequest(port, requestHead('/v1/rooms/%ZZ/join', [], 'POST'))).status).toBe(400);
    expect((await rawRequest(port, requestHead('/v1/rooms/%E0%A4%A/join', [], 'POST'))).status).toBe(400);
    expect((await rawRequest(port, requestHead('/join/%E0%A4%A'))).status).toBe(404);
    expect((await rawRequest(port, requestHead('/join/%ZZ'))).status).toBe(404);
  });

  it('answers a Host header that is not a host with 400, on requests and upgrades', async () => {
    for (const host of ['host: [[::', 'host: a b', 'host: evil.example:99999', 'host: user@evil.example', 'host: ']) {
      expect((await rawRequest(port, requestHead('/healthz', [host]))).status, host).toBe(400);
      expect((await rawRequest(port, requestHead('/v1/signal', [host, ...UPGRADE]))).status, host).toBe(400);
    }
  });

  it('never reflects Host', async () => {
    for (const host of ['host: evil.example', 'host: evil.example:8443', 'host: [::1]:1']) {
      const res = await rawRequest(port, requestHead('/v1/client-config', [host]));
      expect(res.status).toBe(200);
      expect(ClientConfig.parse(JSON.parse(res.body)).signalingUrl).toBe(`ws://127.0.0.1:${port}/v1/signal`);
      const page = await rawRequest(port, requestHead('/join/some-room', [host]));
      expect(page.status).toBe(200);
      expect(page.body).toContain(`http://127.0.0.1:${port}`);
      expect(page.body).not.toContain('evil');
    }
  });

  it('does not serve /metrics on the public port', async () => {
    expect((await rawRequest(port, requestHead('/metrics'))).status).toBe(404);
    expect((await fetch(`${h.metricsUrl}/metrics`)).status).toBe(200);
    expect(new URL(h.metricsUrl).hostname).toBe('127.0.0.1');
  });

  it('refuses a request body instead of reading it, and stops reading an endless one', async () => {
    expect((await rawRequest(port, requestHead('/v1/rooms/r1/join', ['content-length: 5'], 'POST') + 'hello')).status).toBe(413);
    const socket = await connect(port);
    socket.on('error', () => undefined);
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const gone = closed(socket);
    let written = 0;
    const limit = 256 * 1024 * 1024;
    const chunk = `4000\r\n${'x'.repeat(0x4000)}\r\n`;
    const pump = () => {
      while (!socket.destroyed && written < limit) {
        written += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    socket.write(requestHead('/v1/rooms/r1/join', ['transfer-encoding: chunked'], 'POST'));
    pump();
    await gone;
    expect(written).toBeLessThan(limit);
    // The answer may be lost to the reset that closing on unread data causes; a wrong one may not.
    expect(parseResponse(text)?.status ?? 413).toBe(413);
  });

  it('wrote no error-level line for any of it', () => {
    expect(errorLines(h)).toEqual([]);
  });
});

describe('slow and numerous clients', () => {
  it('cuts a client that sends its headers slowly once headersTimeoutMs is over (plus one check interval)', async () => {
    const limits = { headersTimeoutMs: 1000, requestTimeoutMs: 2000, connectionsCheckIntervalMs: 200 };
    const h = await SignalingHarness.start({ limits });
    try {
      const socket = await connect(portOf(h));
      socket.on('error', () => undefined);
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
      const start = performance.now();
      socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n');
      const drip = setInterval(() => socket.write('x-slow: 1\r\n'), 100);
      await closed(socket);
      clearInterval(drip);
      const lived = performance.now() - start;
      expect(lived).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50);
      // Node's own 30 s check interval let such a client live up to 40 s here; allow scheduling slack only.
      expect(lived).toBeLessThan(limits.headersTimeoutMs + limits.connectionsCheckIntervalMs + 1000);
      expect(parseResponse(text)?.status).toBe(408);
    } finally {
      await h.close();
    }
  });

  it('closes a refused upgrade even when the client keeps its end open', async () => {
    const h = await SignalingHarness.start();
    const socket = net.connect({ port: portOf(h), host: '127.0.0.1', allowHalfOpen: true });
    try {
      socket.on('error', () => undefined);
      const answered = new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString('latin1'))));
      socket.write(requestHead('/not-a-socket', UPGRADE));
      expect(parseResponse(await answered)?.status).toBe(404);
      socket.resume();
      const connections = () => new Promise<number>((resolve) => h.app.server.getConnections((_e, n) => resolve(n)));
      await expect.poll(connections, { timeout: 5000 }).toBe(0);
    } finally {
      socket.destroy();
      await h.close();
    }
  });

  it('enforces the documented 10 s / 15 s by default', async () => {
    const h = await SignalingHarness.start();
    try {
      expect(h.app.server.headersTimeout).toBe(10_000);
      expect(h.app.server.requestTimeout).toBe(15_000);
    } finally {
      await h.close();
    }
  });

  it('caps HTTP connections per address and serves again once one closes', async () => {
    const h = await SignalingHarness.start({ limits: { httpConnectionsPerIp: 3 } });
    const held: net.Socket[] = [];
    try {
      const port = portOf(h);
      for (let i = 0; i < 3; i++) {
        const s = await connect(port);
        held.push(s);
        // A served request proves the server has counted this connection.
        const answered = new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString('latin1'))));
        s.write(requestHead('/healthz'));
        expect(parseResponse(await answered)?.status).toBe(200);
      }
      const refused = await rawRequest(port, requestHead('/healthz'));
      expect(refused.status).toBe(429);
      expect(refused.head).toMatch(/retry-after/i);
      // A refused client that keeps its end open is not kept: the server holds only the three again.
      const lingering = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      lingering.on('error', () => undefined);
      lingering.resume();
      held.push(lingering);
      const connections = () => new Promise<number>((resolve) => h.app.server.getConnections((_e, n) => resolve(n)));
      await expect.poll(connections).toBe(4);
      await expect.poll(connections, { timeout: 5000 }).toBe(3);
      const first = held.shift()!;
      first.destroy();
      await expect.poll(async () => (await rawRequest(port, requestHead('/healthz'))).status).toBe(200);
      expect(errorLines(h)).toEqual([]);
    } finally {
      for (const s of held) s.destroy();
      await h.close();
    }
  });
});

describe('publicUrl', () => {
  it('is what clients are sent to outside development, whatever the Host header says', async () => {
    const h = await SignalingHarness.start({ development: false, publicUrl: 'https://signal.example.test' });
    try {
      const port = portOf(h);
      const config = await rawRequest(port, requestHead('/v1/client-config', ['host: evil.example']));
      expect(ClientConfig.parse(JSON.parse(config.body)).signalingUrl).toBe('wss://signal.example.test/v1/signal');
      const page = await rawRequest(port, requestHead('/join/board', ['host: evil.example']));
      expect(page.body).toContain('https://signal.example.test');
      expect(page.body).not.toContain('evil');
      const joined = await h.join('public-url', 'alice');
      expect(joined.signalingUrl).toBe('wss://signal.example.test/v1/signal');
    } finally {
      await h.close();
    }
  });

  it('is required at start-up outside development: the server exits 2 and names the setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zr-public-url-'));
    let spawned: ChildProcess | undefined;
    try {
      const file = join(dir, 'server.json');
      writeFileSync(file, JSON.stringify({ idp: { issuer: 'https://id.example.test', audience: 'zr', clientId: 'desktop' }, turn: { host: '127.0.0.1' } }));
      const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
        env: { ...process.env, ZR_CONFIG: file, ZR_ROOM_TOKEN_SECRET: 'r'.repeat(40), ZR_TURN_SECRETS: 't'.repeat(40) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      spawned = child;
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(stderr).toMatch(/publicUrl: is required/);
    } finally {
      stopIfRunning(spawned);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a bug outside every handler', () => {
  it('is logged at fatal, and the process stops gracefully with exit code 1 for its supervisor to restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zr-crash-only-'));
    let spawned: ChildProcess | undefined;
    try {
      const file = join(dir, 'server.json');
      const config = {
        development: true,
        listen: { host: '127.0.0.1', port: 0 },
        metrics: { host: '127.0.0.1', port: 0 },
        // Nothing listens there: discovery fails with a warning, which is all this needs.
        idp: { issuer: 'http://127.0.0.1:1', audience: 'zr', clientId: 'desktop' },
        roomToken: { secret: 'r'.repeat(40) },
        turn: { secrets: ['t'.repeat(40)], host: '127.0.0.1' },
        shutdownGraceMs: 500,
      };
      writeFileSync(file, JSON.stringify(config));
      const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/support/throwOnSignal.ts', 'server/src/main.ts'], {
        env: { ...process.env, ZR_CONFIG: file },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      spawned = child;
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const lines: { level: number; msg: string }[] = [];
      let listening: () => void;
      const ready = new Promise<void>((resolve) => (listening = resolve));
      let partial = '';
      child.stdout.on('data', (c: Buffer) => {
        partial += c.toString();
        const complete = partial.split('\n');
        partial = complete.pop()!;
        for (const l of complete.filter((x) => x.startsWith('{'))) {
          const line = JSON.parse(l) as { level: number; msg: string };
          lines.push(line);
          if (line.msg === 'signaling server listening') listening();
        }
      });
      await Promise.race([ready, exited]);
      child.kill('SIGUSR2');
      expect(await exited).toBe(1);
      expect(lines.find((l) => l.level === 60)?.msg).toBe('uncaughtException');
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'signaling server closed']));
    } finally {
      stopIfRunning(spawned);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A server a failed assertion left running is killed, so it holds no port into the next test. */
function stopIfRunning(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
