type Listener = (payload: never) => void;

/** A minimal typed emitter: `on` returns its own unsubscribe, which suits React effects. */
export class TypedEmitter<Payloads extends object> {
  private readonly listeners = new Map<keyof Payloads, Set<Listener>>();

  on<E extends keyof Payloads>(event: E, cb: (payload: Payloads[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(cb as Listener);
    return () => void set.delete(cb as Listener);
  }

  emit<E extends keyof Payloads>(event: E, payload: Payloads[E]): void {
    for (const cb of [...(this.listeners.get(event) ?? [])]) {
      try {
        (cb as (p: Payloads[E]) => void)(payload);
      } catch (err) {
        // A throwing listener must not break the emitter's owner mid-transition; surface it asynchronously.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
