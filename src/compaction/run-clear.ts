/**
 * Clearing, resetting and editing a session's checkpoint without a compactor call. `clear` moves
 * the live messages to the archive and keeps the checkpoint, their facts recorded in its ledger
 * (a Ralph loop's next iteration starts from description + context + checkpoint alone); `reset`
 * archives them and empties the checkpoint; `edit` archives nothing. The changes asked for with it
 * (a task-loop iteration, decisions, a hand edit) go into the same checkpoint version. All commit
 * like a compaction (segment, then checkpoint, then chat), so history keeps every message and a
 * crash leaves it consistent.
 */
import type { ClearInput, ClearOutput } from '../../machines/session.types.js';
import { emptyCheckpoint, emptySummary } from '../core/empty-checkpoint.js';
import { countedTokens } from '../core/request-size.js';
import { CHECKPOINT_SCHEMA_VERSION } from '../core/types.js';
import type { Checkpoint, CheckpointSummary, Message } from '../core/types.js';
import { applyCheckpointChanges, emptyLedger, fitCheckpoint, upgradeCheckpoint } from './ledger/index.js';

export type { ClearInput, ClearMode, ClearOutput } from '../../machines/session.types.js';
import type { CompactionSession } from './run-compaction.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';

/** A checkpoint that says nothing yet: version 0, nothing archived (src/core/empty-checkpoint.ts). */
export { emptyCheckpoint };

/**
 * Archives the live messages up to `watermarkSeq` (messages appended meanwhile stay live; none for
 * `edit`) and commits the checkpoint with their facts and `changes` in one version.
 * @throws what the store throws; nothing is half-written (see SessionDirectory.commitCompaction).
 *   SessionError `INVALID_ARGUMENT` for a change that does not make a valid checkpoint.
 */
export async function runClear(
  deps: { dir: CompactionSession; estimator: TokenEstimator; now: () => Date },
  input: Pick<ClearInput, 'watermarkSeq' | 'mode'> & Partial<Pick<ClearInput, 'changes' | 'limits'>>,
): Promise<ClearOutput> {
  const { dir, estimator } = deps;
  const now = deps.now().toISOString();
  const previous = dir.checkpoint === null ? emptyCheckpoint(now) : upgradeCheckpoint(dir.checkpoint);
  const archived: Message[] =
    input.mode === 'edit' ? [] : dir.messages.filter((m) => m.seq <= input.watermarkSeq);
  const changes = input.mode === 'reset' ? [] : (input.changes ?? []);
  // What the machine's live figure drops by (internal messages count 0), and what the archive grows by.
  const foldedTokens = countedTokens(archived);
  const archivedTokens = archived.reduce((sum, m) => sum + m.tokens, 0);
  if (archived.length === 0 && input.mode !== 'reset' && changes.length === 0) {
    return {
      mode: input.mode,
      archivedMessages: 0,
      foldedTokens: 0,
      segment: null,
      checkpointVersion: dir.checkpoint?.version ?? 0,
      checkpointTokens: dir.checkpoint ? estimator.estimateCheckpoint(dir.checkpoint) : 0,
      archivedThroughSeq: previous.compactionInfo.archivedThroughSeq,
    };
  }
  let summary: CheckpointSummary = emptySummary();
  let ledger = emptyLedger();
  if (input.mode !== 'reset') {
    // The archived messages' facts and the changes, in one version, within the checkpoint budget.
    ({ summary, ledger } = applyCheckpointChanges(
      { summary: previous.summary, ledger: previous.ledger ?? emptyLedger() },
      archived,
      changes,
    ));
    if (input.limits !== undefined)
      ({ summary, ledger } = fitCheckpoint(
        { summary, ledger, ...(previous.checks ? { checks: previous.checks } : {}) },
        input.limits.checkpointTokens,
        estimator,
      ));
  }
  const segmentNumber = previous.compactionInfo.segment + 1;
  const last = archived[archived.length - 1];
  const info = previous.compactionInfo;
  const checkpoint: Checkpoint = {
    schemaVersion: CHECKPOINT_SCHEMA_VERSION,
    version: previous.version + 1,
    createdAt: previous.createdAt,
    updatedAt: now,
    summary,
    ledger,
    ...(input.mode !== 'reset' && previous.checks ? { checks: previous.checks } : {}),
    compactionInfo: {
      compactor: input.mode,
      messagesCompacted: archived.length,
      archivedThroughSeq: last ? last.seq : info.archivedThroughSeq,
      segment: last ? segmentNumber : info.segment,
      tokensBefore: info.tokensAfter,
      tokensAfter: 0,
      durationMs: 0,
      chunks: 0,
      escalation: 0,
      archivedMessages: info.archivedMessages + archived.length,
      archivedTokens: info.archivedTokens + archivedTokens,
    },
    tokens: 0,
  };
  checkpoint.tokens = estimator.estimateCheckpoint(checkpoint);
  const keepChecks = input.mode !== 'reset';
  if (last) {
    await dir.commit(
      {
        segment: segmentNumber,
        checkpointVersion: checkpoint.version,
        createdAt: now,
        firstSeq: archived[0]!.seq,
        lastSeq: last.seq,
        messages: archived,
      },
      checkpoint,
      keepChecks,
    );
  } else {
    await dir.commit(null, checkpoint, keepChecks);
  }
  return {
    mode: input.mode,
    archivedMessages: archived.length,
    foldedTokens,
    segment: last ? segmentNumber : null,
    checkpointVersion: checkpoint.version,
    checkpointTokens: dir.checkpoint ? estimator.estimateCheckpoint(dir.checkpoint) : checkpoint.tokens,
    archivedThroughSeq: checkpoint.compactionInfo.archivedThroughSeq,
  };
}
