import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintKid, KeyringError, parseKeyring, singleKeyring } from '../../server/src/cluster/keyring.js';
import { openRoomTokens, ReloadableKeyring } from '../../server/src/cluster/keyringFile.js';
import { ConfigError, loadConfig, parseConfig } from '../../server/src/config.js';
import { RoomTokens } from '../../server/src/RoomTokens.js';
import { FakeClock } from '../support/fakeClock.js';

const OLD = 'o'.repeat(40);
const NEW = 'n'.repeat(40);
const input = { sub: 'u1', name: 'Alice', room: 'abc', sid: 'sid1', iceExp: 1 };

function problemsOf(text: string): string[] {
  try {
    parseKeyring(text, 'keys');
  } catch (err) {
    expect(err).toBeInstanceOf(KeyringError);
    return (err as KeyringError).problems;
  }
  throw new Error('parsed');
}

describe('parseKeyring', () => {
  it('reads keys newest first; the first key not marked verify-only signs', () => {
    const ring = parseKeyring(`# rotation in progress\nk3 ${'c'.repeat(32)} verify-only\n\nk2 ${NEW}\nk1   ${OLD}\n`, 'keys');
    expect(ring.signer.kid).toBe('k2');
    expect(ring.keys.map((k) => [k.kid, k.verifyOnly])).toEqual([
      ['k3', true],
      ['k2', false],
      ['k1', false],
    ]);
  });

  it('reports every problem with its line, never the secret', () => {
    const problems = problemsOf(`k1 short\nbad/id ${NEW}\nk1 ${OLD}\nk4 ${OLD} sign\nfp-x ${'f'.repeat(32)}\n`);
    expect(problems).toEqual([
      expect.stringMatching(/keys line 1: the secret of "k1" must be at least 32/),
      expect.stringMatching(/keys line 2: key id "bad\/id" must be/),
      expect.stringMatching(/keys line 3: key id "k1" is listed twice/),
      expect.stringMatching(/keys line 4: expected "<key id> <secret>"/),
      expect.stringMatching(/keys line 5: key ids starting with "fp-" are reserved/),
    ]);
    expect(problems.join('\n')).not.toContain(OLD);
    expect(problems.join('\n')).not.toContain(NEW);
  });

  it('refuses a file without a signer, an empty file, and one secret under two ids', () => {
    expect(problemsOf(`k1 ${OLD} verify-only\n`)).toEqual([expect.stringMatching(/every key is verify-only/)]);
    expect(problemsOf('# nothing\n')).toEqual([expect.stringMatching(/no keys/)]);
    expect(problemsOf(`k1 ${OLD}\nk2 ${OLD}\n`)).toEqual([expect.stringMatching(/"k2" has the same secret as "k1"/)]);
    expect(problemsOf(Array.from({ length: 9 }, (_, i) => `k${i} ${String(i).repeat(32)}`).join('\n'))).toEqual([expect.stringMatching(/at most 8 keys/)]);
  });
});

