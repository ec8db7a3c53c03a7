/**
 * @internal The small rules of one compaction's steps (run-compaction.ts): where a late-decided
 * fold stops, the verbatim tail's budget, a cancellation's refusal, and what each escalation step
 * is called in the result.
 */
import type { CompactInput } from '../../machines/session.machine.js';
import { SessionError } from '../core/errors.js';
import { countedTokens } from '../core/request-size.js';
import type { CompactionEscalation, Message } from '../core/types.js';

/** What messages add to a request: internal ones are archived but never sent (see countedTokens). */
export const sumTokens = countedTokens;

/**
 * The messages a compaction folds from. A threshold compaction decided late (its exact counts
 * came after later messages were written, see `CompactInput.decideFrom`) stops at the first
 * message from `decideFrom` on that brought the request to the threshold: where a synchronous
 * count would have started it, whatever the counting worker's timing.
 */
export function decided(
  messages: Message[],
  decideFrom: number | undefined,
  reaches: (tokens: number) => boolean,
) {
  if (decideFrom === undefined) return messages;
  let tokens = 0;
  for (let i = 0; i < messages.length; i++) {
    tokens += sumTokens([messages[i]!]);
    if (messages[i]!.seq >= decideFrom && reaches(tokens)) return messages.slice(0, i + 1);
  }
  return messages;
}

export function assertNotAborted(signal: AbortSignal, sessionId: string): void {
  if (signal.aborted) {
    throw new SessionError(
      'COMPACTION_CANCELLED',
      'compaction',
      `session ${sessionId}: the compaction was cancelled; nothing changed on disk`,
      {
        retryable: true,
        cause: signal.reason,
      },
    );
  }
}

/**
 * The verbatim tail a compaction keeps. A requested tail (a manual compaction's
 * `keepRecentTokens`) is kept as asked; the default grows beyond `limits.keepRecentTokens` (which
 * assumes a full checkpoint) to what brings the request to `targetAfterCompaction` of the window
 * with the checkpoint as large as it is now.
 */
export function tailBudget(input: CompactInput, checkpointTokens: number, correction: number): number {
  const { limits } = input;
  if (input.tailRequested === true || limits.targetAfterCompaction === undefined)
    return input.keepRecentTokens;
  const room = Math.floor(
    (limits.maxTokens * limits.targetAfterCompaction - limits.replyReserveTokens) / correction,
  );
  return Math.max(input.keepRecentTokens, room - input.fixedTokens - checkpointTokens);
}

/** What a compaction did, by its escalation step (`recompressed`: step 2 re-compressed the checkpoint). */
export function reasonOf(escalation: CompactionEscalation, recompressed: boolean): string {
  if (escalation === 0) return 'folded the prefix, kept the recent tail';
  if (escalation === 1) return 'kept a smaller tail to get under the threshold';
  return recompressed
    ? 're-compressed the checkpoint to get under the threshold'
    : 'kept no tail to get under the threshold';
}
