/**
 * @internal What the JSON-file store hands out for a loaded session (its `SessionHead`).
 */
import type { SessionHead } from './contract.js';
import { deepFreeze } from './freeze.js';
import type { LoadedSession } from './session-directory.js';

/**
 * @internal The head of a loaded session, as data the caller keeps: copies, except the live messages, which
 * are the store's own, frozen (a long session's messages are not copied at every load).
 */
export function headOf(loaded: LoadedSession): SessionHead {
  const messages = loaded.messages.map(deepFreeze);
  const lastSeq = Math.max(loaded.archivedThroughSeq, messages[messages.length - 1]?.seq ?? -1);
  return {
    ...structuredClone({
      record: loaded.record,
      checkpoint: loaded.checkpoint,
      context: loaded.context,
      agentDescription: loaded.agentDescription,
      counts: loaded.counts,
      repairs: loaded.repairs,
      notes: loaded.notes,
    }),
    messages,
    archivedThroughSeq: loaded.archivedThroughSeq,
    lastSeq,
    tornRecordsDropped: loaded.tornRecordsDropped,
    uncounted: loaded.uncounted,
  };
}
