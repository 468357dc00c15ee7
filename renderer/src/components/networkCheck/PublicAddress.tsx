import { useState } from 'react';
import { maskAddress } from '../../call/networkCheck.js';

/** The address the STUN server saw: masked unless the user asks to see it (it is never exported). */
export function PublicAddress({ address }: { address: string }) {
  const [shown, setShown] = useState(false);
  return (
    <p className="check-address">
      Your public address: <span className="mono">{shown ? address : maskAddress(address)}</span>{' '}
      <button type="button" className="quiet" aria-pressed={shown} onClick={() => setShown(!shown)}>
        Show my address
      </button>
    </p>
  );
}
