import { CallEvent, type CallControllerEvents } from '../call/events.js';
import type { TypedEmitter } from '../call/TypedEmitter.js';
import type { AppState } from './types.js';

/**
 * The one place the call layer's events become app state: each `CallEvent` maps onto a call-slice
 * setter. The call layer knows nothing of the store; the store knows the call layer's event types.
 */
export function bindCall(store: { getState(): AppState }, source: TypedEmitter<CallControllerEvents>): () => void {
  const state = () => store.getState();
  const offs = [
    source.on(CallEvent.Prejoin, ({ roomId, policy }) => state().callPatch({ phase: 'prejoin', roomId, policy })),
    source.on(CallEvent.PolicyChanged, ({ policy }) => state().callPatch({ policy })),
    source.on(CallEvent.StartTogglesChanged, (toggles) => state().callPatch(toggles)),
    source.on(CallEvent.ScreenSourcesAnswered, () => state().callPatch({ screenSources: null })),
    source.on(CallEvent.Ended, () => state().callReset()),
    source.on(CallEvent.PhaseChanged, ({ phase, failure }) => state().callPatch({ phase, failure })),
    source.on(CallEvent.Joined, ({ selfId }) => state().callPatch({ selfId })),
    source.on(CallEvent.SignalingChanged, ({ state: signaling }) => state().callPatch({ signaling })),
    source.on(CallEvent.PeerUpdated, (view) => state().callPeerUpsert(view.peerId, view)),
    source.on(CallEvent.PeerRemoved, ({ peerId }) => state().callPeerRemove(peerId)),
    source.on(CallEvent.Notice, ({ message }) => state().callPatch({ notice: message })),
    source.on(CallEvent.LocalChanged, (patch) => state().callLocalPatch(patch)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
