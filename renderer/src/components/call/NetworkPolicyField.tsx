import { useId, useState } from 'react';
import { callController } from '../../controllers/index.js';
import { NETWORK_POLICIES, NETWORK_POLICY_LABELS, type NetworkPolicy } from '../../call/networkPolicy.js';
import { selectCallPolicy, selectManaged, useAppStore } from '../../store/index.js';
import { SetByOrganisation } from '../settings/SetByOrganisation.js';
import { run } from './actions.js';
import { POLICY_EXPLANATIONS, RESTRICTIVE_NOTE } from './callText.js';

function isPolicy(value: string): value is NetworkPolicy {
  return (NETWORK_POLICIES as readonly string[]).includes(value);
}

/** How this call reaches the others (Auto / Always relay / TLS 443 only), and what was learned about this network. */
export function NetworkPolicyField() {
  const id = useId();
  const policy = useAppStore(selectCallPolicy);
  const restrictive = useAppStore((s) => s.session.desktop?.restrictiveNetwork === true);
  const locked = useAppStore(selectManaged).networkPolicy;
  const [forgetting, setForgetting] = useState(false);

  function forget() {
    setForgetting(true);
    run(
      callController()
        .forgetNetworks()
        .finally(() => setForgetting(false)),
      'Forgetting networks',
    );
  }

  return (
    <div className="field">
      <label htmlFor={`${id}-policy`}>Network</label>
      <select
        id={`${id}-policy`}
        value={policy}
        disabled={locked}
        aria-describedby={`${id}-explain${locked ? ` ${id}-managed` : ''}`}
        onChange={(e) => {
          if (isPolicy(e.target.value)) run(callController().setPolicy(e.target.value), 'Changing the network setting');
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
      {restrictive && (
        <div className="notice notice-info">
          <p>{RESTRICTIVE_NOTE}</p>
          <button type="button" onClick={forget} disabled={forgetting} aria-busy={forgetting}>
            Forget this network
          </button>
        </div>
      )}
    </div>
  );
}
