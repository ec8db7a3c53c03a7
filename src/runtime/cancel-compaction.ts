/**
 * @internal `cancelCompaction`: stops a session's compaction while it is still summarising.
 *
 * The chart does the work: `COMPACTION.CANCEL` is handled only in `compacting.summarising`, and
 * leaving that state stops the `compact` actor, whose AbortSignal makes the compaction throw
 * before it writes anything. Once the commit has started (`committing`) the event is not handled,
 * so a commit is never cut; the answer is then `false` and the compaction completes.
 */
import type { SessionActorRef } from '../../machines/session.machine.js';

/**
 * @internal Sends `COMPACTION.CANCEL` if a compaction of `ref` is summarising.
 * @returns Whether a compaction was cancelled (false: none running, or its commit started).
 */
export function cancelRunningCompaction(ref: SessionActorRef): boolean {
  const snapshot = ref.getSnapshot();
  if (snapshot.status !== 'active') return false;
  if (!snapshot.matches({ ready: { compaction: { compacting: 'summarising' } } })) return false;
  ref.send({ type: 'COMPACTION.CANCEL' });
  // The send is handled synchronously: the chart left `summarising` unless it could not.
  return !ref.getSnapshot().matches({ ready: { compaction: 'compacting' } });
}
