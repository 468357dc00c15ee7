import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../server/src/config.js';
import { renderCoturnConfig } from '../../server/src/coturnConfig.js';

// Deployment files are code too: every path, variable, port and secret they name must line up
// with the repository and with each other.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Yaml = Record<string, unknown>;
const obj = (v: unknown): Yaml => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Yaml) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

// --- .env.example and Compose variable interpolation -----------------------------------------

function envExample(): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of read('deploy/.env.example').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env.set(m[1]!, m[2]!.trim());
  }
  return env;
}

/** `${VAR}`, `${VAR:-default}`, `${VAR?err}` … and bare `$VAR`; `$$` is a literal dollar. */
const VAR_REF = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

function variablesIn(text: string): string[] {
  return [...text.replaceAll('$$', '').matchAll(VAR_REF)].map((m) => (m[1] ?? m[4])!);
}

function interpolate(text: string, env: Map<string, string>): string {
  return text.replaceAll('$$', '\0').replace(VAR_REF, (_all, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = env.get(name);
    const unset = value === undefined || (op?.startsWith(':') === true && value === '');
    if (op?.endsWith('-')) return unset ? (arg ?? '') : value!;
    if (op?.endsWith('?') && unset) throw new Error(`${name}: ${arg}`);
    if (op?.endsWith('+')) return unset ? '' : (arg ?? '');
    return value ?? '';
  }).replaceAll('\0', '$');
}

function stringsIn(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(stringsIn);
  if (node && typeof node === 'object') return Object.entries(node).flatMap(([k, v]) => [k, ...stringsIn(v)]);
  return [];
}

/** Splits a Compose short-syntax spec on the colons outside `${…}`. */
function splitSpec(spec: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === '$' && spec[i + 1] === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    if (c === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  return [...parts, current];
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
}

function mounts(service: Yaml): Mount[] {
  return list(service.volumes).map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode = ''] = splitSpec(v);
      return { source, target, readOnly: mode.split(',').includes('ro'), bind: /^[./~$]/.test(source) };
    }
    const m = obj(v);
    return { source: String(m.source ?? ''), target: String(m.target ?? ''), readOnly: m.read_only === true, bind: m.type === 'bind' };
  });
}

const compose = obj(parse(read('deploy/docker-compose.yml')));
const services = obj(compose.services);
const service = (name: string) => obj(services[name]);
const env = envExample();

function command(svc: Yaml): string[] {
  const raw = Array.isArray(svc.command) ? svc.command.map(String).join(' ') : String(svc.command ?? '');
  return interpolate(raw, env).split(/\s+/).filter(Boolean);
}
const option = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const secretNames = (svc: Yaml) => list(svc.secrets).map((s) => (typeof s === 'string' ? s : String(obj(s).source)));
const environment = (svc: Yaml): Yaml =>
  Array.isArray(svc.environment)
    ? Object.fromEntries(svc.environment.map((e) => String(e).split(/=(.*)/s).slice(0, 2)))
    : obj(svc.environment);

/** Maps a path of the built server to its source: build/server/src/X.js → server/src/X.ts. */
function sourceOf(builtOrSource: string): string {
  return builtOrSource
    .replace(/^build\/(server|shared)\/(.*)\.js$/, '$1/$2.ts')
    .replace(/\/$/, '');
}

// --- Dockerfile and .dockerignore ------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
  stage: string;
}

function dockerfile(): Instruction[] {
  const out: Instruction[] = [];
  let stage = '';
  const text = read('deploy/Dockerfile')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage = /\bAS\s+(\S+)/i.exec(m[2]!)?.[1] ?? `stage${out.length}`;
    out.push({ op, args: m[2]!.trim(), stage });
  }
  return out;
}