describe('RoomTokens with a keyring', () => {
  it('names the signing key in the header and verifies with every listed key', async () => {
    const signingOld = new RoomTokens(parseKeyring(`k2 ${NEW} verify-only\nk1 ${OLD}`, 'keys'), 600);
    const signingNew = new RoomTokens(parseKeyring(`k2 ${NEW}\nk1 ${OLD}`, 'keys'), 600);
    const a = await signingOld.issue(input);
    const b = await signingNew.issue(input);
    expect(decodeProtectedHeader(a.token).kid).toBe('k1');
    expect(decodeProtectedHeader(b.token).kid).toBe('k2');
    for (const verifier of [signingOld, signingNew]) {
      await expect(verifier.verify(a.token)).resolves.toEqual(a.claims);
      await expect(verifier.verify(b.token)).resolves.toEqual(b.claims);
    }
  });

  it('refuses a token whose key was removed, and one that names a key with a forged signature', async () => {
    const tokens = new RoomTokens(parseKeyring(`k2 ${NEW}\nk1 ${OLD}`, 'keys'), 600);
    const old = await new RoomTokens(parseKeyring(`k1 ${OLD}`, 'keys'), 600).issue(input);
    await expect(tokens.verify(old.token)).resolves.toEqual(old.claims);
    tokens.setKeyring(parseKeyring(`k2 ${NEW}`, 'keys'));
    await expect(tokens.verify(old.token)).rejects.toMatchObject({ reason: 'invalid', message: expect.stringMatching(/unknown key/) });
    // A token naming a listed key but signed with another secret.
    const forged = await new RoomTokens(parseKeyring(`k2 ${OLD}`, 'keys'), 600).issue(input);
    await expect(tokens.verify(forged.token)).rejects.toMatchObject({ reason: 'invalid', message: expect.stringMatching(/signature/) });
  });

  it('keeps accepting tokens of a lone roomToken.secret once that secret is listed in a keys file', async () => {
    const single = new RoomTokens(OLD, 600);
    const issued = await single.issue(input);
    expect(decodeProtectedHeader(issued.token).kid).toBe(fingerprintKid(OLD));
    expect(single.keys).toEqual(singleKeyring(OLD));
    const file = new RoomTokens(parseKeyring(`k2 ${NEW}\nlegacy ${OLD}`, 'keys'), 600);
    await expect(file.verify(issued.token)).resolves.toEqual(issued.claims);
  });

  it('accepts a token without a key id when a listed key signed it (issued before key ids)', async () => {
    const tokens = new RoomTokens(parseKeyring(`k2 ${NEW}\nk1 ${OLD}`, 'keys'), 600);
    const { token, claims } = await new RoomTokens(OLD, 600).issue(input);
    const [, p] = token.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const { createHmac } = await import('node:crypto');
    const sign = (secret: string) => createHmac('sha256', secret).update(`${header}.${p}`).digest('base64url');
    await expect(tokens.verify(`${header}.${p}.${sign(OLD)}`)).resolves.toEqual(claims);
    await expect(tokens.verify(`${header}.${p}.${sign('x'.repeat(40))}`)).rejects.toMatchObject({ reason: 'invalid' });
  });
});

let dir: string | undefined;

describe('ReloadableKeyring', () => {
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  function setup() {
    dir = mkdtempSync(join(tmpdir(), 'zr-keys-'));
    const file = join(dir, 'keys');
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const clock = new FakeClock(1_700_000_000_000);
    writeFileSync(file, `k1 ${OLD}\n`);
    const tokens = new RoomTokens(parseKeyring(`k1 ${OLD}\n`, file), 600, clock.now);
    return { file, lines, clock, tokens, keys: new ReloadableKeyring(file, tokens, log, clock.now) };
  }

  it('reloads a valid file and logs the change; a bad file keeps the current keys and says why', async () => {
    const { file, lines, tokens, keys } = setup();
    writeFileSync(file, `k2 ${NEW} verify-only\nk1 ${OLD}\n`);
    expect(keys.reload('SIGHUP')).toEqual({ ok: true, changed: true });
    expect(lines.at(-1)).toMatchObject({ msg: 'room-token keys reloaded', added: ['k2'], removed: [], signer: 'k1', verifyOnly: ['k2'] });
    expect(keys.reload('SIGHUP')).toEqual({ ok: true, changed: false });

    writeFileSync(file, `k2 ${NEW} verify-only\n`);
    expect(keys.reload('SIGHUP')).toMatchObject({ ok: false, error: expect.stringMatching(/every key is verify-only/) });
    expect(lines.at(-1)).toMatchObject({ level: 50, msg: expect.stringMatching(/not reloaded; keeping the current keys/), kept: ['k2', 'k1'] });
    expect(tokens.keys.signer.kid).toBe('k1');
    await expect(tokens.verify((await tokens.issue(input)).token)).resolves.toBeDefined();

    rmSync(file);
    expect(keys.reload('SIGHUP')).toMatchObject({ ok: false, error: expect.stringMatching(/cannot read/) });
    expect(tokens.keys.keys.map((k) => k.kid)).toEqual(['k2', 'k1']);
    expect(JSON.stringify(lines)).not.toContain(OLD);
  });

  it('refuses a new secret under a key id already in use', () => {
    const { file, tokens, keys } = setup();
    writeFileSync(file, `k1 ${NEW}\n`);
    expect(keys.reload('SIGHUP')).toMatchObject({ ok: false, error: expect.stringMatching(/"k1" has a different secret/) });
    expect(tokens.keys.signer.secret.toString()).toBe(OLD);
  });

  it('warns when a removed key signed tokens here that are still valid', async () => {
    const { file, lines, clock, tokens, keys } = setup();
    await tokens.issue(input);
    writeFileSync(file, `k2 ${NEW}\nk1 ${OLD}\n`);
    keys.reload('SIGHUP');
    clock.advance(599_000);
    writeFileSync(file, `k2 ${NEW}\n`);
    keys.reload('SIGHUP');
    expect(lines.some((l) => l.level === 40 && l.kid === 'k1')).toBe(true);

    // After the TTL since its last token, removing a key is silent.
    const later = setup();
    await later.tokens.issue(input);
    writeFileSync(later.file, `k2 ${NEW}\nk1 ${OLD}\n`);
    later.keys.reload('SIGHUP');
    later.clock.advance(600_000);
    writeFileSync(later.file, `k2 ${NEW}\n`);
    later.keys.reload('SIGHUP');
    expect(later.lines.some((l) => l.level === 40)).toBe(false);
  });

  it('makes a keys file that does not validate at start a configuration error naming each problem', () => {
    dir = mkdtempSync(join(tmpdir(), 'zr-keys-'));
    const file = join(dir, 'keys');
    writeFileSync(file, `k1 short\nk1 ${OLD}\n`);
    const config = parseConfig({
      development: true,
      idp: { issuer: 'https://idp.example', audience: 'a', clientId: 'c' },
      turn: { secrets: ['t'.repeat(32)], host: 'turn.example' },
      roomToken: { keysFile: file, peerIdSecret: NEW },
    });
    const open = () => openRoomTokens(config, pino({ level: 'silent' }), Date.now);
    expect(open).toThrow(ConfigError);
    expect(() => open()).toThrow(expect.objectContaining({ problems: [expect.stringMatching(/^roomToken.keysFile: .* line 1: the secret/), expect.stringMatching(/line 2: key id "k1" is listed twice/)] }));
    writeFileSync(file, `k1 ${OLD}\n`);
    const { roomTokens, keysFile } = open();
    keysFile?.close();
    expect(roomTokens.keys.signer.kid).toBe('k1');
  });

  it('reloads by itself when the file changes', async () => {
    const { file, tokens, keys } = setup();
    keys.watch(50);
    try {
      writeFileSync(file, `k2 ${NEW}\nk1 ${OLD}\n`);
      await expect.poll(() => tokens.keys.signer.kid, { timeout: 5_000 }).toBe('k2');
    } finally {
      keys.close();
    }
  });
});

