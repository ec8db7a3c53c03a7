/**
 * @internal The writes that follow a session's commit (session.json's figures, the checkpoint's
 * count: derived, best effort), which the compaction's caller does not wait for. Per session they
 * run one after the other, in the order they were asked; `settled(id)` is what the next commit,
 * clear, archive and close wait for, so that a close leaves them written and an older record never
 * lands after a newer one.
 */
export interface AfterCommitWrites {
  /** Runs `write` after the session's earlier ones; its failure is ignored (best effort). */
  queue(sessionId: string, write: () => Promise<unknown>): void;
  /** Resolves once the session's writes asked so far are done (at once when there are none). */
  settled(sessionId: string): Promise<void>;
  /** Resolves once every session's writes asked so far are done (the runtime's close). */
  settledAll(): Promise<void>;
}

/**
 * @internal
 * @example
 * ```ts
 * const writes = createAfterCommitWrites()
 * writes.queue(id, () => dir.writeRecord(record))  // the caller goes on
 * await writes.settled(id)                        // before the session closes
 * ```
 */
export function createAfterCommitWrites(): AfterCommitWrites {
  const pending = new Map<string, Promise<void>>();
  const settled = (sessionId: string) => pending.get(sessionId) ?? Promise.resolve();
  return {
    queue(sessionId, write) {
      const next = settled(sessionId)
        .then(write)
        .then(
          () => undefined,
          () => undefined,
        );
      pending.set(sessionId, next);
      void next.then(() => {
        if (pending.get(sessionId) === next) pending.delete(sessionId);
      });
    },
    settled,
    async settledAll() {
      await Promise.all([...pending.values()]);
    },
  };
}
