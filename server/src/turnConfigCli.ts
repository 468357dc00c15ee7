import { chmodSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { CoturnConfigError, renderCoturnConfig, type CoturnOptions } from './coturnConfig.js';

const usage = `usage: npm run turn:config -- [--server ID] [--out FILE] [--cert FILE --key FILE] [--listening-ip IP]...
    [--relay-ip IP]... [--external-ip PUBLIC[/PRIVATE]]... [--allowed-peer-ip IP[-IP]]...
    [--alternate-server IP:PORT]... [--tls-alternate-server IP:PORT]...
    [--min-port N] [--max-port N] [--tls-listening-port N] [--log syslog|stdout|FILE] [--pid-file FILE]
Reads the signaling server's configuration (ZR_CONFIG and the ZR_* secret variables) and writes
coturn's turnserver.conf from deploy/coturn/turnserver.conf.template (mode 0600: it holds secrets).
With a pool (turn.servers), --server names the instance: its ports, addresses and statistics database.
A draining instance redirects new allocations to the others: to their hosts where those are IP
addresses, and to each --alternate-server / --tls-alternate-server IP:PORT given.`;

/** The command line as a deployment gives it; exported so tests render exactly what it renders. */
export function parseTurnConfigArgs(args: string[]): { help: boolean; out?: string; options: CoturnOptions } {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      server: { type: 'string' },
      'alternate-server': { type: 'string', multiple: true },
      'tls-alternate-server': { type: 'string', multiple: true },
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
  const num = (name: 'min-port' | 'max-port' | 'tls-listening-port') => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new CoturnConfigError(`--${name} takes a whole number, not ${JSON.stringify(v)}`);
    return n;
  };
  const minPort = num('min-port');
  const maxPort = num('max-port');
  const tlsListeningPort = num('tls-listening-port');
  const options: CoturnOptions = {
    ...(values.cert ? { certFile: values.cert } : {}),
    ...(values.key ? { keyFile: values.key } : {}),
    listeningIps: values['listening-ip'] ?? [],
    relayIps: values['relay-ip'] ?? [],
    externalIps: values['external-ip'] ?? [],
    allowedPeerIps: values['allowed-peer-ip'] ?? [],
    ...(minPort !== undefined ? { minPort } : {}),
    ...(maxPort !== undefined ? { maxPort } : {}),
    ...(tlsListeningPort !== undefined ? { tlsListeningPort } : {}),
    ...(values.log ? { log: values.log } : {}),
    ...(values['pid-file'] ? { pidFile: values['pid-file'] } : {}),
    ...(values.server ? { server: values.server } : {}),
    ...(values['alternate-server'] ? { alternateServers: values['alternate-server'] } : {}),
    ...(values['tls-alternate-server'] ? { tlsAlternateServers: values['tls-alternate-server'] } : {}),
  };
  return { help: values.help ?? false, ...(values.out ? { out: values.out } : {}), options };
}

function main(): void {
  const { help, out, options } = parseTurnConfigArgs(process.argv.slice(2));
  if (help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // coturn needs no room-token key; the host rendering this config may not have one.
  const env = process.env.ZR_ROOM_TOKEN_SECRET || process.env.ZR_ROOM_TOKEN_SECRET_FILE
    ? process.env
    : { ...process.env, ZR_ROOM_TOKEN_SECRET: 'unused-by-coturn-'.padEnd(32, '-') };
  const text = renderCoturnConfig(loadConfig(env), options);
  if (out) {
    writeFileSync(out, text, { mode: 0o600 });
    chmodSync(out, 0o600);
    console.error(`wrote ${out}`);
  } else {
    process.stdout.write(text);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    main();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CoturnConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`turn:config: ${(err as Error).message}\n\n${usage}`);
      process.exit(2);
    }
    throw err;
  }
}
