import type { NetworkPolicy } from '../../../../shared/ipc/desktopApi.js';
import type { Clock } from '../timers.js';

// The check's shapes and defaults, shared by the probes, the test call, the summary and the run.

export type CheckStepId = 'https' | 'wss' | 'stun' | 'turn-udp' | 'turn-tcp' | 'turn-tls' | 'loopback';
export type CheckStatus = 'pending' | 'running' | 'passed' | 'failed' | 'skipped';

export interface CheckStep {
  id: CheckStepId;
  label: string;
  status: CheckStatus;
  /**
   * The step's time in ms, null until it ends: the round trip for HTTPS and the socket, the time to a
   * candidate for STUN and TURN, the time to an encrypted connection for the test call, and the time
   * until it gave up for a failed step.
   */
  ms: number | null;
  /** Technical detail for diagnostics (URLs, error codes, relay addresses). Never the user's public address. */
  detail: string | null;
  /** What the result means, in plain words. */
  verdict: string;
  /** Failed because nothing answered or the connection was refused: a firewall, not an error of ours. */
  blocked: boolean;
  /** The test call's round trip (candidate pair currentRoundTripTime), in ms. */
  rttMs: number | null;
  /** The test call's data channel throughput, in kbit/s. */
  kbitPerSecond: number | null;
}

export type CheckOutcome = 'good' | 'limited' | 'blocked';

export interface CheckPath {
  name: string;
  works: boolean;
}

export interface NetworkCheckSummary {
  outcome: CheckOutcome;
  /** The network setting calls will use here; null when nothing gets through. */
  policy: NetworkPolicy | null;
  headline: string;
  /** Each path a call may take, and whether it works from here. */
  paths: CheckPath[];
  /** Which setting ZeroRange uses, in words. */
  policyText: string;
  /** What to ask a network administrator for (host and ports), or null when nothing needs doing. */
  advice: string | null;
}

export interface NetworkCheckResult {
  /** The server checked (origin). */
  server: string;
  startedAt: string;
  finishedAt: string | null;
  steps: CheckStep[];
  /** Null while the check runs (and when it was stopped). */
  summary: NetworkCheckSummary | null;
}

export interface NetworkCheckTimeouts {
  /** Each HTTPS request. */
  httpMs: number;
  /** Opening the signaling socket and its ping. */
  socketMs: number;
  /** A server-reflexive candidate (or STUN's answer). */
  stunMs: number;
  /** A relay candidate over UDP or TCP 3478 (errors may never come). */
  turnMs: number;
  /** A relay candidate over TLS. */
  tlsMs: number;
  /** The test call, up to DTLS connected and the data channel open. */
  loopbackConnectMs: number;
  /** How long the test call sends data to measure throughput. */
  throughputMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<NetworkCheckTimeouts> = {
  httpMs: 5_000,
  socketMs: 5_000,
  stunMs: 5_000,
  turnMs: 5_000,
  tlsMs: 5_000,
  loopbackConnectMs: 8_000,
  throughputMs: 3_000,
};

/** The relay port range of our coturn template (min-port/max-port): where relayed media arrives. */
export const RELAY_PORT_RANGE = '49152–65535';

export interface NetworkCheckDeps extends Partial<Clock> {
  RTCPeerConnection: new (config?: RTCConfiguration) => RTCPeerConnection;
  WebSocket: new (url: string) => WebSocket;
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  /** Wall-clock time for startedAt/finishedAt; Date.now by default. */
  wallNow?: () => number;
  timeouts?: Partial<NetworkCheckTimeouts>;
  /** Called with a fresh snapshot whenever a step starts or ends. */
  onUpdate?: (result: NetworkCheckResult) => void;
  /** Stops the check: steps still to run are skipped, probes under way are closed. */
  signal?: AbortSignal;
}

export interface NetworkCheckRun {
  result: NetworkCheckResult;
  /** The user's public address as the STUN server saw it: for the user's eyes only, never in the result. */
  publicAddress: string | null;
}

/** What a probe reports; the run fills in the fields it leaves out. */
export type StepResult = Partial<Omit<CheckStep, 'id' | 'label'>> & Pick<CheckStep, 'status' | 'verdict'>;