describe('roomToken configuration', () => {
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  const base = { development: true, idp: { issuer: 'https://idp.example', audience: 'a', clientId: 'c' }, turn: { secrets: ['t'.repeat(32)], host: 'turn.example' } };

  it('takes one secret or a keys file with a peer-id secret, and names what is missing', () => {
    expect(parseConfig({ ...base, roomToken: { secret: OLD } }).roomToken.secret).toBe(OLD);
    expect(parseConfig({ ...base, roomToken: { keysFile: '/k', peerIdSecret: OLD } }).roomToken.keysFile).toBe('/k');
    expect(() => parseConfig({ ...base, roomToken: {} })).toThrow(/roomToken.secret: is required \(or roomToken.keysFile/);
    expect(() => parseConfig({ ...base, roomToken: { secret: OLD, keysFile: '/k', peerIdSecret: NEW } })).toThrow(/roomToken.keysFile: replaces roomToken.secret/);
    expect(() => parseConfig({ ...base, roomToken: { keysFile: '/k' } })).toThrow(/roomToken.peerIdSecret: is required with roomToken.keysFile/);
  });

  it('takes the signing key from the environment over the file, a keys file over a lone secret', () => {
    dir = mkdtempSync(join(tmpdir(), 'zr-config-'));
    const file = join(dir, 'server.json');
    const peerIdFile = join(dir, 'peer-id');
    writeFileSync(file, JSON.stringify({ ...base, roomToken: { keysFile: '/etc/keys', peerIdSecret: NEW } }));
    writeFileSync(peerIdFile, `${OLD}\n`);
    const single = loadConfig({ ZR_ROOM_TOKEN_SECRET: OLD }, file).roomToken;
    expect([single.secret, single.keysFile]).toEqual([OLD, undefined]);
    const keys = loadConfig({ ZR_ROOM_TOKEN_SECRET: OLD, ZR_ROOM_TOKEN_KEYS_FILE: '/run/keys', ZR_PEER_ID_SECRET_FILE: peerIdFile }, file).roomToken;
    expect([keys.secret, keys.keysFile, keys.peerIdSecret]).toEqual([undefined, '/run/keys', OLD]);
  });
});
