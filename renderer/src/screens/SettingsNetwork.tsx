import { useId } from 'react';
import { RESTRICTIVE_NOTE } from '../components/call/callText.js';
import { NetworkPolicySelect } from '../components/call/NetworkPolicySelect.js';
import { selectDefaultNetworkPolicy, selectManaged, selectRestrictiveNetwork, selectSettingsSaving, useAppStore } from '../store/index.js';

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
        <NetworkPolicySelect
          id={id}
          label="Network policy for calls"
          policy={policy}
          locked={locked}
          disabled={saving}
          onChange={(next) => void setDefaultNetworkPolicy(next)}
        />
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
