import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../server/src/config.js';

// The signaling server's one piece of state, the used room tokens, must land in storage that
// survives a restart in every deployment shape; a file in a read-only or throwaway place would
// quietly make used tokens valid again after each restart.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const SECRETS = { ZR_ROOM_TOKEN_SECRET: 'r'.repeat(40), ZR_TURN_SECRETS: 't'.repeat(40) };

describe('room-token replay store in the deployment files', () => {
  it('systemd: the store file is in the unit\'s StateDirectory, private to the service', () => {
    const unit = read('deploy/systemd/zerorange-signaling.service');
    const values = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());
    expect(values('StateDirectory')).toEqual(['zerorange']);
    expect(values('StateDirectoryMode')).toEqual(['0700']);
    const env = values('Environment').flatMap((e) => e.split(/\s+/));
    const file = env.find((e) => e.startsWith('ZR_REPLAY_STORE_FILE='))?.split('=')[1];
    // %S is /var/lib for a system service.
    expect(file).toBe('%S/zerorange/room-tokens.log');
  });

  it('Compose: the store file is in a named volume the image seeds for its user', () => {
    const compose = parse(read('deploy/docker-compose.yml')) as {
      services: { signaling: { environment: Record<string, string>; volumes: string[]; read_only?: boolean } };
      volumes: Record<string, unknown>;
    };
    const signaling = compose.services.signaling;
    const file = signaling.environment.ZR_REPLAY_STORE_FILE!;
    const volume = signaling.volumes.map((v) => v.split(':')).find(([source, target]) => !/^[./~$]/.test(source!) && file.startsWith(`${target}/`));
    expect(volume, `${file} is not in a named volume`).toBeDefined();
    expect(volume!.length).toBe(2); // not read-only
    expect(Object.keys(compose.volumes)).toContain(volume![0]);
    const dockerfile = read('deploy/Dockerfile');
    expect(dockerfile).toMatch(new RegExp(`install -d -o zerorange -g zerorange -m 0700 [^\\n]*${posix.dirname(file).replaceAll('/', '\\/')}\\b`));
  });

  it('ZR_REPLAY_STORE_FILE sets roomToken.replayStoreFile over the configuration file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zr-deploy-state-'));
    try {
      const file = join(dir, 'server.json');
      writeFileSync(file, read('deploy/server.example.json'));
      expect(loadConfig(SECRETS, file).roomToken.replayStoreFile).toBeUndefined();
      const path = '/var/lib/zerorange/room-tokens.log';
      expect(loadConfig({ ...SECRETS, ZR_REPLAY_STORE_FILE: path }, file).roomToken.replayStoreFile).toBe(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
