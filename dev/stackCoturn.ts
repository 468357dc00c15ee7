/**
 * The development stack's coturn configuration: the production template, rendered by the same
 * function `npm run turn:config` uses, with the options a deployment on the stack's address would
 * pass, plus only what the stack's own peers need. Pure (starts nothing), so a test can compare it
 * with a production render line by line.
 */
import { BlockList, isIP } from 'node:net';
import type { ServerConfig } from '../server/src/config.js';
import { renderCoturnConfig, type CoturnOptions } from '../server/src/coturnConfig.js';
import { parseTurnConfigArgs } from '../server/src/turnConfigCli.js';

export interface StackCoturnInput {
  /** The address the stack binds, relays from and gives clients. */
  host: string;
  certFile: string;
  keyFile: string;
  /** `--allowed-peer-ip`: where the stack's clients live (e.g. a test network's own range). */
  allowedPeerIps?: readonly string[];
}

/** What an administrator running coturn on `host` passes to `npm run turn:config`. */
export function stackDeploymentArgs(input: StackCoturnInput): string[] {
  return ['--cert', input.certFile, '--key', input.keyFile, '--listening-ip', input.host, '--relay-ip', input.host, '--log', 'stdout'];
}

const isLoopback = (ip: string) => /^127\./.test(ip) || ip === '::1';

function covered(ranges: readonly string[], ip: string): boolean {
  const list = new BlockList();
  for (const r of ranges) {
    const [low = '', high = low] = r.split('-');
    try {
      if (isIP(low) === isIP(ip)) list.addRange(low, high, isIP(low) === 6 ? 'ipv6' : 'ipv4');
    } catch {
      // Not a range: renderCoturnConfig refuses it with a clear message.
    }
  }
  return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The deployment's options plus the stack's peers:
 * - the given allowed ranges (the end-to-end harness passes its network's own range, 10.77.0.0/24);
 * - its own address unless already covered, as a deployment with a private relay address lists it
 *   (two relay candidates reach each other through it);
 * - on a loopback host (`npm start`, `npm run stack` by default) loopback peers: the relay address
 *   is 127.0.0.1 there, so relay-to-relay needs it. That is a development exception the harness,
 *   which runs on 10.77.0.1, does not have: its render differs from production only by its range.
 */
export function stackCoturnOptions(input: StackCoturnInput): CoturnOptions {
  const deployment = parseTurnConfigArgs(stackDeploymentArgs(input)).options;
  const allowed = [...(input.allowedPeerIps ?? [])];
  const loopback = isLoopback(input.host);
  if (!loopback && !covered(allowed, input.host)) allowed.push(input.host);
  return { ...deployment, allowedPeerIps: allowed, ...(loopback ? { allowLoopbackPeers: true } : {}) };
}

export function renderStackCoturnConfig(config: ServerConfig, input: StackCoturnInput): string {
  return renderCoturnConfig(config, stackCoturnOptions(input));
}
