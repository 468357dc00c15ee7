import { useEffect, useId, useState } from 'react';
import { IpHandlingPolicy, type NetworkPrivacy } from '../../../shared/ipc/shellServices.js';
import { desktopClient } from '../desktop.js';

/** Each choice in words: what the others in a call can learn, and what it costs. */
export const IP_POLICY_TEXT: Readonly<Record<IpHandlingPolicy, { label: string; explain: string }>> = {
  default: {
    label: 'Use every network connection',
    explain: 'Calls take the most direct path. The others in a call may learn the addresses of all your network connections, including a VPN or your local network.',
  },
  default_public_interface_only: {
    label: 'Only the connection to the internet',
    explain: 'Calls use only the connection your computer reaches the internet through, so the addresses of a VPN or your local network are not shared. Calls on the same local network may go through the relay.',
  },
  disable_non_proxied_udp: {
    label: 'Only through the proxy or the relay',
    explain: 'No direct connections: media goes through the organisation’s relay over TCP or TLS, and through your system’s proxy where one is set. The others never learn your address; calls may have more delay.',
  },
};

function proxyText(privacy: NetworkPrivacy): string {
  const { proxy } = privacy;
  if (proxy.inUse === null) return proxy.checkedFor ? 'Whether a proxy is in use could not be determined.' : 'Connect to a server to see whether a proxy is in use.';
  return proxy.inUse ? `Requests to the server go through your system’s proxy (${proxy.kinds.join(', ')}).` : 'Requests to the server go directly, without a proxy.';
}

/** Settings: which network addresses calls may use (WebRTC IP handling), and whether a proxy is in use. */
export function NetworkPrivacySetting() {
  const id = useId();
  const [privacy, setPrivacy] = useState<NetworkPrivacy | null>(null);
  const [status, setStatus] = useState('');
  useEffect(() => {
    let live = true;
    desktopClient()
      .networkPrivacy()
      .then((p) => live && setPrivacy(p))
      .catch((err: Error) => live && setStatus(`Could not read this setting: ${err.message}`));
    return () => {
      live = false;
    };
  }, []);

  const choose = (policy: IpHandlingPolicy) => {
    setStatus('Saving…');
    desktopClient()
      .setIpHandlingPolicy(policy)
      .then((p) => {
        setPrivacy(p);
        setStatus('Saved. It applies to calls you start from now on.');
      })
      .catch((err: Error) => setStatus(`Not saved: ${err.message}`));
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Network privacy</h2>
      {privacy == null ? (
        <p className="hint">{status || 'Loading…'}</p>
      ) : (
        <>
          <fieldset disabled={privacy.managed}>
            <legend>Network connections calls may use</legend>
            {IpHandlingPolicy.options.map((policy) => (
              <div className="field" key={policy}>
                <label>
                  <input type="radio" name={`${id}-policy`} value={policy} checked={privacy.ipHandlingPolicy === policy} onChange={() => choose(policy)} aria-describedby={`${id}-${policy}`} />{' '}
                  {IP_POLICY_TEXT[policy].label}
                </label>
                <p id={`${id}-${policy}`} className="hint">
                  {IP_POLICY_TEXT[policy].explain}
                </p>
              </div>
            ))}
          </fieldset>
          {privacy.managed && <p className="hint">Your organisation has set this for you.</p>}
          <p className="hint">{proxyText(privacy)}</p>
          <p role="status">{status}</p>
        </>
      )}
    </section>
  );
}
