import { TurnClient } from './TurnClient.js';
import type { TurnServerSpec } from './servers.js';

export type ProbeTransport = 'udp' | 'tcp' | 'tls';

export interface ProbeOptions {
  credential: { username: string; password: string };
  timeoutMs: number;
  /** PEM CA the TLS probe trusts instead of the system store. */
  ca?: string;
}

/** The transports an instance serves: TLS only where it has a turns: port. */
export function probeTransports(spec: TurnServerSpec): ProbeTransport[] {
  return spec.turnsPort > 0 ? ['udp', 'tcp', 'tls'] : ['udp', 'tcp'];
}

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * What a client does first: an authenticated Allocate (401 challenge, then with the credential),
 * then frees it at once (Refresh lifetime 0) so probes never hold relay ports. Resolves with the
 * milliseconds the Allocate took from the first byte sent (connect included for TCP and TLS);
 * rejects with the reason on any failure, a refusal of the credential included.
 */
export async function probeAllocate(spec: TurnServerSpec, transport: ProbeTransport, opts: ProbeOptions): Promise<number> {
  const label = `${transport}://${spec.probeHost}`;
  const started = performance.now();
  let client: TurnClient | undefined;
  const attempt = (async () => {
    const connected = await TurnClient.connectAndAllocate(
      {
        transport,
        host: spec.probeHost,
        port: transport === 'tls' ? spec.turnsPort : spec.turnPort,
        timeoutMs: opts.timeoutMs,
        ...(transport === 'tls' ? { servername: spec.tlsHost ?? spec.host, ...(opts.ca ? { ca: opts.ca } : {}) } : {}),
      },
      opts.credential,
    );
    client = connected.client;
    const result = connected.result;
    if (!result.ok) throw new Error(`${label}: Allocate answered ${result.code} ${result.reason}`.trim());
    return performance.now() - started;
  })();
  try {
    return await withDeadline(attempt, opts.timeoutMs, label);
  } finally {
    // close() frees the allocation (Refresh 0) before it closes the socket. A probe cut off while
    // connecting closes once the connect settles (the client's own timeouts bound it).
    if (client) await client.close();
    else void attempt.catch(() => undefined).finally(() => client?.close());
  }
}
