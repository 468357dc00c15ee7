import { useId } from 'react';
import { NETWORK_POLICIES, NETWORK_POLICY_LABELS, type NetworkPolicy } from '../call/networkPolicy.js';
import { POLICY_EXPLANATIONS, RESTRICTIVE_NOTE } from '../components/call/callText.js';
import { SetByOrganisation } from '../components/settings/SetByOrganisation.js';
import { selectDefaultNetworkPolicy, selectManaged, selectRestrictiveNetwork, selectSettingsSaving, useAppStore } from '../store/index.js';

const isPolicy = (value: string): value is NetworkPolicy => (NETWORK_POLICIES as readonly string[]).includes(value);

/** Settings → Network: the policy calls start with, and what the app learned about networks. */
export function SettingsNetwork() {
  const id = useId();
  const policy = useAppStore(selectDefaultNetworkPolicy);
  const locked = useAppStore(selectManaged).networkPolicy;
  const restrictive = useAppStore(selectRestrictiveNetwork);
  const saving = useAppStore(selectSettingsSaving);
  const setDefaultNetworkPolicy = useAppStore((s) => s.setDefaultNetworkPolicy);
  const forgetNetworks = useAppStore((s) => s.forgetNetworks);
  return (
    <section className="card" aria-labelledby="settings-network">
      <h2 id="settings-network">Network</h2>
      <div className="field">
        <label htmlFor={`${id}-policy`}>Network policy for calls</label>
        <select
          id={`${id}-policy`}
          value={policy}
          disabled={locked || saving}
          aria-describedby={`${id}-explain${locked ? ` ${id}-managed` : ''}`}
          onChange={(e) => {
            if (isPolicy(e.target.value)) void setDefaultNetworkPolicy(e.target.value);
          }}
        >
          {NETWORK_POLICIES.map((p) => (
            <option key={p} value={p}>
              {NETWORK_POLICY_LABELS[p]}
            </option>
          ))}
        </select>
        {locked && <SetByOrganisation id={`${id}-managed`} />}
        <p id={`${id}-explain`} className="hint">
          {POLICY_EXPLANATIONS[policy]}
        </p>
      </div>
      <div className="field">
        <p>{restrictive ? RESTRICTIVE_NOTE : 'Nothing special is known about this network.'}</p>
        <p className="hint">
          ZeroRange remembers networks that block UDP (by a coarse, salted fingerprint), so calls there start over TLS 443 at once. Forgetting clears what it
          learned about this network and every other.
        </p>
        <button type="button" disabled={saving} onClick={() => void forgetNetworks()}>
          Forget this network
        </button>
      </div>
    </section>
  );
}
