/**
 * @internal The writes of a session's checkpoint other than a compaction's, inside the `session`
 * object: a hand edit, a decision, a clear and a reset. One exclusive handler (`changeCheckpoint`)
 * reads the checkpoint and the live messages as they are now, applies the change with the
 * project's own `runClear` (the same ledger, budget and version rules as in-process) and commits
 * it with `commitSession`: the checkpoint version, its count and the segment in one step. So two
 * clients changing one session at once are taken one after the other, and nothing they read can
 * go stale before they write.
 *
 * As in-process (where a clear or an edit waits in the session's queue until the compaction in
 * progress has committed), a change never races the object's compaction: while one runs, the
 * handler writes nothing and answers its id, and the client waits for that workflow and calls
 * again. A change is named by the caller (`changeId`, its commit id): a repeated call answers the
 * first one's result and writes nothing.
 */
import type * as restate from '@restatedev/restate-sdk';
import { runClear } from '../compaction/run-clear.js';
import type { CheckpointChange } from '../core/checkpoint-change.js';
import type { ArchiveSegment, Checkpoint, Limits } from '../core/types.js';
import type { SessionEvent } from '../runtime/events.js';
import { checkEditedCheckpoint } from '../runtime/checkpoint-edits.js';
import type { ClearResult } from '../runtime/types.js';
import { publish, type AddMessageCall } from './session-append.js';
import { currentCheckpoint, liveMessages, readHead } from './session-reads.js';
import type { CommitCall } from './session-state.js';
import { commitSession } from './session-commit.js';
import { assertWritable, estimatorOf } from './session-writes.js';

type Ctx = restate.ObjectContext;

/** What a client sends to `session.changeCheckpoint`. */
export interface CheckpointChangeCall extends Pick<AddMessageCall, 'feed' | 'origin'> {
  /** Names the change and its commit: a second call with this id answers the first result. */
  changeId: string;
  /** `edit` archives nothing (`editCheckpoint`, `recordDecision`); `clear` and `reset` archive the live messages. */
  mode: 'edit' | 'clear' | 'reset';
  /** The edit, decisions or task-loop iteration to apply (none for a reset or a bare clear). */
  change?: CheckpointChange;
  /** The time of the change (the client's clock: a replay of the handler writes the same). */
  at: string;
  /** The session's limits as the client resolves them: the checkpoint's budget. */
  limits: Limits;
}

/** What `session.changeCheckpoint` answers: the change made, or the compaction to wait for first. */
export type CheckpointChangeAnswer =
  { kind: 'done'; result: ClearResult; checkpoint: Checkpoint | null } | { kind: 'wait'; compaction: string };

/** A clear's result as its committed checkpoint records it (for a repeated call). */
function resultOf(checkpoint: Checkpoint): ClearResult {
  const info = checkpoint.compactionInfo;
  return {
    archivedMessages: info.messagesCompacted,
    segment: info.messagesCompacted > 0 ? info.segment : null,
    checkpointVersion: checkpoint.version,
  };
}

function eventOf(id: string, call: CheckpointChangeCall, result: ClearResult): SessionEvent {
  const base = { sessionId: id, at: call.at };
  if (call.mode === 'edit') {
    const what = call.change?.edit === undefined ? 'decision' : 'edit';
    return { ...base, type: 'session.checkpoint.edited', what, checkpointVersion: result.checkpointVersion };
  }
  return {
    ...base,
    type: call.mode === 'reset' ? 'session.reset' : 'session.cleared',
    archivedMessages: result.archivedMessages,
    checkpointVersion: result.checkpointVersion,
  };
}

/**
 * Applies one change to the checkpoint (and, for a clear or reset, archives the live messages),
 * in one commit. Refused for an archived session; `INVALID_ARGUMENT` for an edit that does not
 * make a valid checkpoint within the budget (nothing written).
 */
export async function changeCheckpoint(
  ctx: Ctx,
  id: string,
  call: CheckpointChangeCall,
): Promise<CheckpointChangeAnswer> {
  const head = await readHead(ctx, id);
  const done = head.commits.find((c) => c.id === call.changeId);
  if (done !== undefined)
    return { kind: 'done', result: resultOf(done.result.checkpoint), checkpoint: done.result.checkpoint };
  await assertWritable(ctx, id, head);
  if (head.compaction != null) return { kind: 'wait', compaction: head.compaction.id };
  const estimator = estimatorOf();
  const current = await currentCheckpoint(ctx, head);
  if (call.change?.edit !== undefined)
    checkEditedCheckpoint(current, call.change.edit, { limits: call.limits, estimator, at: call.at });
  type Made = { segment: ArchiveSegment | null; checkpoint: Checkpoint; keepChecks?: boolean };
  let made = null as Made | null;
  const output = await runClear(
    {
      dir: {
        messages: call.mode === 'edit' ? [] : await liveMessages(ctx, head),
        checkpoint: current,
        commit: async (segment, checkpoint, keepChecks) => {
          made = { segment, checkpoint, ...(keepChecks === undefined ? {} : { keepChecks }) };
        },
      },
      estimator,
      now: () => new Date(call.at),
    },
    {
      watermarkSeq: head.lastSeq,
      mode: call.mode,
      changes: call.change === undefined ? [] : [call.change],
      limits: call.limits,
    },
  );
  const result: ClearResult = {
    archivedMessages: output.archivedMessages,
    segment: output.segment,
    checkpointVersion: output.checkpointVersion,
  };
  if (made === null) return { kind: 'done', result, checkpoint: current }; // nothing to change
  const { segment, checkpoint, keepChecks }: Made = made;
  const commit: CommitCall = {
    commitId: call.changeId,
    segment:
      segment === null
        ? null
        : {
            segment: segment.segment,
            checkpointVersion: segment.checkpointVersion,
            createdAt: segment.createdAt,
            firstSeq: segment.firstSeq,
            lastSeq: segment.lastSeq,
            messageCount: segment.messages.length,
          },
    checkpoint,
    ...(keepChecks === undefined ? {} : { keepChecks }),
  };
  const committed = await commitSession(ctx, id, commit);
  publish(ctx, call, [eventOf(id, call, result)]);
  return { kind: 'done', result, checkpoint: committed.checkpoint };
}