/** Docker's .dockerignore rules: the last pattern matching a path or one of its parents decides. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize(l.slice(negate ? 1 : 0).replace(/^\//, '')).replace(/\/$/, '');
      const source = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[part] ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    const prefixes = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.negate;
    return excluded;
  };
}

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((name) => filesUnder(posix.join(path, name)));
}

function copySources(ins: Instruction): { from?: string; sources: string[]; dest: string } {
  let args = ins.args;
  let from: string | undefined;
  for (let flag = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(args); flag; flag = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(args)) {
    if (flag[1] === 'from') from = flag[2];
    args = args.slice(flag[0].length);
  }
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  return { ...(from ? { from } : {}), sources: words.slice(0, -1), dest: words.at(-1)! };
}

// --- systemd units ---------------------------------------------------------------------------

type Unit = Map<string, Map<string, string[]>>;

function parseUnit(path: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const line of read(path).replace(/\\\n/g, ' ').split('\n')) {
    const text = line.trim();
    if (!text || text.startsWith('#') || text.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(text);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const kv = /^([A-Za-z0-9]+)=(.*)$/.exec(text);
    if (!kv || !section) throw new Error(`${path}: cannot parse ${JSON.stringify(text)}`);
    const values = section.get(kv[1]!) ?? [];
    // An empty assignment resets a list setting; keep it visible as ''.
    section.set(kv[1]!, [...values, kv[2]!.trim()]);
  }
  return unit;
}

const get = (unit: Unit, section: string, key: string) => unit.get(section)?.get(key) ?? [];
const one = (unit: Unit, section: string, key: string) => {
  const values = get(unit, section, key);
  expect(values, `${section}.${key}`).toHaveLength(1);
  return values[0]!;
};
const EXEC_KEYS = ['ExecStart', 'ExecStartPre', 'ExecStartPost', 'ExecReload', 'ExecStop', 'ExecStopPost'];
const unitEnv = (unit: Unit) =>
  new Map(get(unit, 'Service', 'Environment').flatMap((e) => e.split(/\s+/).filter(Boolean).map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string])));

const UNITS = {
  signaling: 'deploy/systemd/zerorange-signaling.service',
  coturn: 'deploy/systemd/zerorange-coturn.service',
} as const;

const DUMMY_SECRETS = { room: 'r'.repeat(40), turn: ['t'.repeat(40)] };
const exampleConfigRaw = JSON.parse(read('deploy/server.example.json')) as Record<string, Record<string, unknown>>;
const exampleConfig = () =>
  parseConfig({
    ...exampleConfigRaw,
    roomToken: { ...exampleConfigRaw.roomToken, secret: DUMMY_SECRETS.room },
    turn: { ...exampleConfigRaw.turn, secrets: DUMMY_SECRETS.turn },
  });
const DEFAULT_SHUTDOWN_DEADLINE_MS = exampleConfig().shutdownGraceMs + 2000; // main.ts's hard exit

// --- tests -----------------------------------------------------------------------------------

describe('deploy/docker-compose.yml', () => {
  it('uses only variables .env.example defines, and .env.example defines only variables it uses', () => {
    const used = new Set(stringsIn(compose).flatMap(variablesIn));
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(env.has(name), `${name} is not in deploy/.env.example`).toBe(true);
    for (const name of env.keys()) expect(used.has(name), `${name} in .env.example is unused`).toBe(true);
  });

  it('.env.example holds example values, not secrets', () => {
    for (const [name, value] of env) {
      expect(value, name).not.toMatch(/^[A-Za-z0-9+/_=-]{32,}$/);
      if (/_(DIR|CONFIG)$/.test(name)) expect(value, name).toMatch(/^\//);
    }
  });

  it('names host paths that exist in the repository when relative, and takes absolute ones from variables', () => {
    const paths: { raw: string; base: string }[] = [];
    const namedVolumes = Object.keys(obj(compose.volumes));
    for (const [name, svc] of Object.entries(services).map(([n, s]) => [n, obj(s)] as const)) {
      const build = obj(svc.build);
      if (build.context !== undefined) {
        const context = resolve(DEPLOY, interpolate(String(build.context), env));
        paths.push({ raw: String(build.context), base: DEPLOY });
        paths.push({ raw: String(build.dockerfile ?? 'Dockerfile'), base: context });
      }
      for (const m of mounts(svc)) {
        if (m.bind) paths.push({ raw: m.source, base: DEPLOY });
        else expect(namedVolumes, `${name}: volume ${m.source}`).toContain(m.source);
      }
    }
    for (const section of ['secrets', 'configs']) {
      for (const entry of Object.values(obj(compose[section]))) {
        if (obj(entry).file !== undefined) paths.push({ raw: String(obj(entry).file), base: DEPLOY });
      }
    }
    expect(paths.length).toBeGreaterThanOrEqual(5);
    for (const { raw, base } of paths) {
      expect(raw, 'an absolute host path must come from a variable').not.toMatch(/^\//);
      const path = interpolate(raw, env);
      if (path.startsWith('/')) expect(raw, `${raw} is absolute but not from a variable`).toMatch(/^\$\{?[A-Za-z_]/);
      else expect(existsSync(resolve(base, path)), `${raw} (from ${base}) does not exist`).toBe(true);
    }
  });

  it('builds one image from deploy/Dockerfile with the repository as context, for signaling and turn-config', () => {
    expect(Object.keys(services).sort()).toEqual(['coturn', 'signaling', 'turn-config']);
    const build = obj(service('signaling').build);
    const context = resolve(DEPLOY, String(build.context));
    expect(context).toBe(ROOT);
    expect(resolve(context, String(build.dockerfile))).toBe(join(DEPLOY, 'Dockerfile'));
    expect(service('turn-config').image).toBe(service('signaling').image);
    expect(obj(service('turn-config').build)).toEqual(build);
  });

  it('gives each service the secrets it needs and no others', () => {
    const declared = Object.keys(obj(compose.secrets));
    const secretFileVar = (svc: Yaml, variable: string) => {
      const path = environment(svc)[variable];
      if (path === undefined) return undefined;
      const m = /^\/run\/secrets\/(.+)$/.exec(String(path));
      expect(m, `${variable}=${String(path)}`).not.toBeNull();
      expect(secretNames(svc)).toContain(m![1]);
      expect(declared).toContain(m![1]);
      return m![1];
    };
    const signaling = service('signaling');
    const room = secretFileVar(signaling, 'ZR_ROOM_TOKEN_SECRET_FILE');
    const turn = secretFileVar(signaling, 'ZR_TURN_SECRETS_FILE');
    expect(room).toBeDefined();
    expect(turn).toBeDefined();
    const renderer = service('turn-config');
    expect(secretFileVar(renderer, 'ZR_TURN_SECRETS_FILE')).toBe(turn);
    expect(secretNames(renderer)).not.toContain(room);
    expect(secretNames(service('coturn'))).toEqual([]);
    for (const name of ['signaling', 'turn-config']) {
      const svc = service(name);
      const config = String(environment(svc).ZR_CONFIG);
      expect(mounts(svc).find((m) => m.target === config)?.readOnly, `${name}: ZR_CONFIG ${config} mounted read-only`).toBe(true);
    }
  });

  it('renders coturn\'s configuration into the file coturn reads, before coturn starts', () => {
    const renderer = service('turn-config');
    const coturn = service('coturn');
    expect(coturn.image).toMatch(/^coturn\/coturn:4\.6(\.|-|$)/);
    expect(coturn.network_mode).toBe('host');
    expect(coturn.restart).toBe('unless-stopped');
    expect(obj(obj(coturn.depends_on)['turn-config']).condition).toBe('service_completed_successfully');
    expect(renderer.restart).toBe('no');

    const args = command(renderer);
    const cli = args.find((a) => a.endsWith('turnConfigCli.js'));
    expect(cli).toBeDefined();
    expect(existsSync(join(ROOT, sourceOf(cli!)))).toBe(true);
    const out = option(args, '--out')!;
    const rendered = mounts(renderer).find((m) => !m.bind && out.startsWith(`${m.target}/`));
    expect(rendered, `--out ${out} is not in a named volume`).toBeDefined();
    const seen = mounts(coturn).find((m) => m.source === rendered!.source);
    expect(seen?.readOnly).toBe(true);
    expect(option(command(coturn), '-c')).toBe(posix.join(seen!.target, posix.relative(rendered!.target, out)));

    // The certificate coturn is told to use is inside a read-only mount of coturn's.
    for (const flag of ['--cert', '--key']) {
      const file = option(args, flag)!;
      const tls = mounts(coturn).find((m) => m.bind && file.startsWith(`${m.target}/`));
      expect(tls?.readOnly, `${flag} ${file}`).toBe(true);
    }
  });

  it('runs coturn as the image user that writes its 0600 configuration', () => {
    const user = dockerfile().filter((i) => i.op === 'USER').at(-1)!.args;
    expect(String(service('coturn').user)).toBe(user);
  });

  it('stops the signaling server no sooner than its own shutdown deadline', () => {
    const grace = /^(\d+)s$/.exec(String(service('signaling').stop_grace_period));
    expect(Number(grace?.[1]) * 1000).toBeGreaterThan(DEFAULT_SHUTDOWN_DEADLINE_MS);
  });
});

describe('deploy/Dockerfile', () => {
  const instructions = dockerfile();
  const ignored = dockerignore(read('.dockerignore'));

  it('COPYs only paths that exist and that .dockerignore sends', () => {
    const stages = new Set<string>();
    let copies = 0;
    for (const ins of instructions) {
      if (ins.op === 'FROM') stages.add(ins.stage);
      if (ins.op !== 'COPY' && ins.op !== 'ADD') continue;
      const { from, sources } = copySources(ins);
      if (from) {
        expect(stages, `COPY --from=${from}`).toContain(from);
        continue;
      }
      for (const source of sources) {
        const path = posix.normalize(source).replace(/\/$/, '');
        expect(existsSync(join(ROOT, path)), `COPY ${source}`).toBe(true);
        for (const file of filesUnder(path)) expect(ignored(file), `${file} is excluded by .dockerignore`).toBe(false);
        copies++;
      }
    }
    expect(copies).toBeGreaterThanOrEqual(5);
  });

  it('keeps local secrets, dependencies and build output out of the build context', () => {
    for (const path of ['deploy/.env', 'deploy/secrets/turn-secrets', 'node_modules/ws/package.json', 'build/server/src/main.js', '.git/config', 'electron/main/index.ts']) {
      expect(ignored(path), path).toBe(true);
    }
  });

  it('builds with dev dependencies and runs the compiled server, as a non-root user, with a health check', () => {
    const runtime = instructions.at(-1)!.stage;
    const inStage = (stage: string, op: string) => instructions.filter((i) => i.stage === stage && i.op === op).map((i) => i.args);
    const build = instructions.find((i) => i.op === 'RUN' && /\btsc -b server\b/.test(i.args))?.stage;
    expect(build).toBeDefined();
    expect(build).not.toBe(runtime);
    expect(inStage(build!, 'RUN').some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(inStage(runtime, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);

    const user = inStage(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/);

    const cmd = JSON.parse(inStage(runtime, 'CMD').at(-1)!) as string[];
    expect(cmd).toEqual(['node', 'build/server/src/main.js']);
    expect(existsSync(join(ROOT, sourceOf(cmd[1]!)))).toBe(true);
    expect(inStage(runtime, 'EXPOSE')).toEqual([String(exampleConfig().listen.port)]);
    expect(inStage(runtime, 'HEALTHCHECK').join(' ')).toMatch(/\/healthz\b/);

    // The compiled server and the coturn template sit where turnConfigCli's walk up finds them.
    const copied = instructions.filter((i) => i.stage === runtime && i.op === 'COPY').map(copySources);
    const dests = copied.map((c) => posix.normalize(c.dest).replace(/\/$/, ''));
    expect(dests).toEqual(expect.arrayContaining(['build/server', 'build/shared', 'deploy/coturn']));
    expect(copied.find((c) => c.dest.startsWith('deploy/coturn'))?.sources.map((s) => s.replace(/\/$/, ''))).toEqual(['deploy/coturn']);
  });
});

describe('deploy/server.example.json', () => {
  it('is a valid server configuration once secrets are supplied, and holds none itself', () => {
    expect(exampleConfigRaw.roomToken?.secret).toBeUndefined();
    expect(exampleConfigRaw.turn?.secrets).toBeUndefined();
    expect(() => parseConfig(exampleConfigRaw)).toThrow(/roomToken\.secret[\s\S]*turn\.secrets/);
    const config = exampleConfig();
    expect(config.publicUrl).toMatch(/^https:\/\//);
    expect(config.tls).toBeUndefined();
    expect(config.trustProxyHops).toBeGreaterThanOrEqual(1);
    expect(config.listen.host).toBe('0.0.0.0');
    expect(config.idp.issuer).toMatch(/^https:\/\//);
    expect(config.allowedOrigins).toContain('app://zerorange');
    expect(config.rooms.policy.length).toBeGreaterThan(0);
  });

  it('renders a coturn configuration, and is served on the port Compose publishes', () => {
    const config = exampleConfig();
    const conf = renderCoturnConfig(config, { certFile: '/etc/zerorange/tls/turn/fullchain.pem', keyFile: '/etc/zerorange/tls/turn/privkey.pem' });
    expect(conf).toContain(`realm=${config.turn.realm}`);
    expect(conf).toContain(`tls-listening-port=${config.turn.turnsPort}`);
    // The production relay policy: UDP relays only, special-purpose peers denied, nothing re-allowed.
    const lines = conf.split('\n');
    expect(lines).toContain('no-tcp-relay');
    expect(lines).not.toContain('allow-loopback-peers');
    expect(lines.filter((l) => l.startsWith('allowed-peer-ip='))).toEqual([]);
    expect(lines.filter((l) => /^denied-peer-ip=::(-|0\.0\.0\.0-)/.test(l))).toEqual([]);
    const published = list(service('signaling').ports).map((p) => splitSpec(String(p)).at(-1));
    expect(published).toEqual([String(config.listen.port)]);
  });
});

describe('deploy/systemd units', () => {
  const units = { signaling: parseUnit(UNITS.signaling), coturn: parseUnit(UNITS.coturn) };

  it.each(Object.entries(UNITS))('%s: sections, absolute binaries, existing /opt/zerorange paths, sandbox', (name, path) => {
    const unit = units[name as keyof typeof units];
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(one(unit, 'Unit', 'Description')).not.toBe('');
    expect(get(unit, 'Install', 'WantedBy')).toContain('multi-user.target');
    expect(one(unit, 'Service', 'Restart')).toBe('on-failure');

    const commands = EXEC_KEYS.flatMap((k) => get(unit, 'Service', k));
    expect(commands.length).toBeGreaterThan(0);
    for (const cmd of commands) expect(cmd.replace(/^[-@:+!]+/, ''), cmd).toMatch(/^\/\S+/);

    const referenced = [...read(path).matchAll(/\/opt\/zerorange(?:\/([^\s"']*))?/g)].map((m) => m[1] ?? '');
    expect(referenced.length).toBeGreaterThan(0);
    for (const rel of referenced) expect(existsSync(join(ROOT, sourceOf(rel))), `/opt/zerorange/${rel}`).toBe(true);

    // Every credential the unit loads is used, and every %d/… it uses is loaded.
    const loaded = get(unit, 'Service', 'LoadCredential').map((c) => c.split(':')[0]);
    const used = [...read(path).matchAll(/%d\/([A-Za-z0-9._-]+)/g)].map((m) => m[1]);
    expect(new Set(used)).toEqual(new Set(loaded));

    for (const [key, value] of Object.entries({ NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes' })) {
      expect(one(unit, 'Service', key), key).toBe(value);
    }
    expect(get(unit, 'Service', 'SystemCallFilter')).toContain('@system-service');
    expect(one(unit, 'Service', 'RestrictAddressFamilies')).not.toMatch(/AF_PACKET|^~/);
    expect(get(unit, 'Service', 'MemoryDenyWriteExecute')).not.toContain('yes');
    const user = get(unit, 'Service', 'User');
    expect(get(unit, 'Service', 'DynamicUser').includes('yes') || (user.length === 1 && !/^(root|0)$/.test(user[0]!))).toBe(true);
  });

  it('signaling: runs the compiled server with both secrets as credentials, no capabilities, a graceful stop', () => {
    const unit = units.signaling;
    const [node, script, ...rest] = one(unit, 'Service', 'ExecStart').split(/\s+/);
    expect(node).toMatch(/\/node$/);
    expect(script).toBe('/opt/zerorange/build/server/src/main.js');
    expect(rest).toEqual([]);
    const vars = unitEnv(unit);
    expect(vars.get('ZR_CONFIG')).toMatch(/^\//);
    expect(vars.get('ZR_ROOM_TOKEN_SECRET_FILE')).toMatch(/^%d\/./);
    expect(vars.get('ZR_TURN_SECRETS_FILE')).toMatch(/^%d\/./);
    expect(get(unit, 'Service', 'CapabilityBoundingSet')).toEqual(['']);
    expect(one(unit, 'Service', 'KillSignal')).toBe('SIGTERM');
    expect(Number(one(unit, 'Service', 'TimeoutStopSec')) * 1000).toBeGreaterThan(DEFAULT_SHUTDOWN_DEADLINE_MS);
  });

  it('coturn: renders its configuration into the runtime directory, then serves it; reload sends SIGUSR2', () => {
    const unit = units.coturn;
    const pre = one(unit, 'Service', 'ExecStartPre').split(/\s+/);
    expect(pre[1]).toBe('/opt/zerorange/build/server/src/turnConfigCli.js');
    const out = option(pre, '--out')!;
    expect(out).toBe(`%t/${one(unit, 'Service', 'RuntimeDirectory')}/turnserver.conf`);
    const start = one(unit, 'Service', 'ExecStart').split(/\s+/);
    expect(start.slice(0, 3)).toEqual(['/usr/bin/turnserver', '-c', out]);
    expect(one(unit, 'Service', 'ExecReload')).toMatch(/^\/\S*\/kill -(USR2|SIGUSR2|s USR2) \$MAINPID$/);
    expect(get(unit, 'Service', 'AmbientCapabilities')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(get(unit, 'Service', 'CapabilityBoundingSet')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(Number(one(unit, 'Service', 'LimitNOFILE'))).toBeGreaterThanOrEqual(65536);
    expect(unitEnv(unit).get('ZR_TURN_SECRETS_FILE')).toMatch(/^%d\/./);
    expect(unitEnv(unit).has('ZR_ROOM_TOKEN_SECRET_FILE')).toBe(false);
  });
});

describe('deploy/systemd/certbot-deploy-hook.sh', () => {
  const HOOK = join(DEPLOY, 'systemd/certbot-deploy-hook.sh');

  it('defaults to the certificate paths the coturn unit uses', () => {
    const pre = one(parseUnit(UNITS.coturn), 'Service', 'ExecStartPre').split(/\s+/);
    const dest = /\bdest=\$\{ZR_TURN_TLS_DIR:-([^}]+)\}/.exec(readFileSync(HOOK, 'utf8'))?.[1];
    expect(option(pre, '--cert')).toBe(`${dest}/fullchain.pem`);
    expect(option(pre, '--key')).toBe(`${dest}/privkey.pem`);
    expect(statSync(HOOK).mode & 0o111).not.toBe(0);
  });

  it('installs the renewed turns: certificate readable by coturn and reloads coturn; ignores other certificates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zr-hook-'));
    try {
      const bin = join(dir, 'bin');
      const log = join(dir, 'systemctl.log');
      mkdirSync(bin);
      writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$@" >> '${log}'\n`);
      chmodSync(join(bin, 'systemctl'), 0o755);
      for (const name of ['turn.test', 'www.test']) {
        mkdirSync(join(dir, 'live', name), { recursive: true });
        writeFileSync(join(dir, 'live', name, 'fullchain.pem'), `chain of ${name}\n`);
        writeFileSync(join(dir, 'live', name, 'privkey.pem'), `key of ${name}\n`);
      }
      const dest = join(dir, 'tls');
      const { ZR_TURN_RELOAD: _reload, ...inherited } = process.env;
      const run = (lineage: string) =>
        execFileSync('bash', [HOOK], {
          env: {
            ...inherited,
            PATH: `${bin}:${process.env.PATH ?? ''}`,
            ZR_HOOK_CONFIG: join(dir, 'absent.env'),
            ZR_TURN_CERT_NAME: 'turn.test',
            ZR_TURN_TLS_DIR: dest,
            ZR_TURN_TLS_OWNER: `${process.getuid!()}:${process.getgid!()}`,
            RENEWED_LINEAGE: join(dir, 'live', lineage),
          },
          stdio: 'pipe',
        });

      run('www.test');
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(log)).toBe(false);

      run('turn.test');
      for (const file of ['fullchain.pem', 'privkey.pem']) {
        expect(readFileSync(join(dest, file), 'utf8')).toBe(readFileSync(join(dir, 'live/turn.test', file), 'utf8'));
        expect(statSync(join(dest, file)).mode & 0o777).toBe(0o640);
      }
      expect(readdirSync(dest).sort()).toEqual(['fullchain.pem', 'privkey.pem']);
      const unitName = posix.basename(UNITS.coturn);
      expect(readFileSync(log, 'utf8')).toBe(`reload ${unitName}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
