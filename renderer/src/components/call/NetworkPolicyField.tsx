import { useId, useState } from 'react';
import { callController } from '../../controllers/index.js';
import { selectCallPolicy, selectManaged, useAppStore } from '../../store/index.js';
import { run } from './actions.js';
import { RESTRICTIVE_NOTE } from './callText.js';
import { NetworkPolicySelect } from './NetworkPolicySelect.js';

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
      <NetworkPolicySelect
        id={id}
        label="Network"
        policy={policy}
        locked={locked}
        onChange={(next) => run(callController().setPolicy(next), 'Changing the network setting')}
      />
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
