/**
 * @internal The leases of a runtime's calls on its sessions, told to the supervisor only when a
 * session goes from no call to some and back: a session in use by calls one after another (a loop
 * of `await addMessage(...)`) costs the supervisor two events in all, not two per call.
 *
 * The last release of a session is told after the current turn of the event loop
 * (`setImmediate`), so that a call made as soon as the previous one resolved takes the lease over
 * without the supervisor hearing of it. Until the release is told, the session counts as in use:
 * its actor is kept a little longer, never stopped early.
 */

/** @internal What the lease book tells. */
export type LeaseEvent = { type: 'SESSION.LEASE' | 'SESSION.RELEASE'; sessionId: string };

/** @internal Counts calls per session and tells the supervisor the transitions. */
export interface LeaseBook {
  /** Marks the session in use until the returned function is called (once). */
  lease(sessionId: string): () => void;
  /** Sessions in use by a call now, with their number of calls. */
  inUse(): ReadonlyMap<string, number>;
}

/**
 * @internal Creates a {@link LeaseBook} that calls `tell` with `SESSION.LEASE` when a session's
 * first call starts and `SESSION.RELEASE` once its last call has ended and no new one started.
 *
 * @example
 * ```ts
 * const book = createLeaseBook((event) => supervisor.send(event));
 * const release = book.lease(id);
 * try { await work(); } finally { release(); }
 * ```
 */
export function createLeaseBook(tell: (event: LeaseEvent) => void): LeaseBook {
  const calls = new Map<string, number>();
  /** Sessions the supervisor holds a lease of (told LEASE, not yet RELEASE). */
  const told = new Set<string>();
  const pending = new Set<string>();
  let flushing = false;

  function flush(): void {
    flushing = false;
    for (const sessionId of pending) {
      if ((calls.get(sessionId) ?? 0) > 0 || !told.has(sessionId)) continue;
      told.delete(sessionId);
      tell({ type: 'SESSION.RELEASE', sessionId });
    }
    pending.clear();
  }

  return {
    lease(sessionId) {
      calls.set(sessionId, (calls.get(sessionId) ?? 0) + 1);
      if (!told.has(sessionId)) {
        told.add(sessionId);
        tell({ type: 'SESSION.LEASE', sessionId });
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (calls.get(sessionId) ?? 1) - 1;
        if (left > 0) {
          calls.set(sessionId, left);
          return;
        }
        calls.delete(sessionId);
        pending.add(sessionId);
        if (!flushing) {
          flushing = true;
          setImmediate(flush);
        }
      };
    },
    inUse: () => calls,
  };
}
