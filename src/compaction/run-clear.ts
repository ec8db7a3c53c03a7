/**
 * Clearing and resetting a session: its live messages move to the archive without a compactor
 * call. `clear` keeps the checkpoint (a Ralph loop's next iteration starts from description +
 * context + checkpoint alone); `reset` also empties it. Both commit like a compaction (segment,
 * then checkpoint, then chat), so history keeps every message and a crash leaves it consistent.
 */
import type { ClearMode, ClearOutput } from '../../machines/session.types.js';
import { CHECKPOINT_SCHEMA_VERSION } from '../core/types.js';
import type { Checkpoint, CheckpointSummary, Message } from '../core/types.js';
import { emptyLedger, upgradeCheckpoint } from './ledger/index.js';

export type { ClearMode, ClearOutput } from '../../machines/session.types.js';
import type { CompactionSession } from './run-compaction.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';

const EMPTY: CheckpointSummary = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };

/** A checkpoint that says nothing yet: version 0, nothing archived. */
export function emptyCheckpoint(now: string): Checkpoint {
  return {
    schemaVersion: CHECKPOINT_SCHEMA_VERSION,
    version: 0,
    createdAt: now,
    updatedAt: now,
    summary: { ...EMPTY },
    ledger: emptyLedger(),
    compactionInfo: {
      compactor: 'none',
      messagesCompacted: 0,
      archivedThroughSeq: -1,
      segment: 0,
      tokensBefore: 0,
      tokensAfter: 0,
      durationMs: 0,
      chunks: 0,
      escalation: 0,
      archivedMessages: 0,
      archivedTokens: 0,
    },
    tokens: 0,
  };
}

/**
 * Archives the live messages up to `watermarkSeq` (messages appended meanwhile stay live).
 * @throws what the store throws; nothing is half-written (the store contract's commit is atomic).
 */
export async function runClear(
  deps: { dir: CompactionSession; estimator: TokenEstimator; now: () => Date },
  input: { watermarkSeq: number; mode: ClearMode },
): Promise<ClearOutput> {
  const { dir, estimator } = deps;
  const now = deps.now().toISOString();
  const previous = dir.checkpoint === null ? emptyCheckpoint(now) : upgradeCheckpoint(dir.checkpoint);
  const archived: Message[] = dir.messages.filter((m) => m.seq <= input.watermarkSeq);
  const foldedTokens = archived.reduce((sum, m) => sum + m.tokens, 0);
  if (archived.length === 0 && input.mode === 'clear') {
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
  const summary = input.mode === 'reset' ? { ...EMPTY } : previous.summary;
  const segmentNumber = previous.compactionInfo.segment + 1;
  const last = archived[archived.length - 1];
  const info = previous.compactionInfo;
  const checkpoint: Checkpoint = {
    schemaVersion: CHECKPOINT_SCHEMA_VERSION,
    version: previous.version + 1,
    createdAt: previous.createdAt,
    updatedAt: now,
    summary,
    // A clear keeps the ledger as it is (a task loop records its iteration with recordIteration).
    ledger: input.mode === 'reset' ? emptyLedger() : (previous.ledger ?? emptyLedger()),
    ...(input.mode === 'clear' && previous.checks ? { checks: previous.checks } : {}),
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
      archivedTokens: info.archivedTokens + foldedTokens,
    },
    tokens: 0,
  };
  checkpoint.tokens = estimator.estimateCheckpoint(checkpoint);
  const keepChecks = input.mode === 'clear';
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
