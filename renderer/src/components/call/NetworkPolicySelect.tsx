import { NETWORK_POLICIES, NETWORK_POLICY_LABELS, type NetworkPolicy } from '../../call/networkPolicy.js';
import { SetByOrganisation } from '../settings/SetByOrganisation.js';
import { POLICY_EXPLANATIONS } from './callText.js';

function isPolicy(value: string): value is NetworkPolicy {
  return (NETWORK_POLICIES as readonly string[]).includes(value);
}

/**
 * The network-policy choice with its explanation and, when the organisation fixed it, a note that
 * says so. Used for one call (pre-join) and for the default (Settings); `id` prefixes the ids.
 */
export function NetworkPolicySelect(props: {
  id: string;
  label: string;
  policy: NetworkPolicy;
  locked: boolean;
  disabled?: boolean;
  onChange: (policy: NetworkPolicy) => void;
}) {
  const { id, policy, locked } = props;
  return (
    <>
      <label htmlFor={`${id}-policy`}>{props.label}</label>
      <select
        id={`${id}-policy`}
        value={policy}
        disabled={locked || props.disabled === true}
        aria-describedby={`${id}-explain${locked ? ` ${id}-managed` : ''}`}
        onChange={(e) => {
          if (isPolicy(e.target.value)) props.onChange(e.target.value);
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
    </>
  );
}
