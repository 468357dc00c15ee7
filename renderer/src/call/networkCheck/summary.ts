import type { NetworkCheckConfig } from '../../../../shared/ipc/desktopApi.js';
import { NETWORK_POLICY_LABELS } from '../networkPolicy.js';
import { hostPort, relayTarget, stunTarget } from './targets.js';
import { RELAY_PORT_RANGE, type CheckPath, type CheckStep, type CheckStepId, type NetworkCheckSummary } from './types.js';

// The verdict over all steps: outcome, network setting and advice for an administrator.

export const passed = (steps: CheckStep[], id: CheckStepId) => steps.find((s) => s.id === id)?.status === 'passed';

/** Which paths work, the setting calls will use, and what a network administrator should allow. */
export function summarize(steps: CheckStep[], config: NetworkCheckConfig): NetworkCheckSummary {
  const signaling = passed(steps, 'https') && passed(steps, 'wss');
  const stun = passed(steps, 'stun');
  const udp = passed(steps, 'turn-udp');
  const tcp = passed(steps, 'turn-tcp');
  const loopback = steps.find((s) => s.id === 'loopback');
  // TLS counts once a call through it connected (or when the test call could not be tried).
  const tls = passed(steps, 'turn-tls') && loopback?.status !== 'failed';

  const turnUrl = relayTarget(config.iceServers, 'udp') ?? relayTarget(config.iceServers, 'tcp');
  const tlsUrl = relayTarget(config.iceServers, 'tls');
  const turnHost = turnUrl?.parsed.host ?? stunTarget(config.iceServers)?.parsed.host ?? hostPort(config.server).host;
  const turnPort = turnUrl?.parsed.port ?? 3478;
  const tlsHost = tlsUrl?.parsed.host ?? turnHost;
  const tlsPort = tlsUrl?.parsed.port ?? 443;
  const signalingAt = hostPort(config.healthUrl);
  const udpRule = `UDP ${turnPort} and UDP ${RELAY_PORT_RANGE} to ${turnHost}`;
  const tlsRule = `TCP ${tlsPort} to ${tlsHost}`;

  const paths: CheckPath[] = [
    { name: `Signaling (TCP ${signalingAt.port} to ${signalingAt.host})`, works: signaling },
    { name: `STUN over UDP ${stunTarget(config.iceServers)?.parsed.port ?? turnPort}`, works: stun },
    { name: `TURN over UDP ${turnPort}`, works: udp },
    { name: `TURN over TCP ${relayTarget(config.iceServers, 'tcp')?.parsed.port ?? turnPort}`, works: tcp },
    { name: `TURN over TLS ${tlsPort}`, works: tls },
  ];

  if (!signaling) {
    const media = udp || tcp || tls ? '' : `, and ${udpRule}, or ${tlsRule}`;
    return {
      outcome: 'blocked',
      policy: null,
      headline: 'Calls cannot start from this network: ZeroRange cannot reach its server.',
      paths,
      policyText: 'No network setting helps until the server can be reached.',
      advice: `Ask your network administrator to allow HTTPS and WebSocket connections (TCP ${signalingAt.port}) to ${signalingAt.host}${media}.`,
    };
  }
  if (udp) {
    return {
      outcome: 'good',
      policy: 'auto',
      headline: 'Calls will work on this network.',
      paths,
      policyText: `ZeroRange will use: ${NETWORK_POLICY_LABELS.auto} (direct when possible, otherwise relayed over UDP).`,
      advice:
        tlsUrl && !tls
          ? `Calls work here. TURN over TLS ${tlsPort} did not: on networks that block UDP calls need ${tlsRule}; ask your network administrator to check it.`
          : null,
    };
  }
  if (tcp) {
    return {
      outcome: 'limited',
      policy: 'auto',
      headline: `Calls will work, relayed over TCP ${turnPort}: UDP is blocked on this network.`,
      paths,
      policyText: `ZeroRange will use: ${NETWORK_POLICY_LABELS.auto} (relayed over TCP).`,
      advice: `For better call quality, ask your network administrator to allow ${udpRule}.`,
    };
  }
  if (tls) {
    return {
      outcome: 'limited',
      policy: 'relay-tls',
      headline: `Calls will work only through TURN over TLS on port ${tlsPort}: UDP and TCP ${turnPort} are blocked on this network.`,
      paths,
      policyText: `ZeroRange will use: ${NETWORK_POLICY_LABELS['relay-tls']}.`,
      advice: `Calls work over TCP ${tlsPort}. For better call quality, ask your network administrator to allow ${udpRule}.`,
    };
  }
  return {
    outcome: 'blocked',
    policy: null,
    headline: 'Calls cannot connect from this network: every way to the relay server is blocked.',
    paths,
    policyText: 'No network setting can connect calls from here.',
    advice: `Ask your network administrator to allow ${udpRule}${tlsUrl ? `, or ${tlsRule}` : ''}.`,
  };
}
