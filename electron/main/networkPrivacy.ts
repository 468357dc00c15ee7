import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IpHandlingPolicy, type NetworkPrivacy, type ProxyStatus } from '../../shared/ipc/shellServices.js';
import { writeFileAtomic } from './diagnosticsFile.js';
import { ServiceError } from './ServiceError.js';

export interface NetworkPrivacyDeps {
  userDataDir: string;
  /** Applies the policy to every window the app has (webContents.setWebRTCIPHandlingPolicy). */
  apply: (policy: IpHandlingPolicy) => void;
  /** session.resolveProxy: the PAC-style answer for a URL (`DIRECT`, `PROXY host:port; DIRECT` …). */
  resolveProxy?: (url: string) => Promise<string>;
  /** Set by the organisation (managed configuration): it wins over the user's choice, which cannot change it. */
  managedPolicy?: IpHandlingPolicy;
  /** How long resolveProxy may take (a PAC script may fetch); 3 s. */
  resolveTimeoutMs?: number;
}

const FILE = 'network-privacy.json';
const DEFAULT_POLICY: IpHandlingPolicy = 'default';

/**
 * Whether a PAC-style answer sends requests through a proxy, and which kinds. Hosts, ports and any
 * credentials in the answer are dropped: only the scheme words are kept. Chromium tries the entries
 * in order, so a leading DIRECT means no proxy.
 */
export function proxyFromAnswer(answer: string): Pick<ProxyStatus, 'inUse' | 'kinds'> {
  const kinds = answer
    .split(';')
    .map((entry) => entry.trim().split(/\s+/)[0]?.toUpperCase() ?? '')
    .filter((kind) => /^[A-Z0-9]{1,16}$/.test(kind));
  if (kinds.length === 0) return { inUse: null, kinds: [] };
  return { inUse: kinds[0] !== 'DIRECT', kinds: kinds.filter((k) => k !== 'DIRECT').slice(0, 8) };
}

/** The WebRTC IP-handling policy the user chose (kept in its own small file) and the proxy in use. */
export class NetworkPrivacySetting {
  readonly #deps: NetworkPrivacyDeps;
  readonly #file: string;
  #chosen: IpHandlingPolicy;

  constructor(deps: NetworkPrivacyDeps) {
    this.#deps = deps;
    this.#file = join(deps.userDataDir, FILE);
    this.#chosen = readPolicy(this.#file);
  }

  /** The policy in effect: the organisation's when it set one, else the user's. */
  get policy(): IpHandlingPolicy {
    return this.#deps.managedPolicy ?? this.#chosen;
  }

  set(policy: IpHandlingPolicy): void {
    if (this.#deps.managedPolicy) throw new ServiceError('forbidden', 'your organisation sets how calls use network addresses on this computer');
    writeFileAtomic(this.#file, `${JSON.stringify({ ipHandlingPolicy: policy }, null, 2)}\n`);
    this.#chosen = policy;
    this.#deps.apply(policy);
  }

  /** Whether requests to `origin` go through a proxy, as Chromium resolves it (system settings, PAC). */
  async proxyStatus(origin: string | null): Promise<ProxyStatus> {
    const resolve = this.#deps.resolveProxy;
    if (!origin || !resolve) return { checkedFor: origin, inUse: null, kinds: [] };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((done) => {
      timer = setTimeout(() => done(null), this.#deps.resolveTimeoutMs ?? 3_000);
    });
    try {
      const answer = await Promise.race([resolve(origin), timeout]);
      return { checkedFor: origin, ...(answer === null ? { inUse: null, kinds: [] } : proxyFromAnswer(answer)) };
    } catch {
      return { checkedFor: origin, inUse: null, kinds: [] };
    } finally {
      clearTimeout(timer);
    }
  }

  async info(origin: string | null): Promise<NetworkPrivacy> {
    return { ipHandlingPolicy: this.policy, managed: this.#deps.managedPolicy !== undefined, proxy: await this.proxyStatus(origin) };
  }
}

/** The stored choice; anything missing or unreadable is the default (every interface). */
function readPolicy(file: string): IpHandlingPolicy {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { ipHandlingPolicy?: unknown } | null;
    const parsed = IpHandlingPolicy.safeParse(raw?.ipHandlingPolicy);
    return parsed.success ? parsed.data : DEFAULT_POLICY;
  } catch {
    return DEFAULT_POLICY;
  }
}
