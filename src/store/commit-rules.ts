/**
 * What a write of checkpoint.json must satisfy before anything is written (session-directory.ts):
 * the checkpoint could be loaded again, a compaction's segment follows the committed one and the
 * checkpoint commits exactly it, and checks recorded meanwhile are not lost. A write that breaks a
 * rule is refused with `INVALID_ARGUMENT` and writes nothing.
 * @internal
 */
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import { SessionError } from '../core/errors.js';
import type { ArchiveSegment, CheckResult, Checkpoint } from '../core/types.js';
import { initialCheckpointProblem, segmentShapeProblem } from './archive-rules.js';
import { deepFreeze } from './freeze.js';

/**
 * Refuses a compaction whose segment does not follow segment `committed`, whose checkpoint does
 * not commit that segment, or whose segment or checkpoint is malformed.
 * @throws SessionError `INVALID_ARGUMENT`, naming session `id`; nothing was written.
 * @internal
 */
export function assertSegmentFollows(
  id: string,
  segment: ArchiveSegment,
  checkpoint: Checkpoint,
  committed: number,
): void {
  const info = checkpoint.compactionInfo;
  const problem =
    segment.segment !== committed + 1
      ? `segment ${segment.segment} does not follow the committed segment ${committed}`
      : info.segment !== segment.segment || info.archivedThroughSeq !== segment.lastSeq
        ? `the checkpoint (segment ${info.segment}, through seq ${info.archivedThroughSeq}) does not ` +
          `commit segment ${segment.segment} (through seq ${segment.lastSeq})`
        : segmentShapeProblem(segment);
  if (problem !== null) {
    throw new SessionError('INVALID_ARGUMENT', 'store', `session ${id}: ${problem}; nothing was written`);
  }
  assertLoadableCheckpoint(id, checkpoint);
}

/**
 * Refuses a checkpoint a load would reject.
 * @throws SessionError `INVALID_ARGUMENT` with `details.problems`, naming session `id`.
 * @internal
 */
export function assertLoadableCheckpoint(id: string, checkpoint: Checkpoint): void {
  const problems = checkpointProblems(checkpoint);
  if (problems.length > 0) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'store',
      `session ${id}: refusing to write a checkpoint that could not be loaded again (${problems.join('; ')})`,
      { details: { problems } },
    );
  }
}

/**
 * Refuses the checkpoint a session is created with unless a load would take it and it archives
 * nothing (see {@link initialCheckpointProblem}).
 * @throws SessionError `INVALID_ARGUMENT`, naming session `id`; nothing was written.
 * @internal
 */
export function assertInitialCheckpoint(id: string, checkpoint: Checkpoint): void {
  assertLoadableCheckpoint(id, checkpoint);
  const problem = initialCheckpointProblem(checkpoint);
  if (problem !== null)
    throw new SessionError('INVALID_ARGUMENT', 'store', `session ${id}: ${problem}; nothing was written`);
}

/** `checkpoint` with the checks of `current` (those on disk) instead of its own. @internal */
export function withChecksOf(current: Checkpoint | null, checkpoint: Checkpoint): Checkpoint {
  const checks = current?.checks;
  if (checks === undefined && !('checks' in checkpoint)) return checkpoint; // nothing to keep or drop
  const { checks: _stale, ...rest } = checkpoint;
  return checks ? { ...rest, checks } : rest;
}

/**
 * What a commit stores: `checkpoint`, with the checks of `current` when `keepChecks`, deep-frozen,
 * so that the store hands it out without copying it. @internal
 */
export function checkpointToStore(current: Checkpoint | null, checkpoint: Checkpoint, keepChecks: boolean) {
  return deepFreeze(keepChecks ? withChecksOf(current, checkpoint) : checkpoint);
}

/** `current` with `checks` recorded: a check replaces the one with its `checkId`. @internal */
export function withRecordedChecks(
  current: Checkpoint,
  checks: readonly CheckResult[],
  now: string,
): Checkpoint {
  const byId = new Map((current.checks ?? []).map((c) => [c.checkId, c]));
  for (const check of checks) byId.set(check.checkId, { ...check, at: check.at ?? now });
  return { ...current, updatedAt: now, checks: [...byId.values()] };
}
