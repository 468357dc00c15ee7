import { chmodSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { CoturnConfigError, renderCoturnConfig } from './coturnConfig.js';

const usage = `usage: npm run turn:config -- [--out FILE] [--cert FILE --key FILE] [--listening-ip IP]...
    [--relay-ip IP]... [--external-ip PUBLIC[/PRIVATE]]... [--allowed-peer-ip IP[-IP]]...
    [--min-port N] [--max-port N] [--tls-listening-port N] [--log syslog|stdout|FILE] [--pid-file FILE]
Reads the signaling server's configuration (ZR_CONFIG and the ZR_* secret variables) and writes
coturn's turnserver.conf from deploy/coturn/turnserver.conf.template (mode 0600: it holds secrets).`;

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'listening-ip': { type: 'string', multiple: true },
      'relay-ip': { type: 'string', multiple: true },
      'external-ip': { type: 'string', multiple: true },
      'allowed-peer-ip': { type: 'string', multiple: true },
      'min-port': { type: 'string' },
      'max-port': { type: 'string' },
      'tls-listening-port': { type: 'string' },
      log: { type: 'string' },
      'pid-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const num = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new CoturnConfigError(`--${name} takes a whole number, not ${JSON.stringify(v)}`);
    return n;
  };
  // coturn needs no room-token key; the host rendering this config may not have one.
  const env = process.env.ZR_ROOM_TOKEN_SECRET || process.env.ZR_ROOM_TOKEN_SECRET_FILE
    ? process.env
    : { ...process.env, ZR_ROOM_TOKEN_SECRET: 'unused-by-coturn-'.padEnd(32, '-') };
  const text = renderCoturnConfig(loadConfig(env), {
    ...(values.cert ? { certFile: values.cert } : {}),
    ...(values.key ? { keyFile: values.key } : {}),
    listeningIps: values['listening-ip'] ?? [],
    relayIps: values['relay-ip'] ?? [],
    externalIps: values['external-ip'] ?? [],
    allowedPeerIps: values['allowed-peer-ip'] ?? [],
    ...(num('min-port', values['min-port']) !== undefined ? { minPort: num('min-port', values['min-port'])! } : {}),
    ...(num('max-port', values['max-port']) !== undefined ? { maxPort: num('max-port', values['max-port'])! } : {}),
    ...(num('tls-listening-port', values['tls-listening-port']) !== undefined ? { tlsListeningPort: num('tls-listening-port', values['tls-listening-port'])! } : {}),
    ...(values.log ? { log: values.log } : {}),
    ...(values['pid-file'] ? { pidFile: values['pid-file'] } : {}),
  });
  if (values.out) {
    writeFileSync(values.out, text, { mode: 0o600 });
    chmodSync(values.out, 0o600);
    console.error(`wrote ${values.out}`);
  } else {
    process.stdout.write(text);
  }
}

try {
  main();
} catch (err) {
  if (err instanceof ConfigError || err instanceof CoturnConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`turn:config: ${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  throw err;
}
