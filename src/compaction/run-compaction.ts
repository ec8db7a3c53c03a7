/**
 * One compaction of one session, from plan to commit: the body of the session actor's `compact`
 * effect.
 *
 * 1. Fold the prefix of live messages up to the watermark that the plan picks, keeping a verbatim
 *    tail within its budget and never splitting a tool pair.
 * 2. If the request would still be over the threshold, escalate: a smaller tail (a quarter, then
 *    none), then re-compress the checkpoint itself into half its budget.
 * 3. Check the result (every compactor answer against the checkpoint schema and its budget, the
 *    whole checkpoint against what a load accepts), then commit: archive segment, checkpoint,
 *    chat. Until the checkpoint is durably written nothing changes in memory, and nothing on disk
 *    that a load does not recognise, so a failure or cancellation leaves the session as it was.
 */
import type {
  CompactInput,
  CompactOutput,
  CommitInput,
  SummariseOutput,
} from '../../machines/session.machine.js';
import { thresholdOf } from '../../machines/session.machine.js';
import { SessionError, describeError } from '../core/errors.js';
import { planCompaction } from '../core/plan-compaction.js';
import { isInternalMessage, requestTokens } from '../core/request-size.js';
import { CHECKPOINT_SCHEMA_VERSION } from '../core/types.js';
import type {
  ArchiveSegment,
  Checkpoint,
  CheckpointSummary,
  CompactionEscalation,
  Message,
} from '../core/types.js';
import type { ArchiveSegment as Segment } from '../core/types.js';
import { IN_PLACE_NOT_DURABLE, REFUSED_IN_DOUBT } from '../store/writes-in-doubt.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import type { CompactionProgress, Compactor } from './compactor.js';
import { checkpointProblems } from './checkpoint-schema.js';
import { assertNotAborted, decided, reasonOf, sumTokens, tailBudget } from './compaction-steps.js';
import { countOnce } from './count-once.js';
import { callCompactor, foldInChunks } from './fold-in-chunks.js';
import {
  compactorView,
  compactorViewCounted,
  emptyLedger,
  fitCheckpointCounted,
  recordMessages,
  upgradeCheckpoint,
} from './ledger/index.js';

/**
 * The session a compaction works on: its live messages and checkpoint as the store acknowledged
 * them, and the store contract's commit (segment + checkpoint, atomically; `null` for a commit
 * that archives nothing).
 */
export interface CompactionSession {
  readonly messages: readonly Message[];
  readonly checkpoint: Checkpoint | null;
  commit(segment: Segment | null, checkpoint: Checkpoint, keepChecks?: boolean): Promise<void>;
}

/** What a compaction needs besides its input. */
export interface CompactionDeps {
  dir: CompactionSession;
  compactor: Compactor;
  estimator: TokenEstimator;
  now: () => Date;
  /** Monotonic milliseconds, for durations. */
  elapsed: () => number;
  onProgress?: (progress: CompactionProgress) => void;
}

const EMPTY: CheckpointSummary = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };

/**
 * Runs one compaction: {@link summariseCompaction}, then {@link commitCompaction} when there is
 * something to write.
 * @throws SessionError `COMPACTION_CANCELLED`, `COMPACTION_NO_PROGRESS`, the compactor's error, or
 *   `IO_ERROR` when the commit could not be written (nothing was).
 */
export async function runCompaction(
  deps: CompactionDeps,
  input: CompactInput,
  signal: AbortSignal,
): Promise<CompactOutput> {
  const { output, commit } = await summariseCompaction(deps, input, signal);
  return commit === null ? output : commitCompaction(deps.dir, { ...commit, output });
}

/**
 * The cancellable part of a compaction: folds the messages up to the watermark into a new
 * checkpoint with the compactor and says what to commit (`commit: null` when nothing is to be
 * written). Writes nothing: cancelled or failed, the session is as it was.
 * @throws SessionError `COMPACTION_CANCELLED`, `COMPACTION_NO_PROGRESS`, `COMPACTOR_MALFORMED`,
 *   or the compactor's error.
 */
export async function summariseCompaction(
  deps: CompactionDeps,
  input: CompactInput,
  signal: AbortSignal,
): Promise<SummariseOutput> {
  const { dir, compactor } = deps;
  const estimator = countOnce(deps.estimator);
  const started = deps.elapsed();
  const limits = input.limits;
  const threshold = thresholdOf(limits);
  const previous = dir.checkpoint === null ? null : upgradeCheckpoint(dir.checkpoint);
  const previousTokens = previous ? estimator.estimateCheckpoint(previous) : 0;
  const correction = input.correction ?? 1;
  // A request estimate as the machine computes it: corrected local counts + room for the reply.
  const request = (tokens: number) =>
    requestTokens(input.fixedTokens + tokens, correction, limits.replyReserveTokens);
  const candidates = decided(
    dir.messages.filter((m) => m.seq <= input.watermarkSeq),
    input.decideFrom,
    (tokens) => request(previousTokens + tokens) >= threshold,
  );
  const tokensBefore = request(previousTokens + sumTokens(candidates));
  const base = {
    compactor: compactor.name,
    checkpointVersion: previous?.version ?? 0,
    checkpointTokens: previousTokens,
    archivedThroughSeq: previous?.compactionInfo.archivedThroughSeq ?? -1,
    tokensBefore,
  };

  let summary: CheckpointSummary = previous?.summary ?? EMPTY;
  // The ledger records every folded message, whatever the compactor; the summary goes on top of it.
  let ledger = previous?.ledger ?? emptyLedger();
  const checks = previous?.checks;
  let summaryTokens = previousTokens;
  let folded = 0; // messages of `candidates` folded into `summary` so far
  let calls = 0;
  let escalation: CompactionEscalation = 0;
  let recompressed = false;
  const fit = (budgetTokens: number) => {
    // The fit counted the draft it keeps (with the checks): that count, not a second one.
    const fitted = fitCheckpointCounted(
      { summary, ledger, ...(checks ? { checks } : {}) },
      budgetTokens,
      estimator,
    );
    ({ summary, ledger } = fitted.parts);
    summaryTokens = fitted.tokens;
  };
  const fold = async (all: Message[], budgetTokens: number) => {
    // Internal messages are archived with the others, but neither the ledger nor the compactor reads them.
    const messages = all.filter((m) => !isInternalMessage(m));
    ledger = recordMessages(ledger, messages);
    const result = await foldInChunks({
      compactor,
      estimator,
      summary: folded === 0 && previous === null ? null : summary,
      messages,
      ...compactorViewCounted(ledger, budgetTokens, compactor.maxInputTokens, estimator),
      signal,
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    });
    calls += result.calls;
    summary = result.summary;
    fit(budgetTokens);
  };
  const projected = () => request(summaryTokens + sumTokens(candidates.slice(folded)));

  const keep = tailBudget(input, previousTokens, correction);
  // One tail per escalation step: the session's, a quarter of it, none.
  const tails: Record<CompactionEscalation, number> = { 0: keep, 1: Math.floor(keep / 4), 2: 0 };
  for (const step of [0, 1, 2] as const) {
    const plan = planCompaction(candidates, { keepRecentTokens: tails[step] });
    if (plan.kind === 'within-budget' && step === 0 && projected() < threshold) {
      return {
        output: {
          ...base,
          kind: 'nothing-to-fold',
          reason: plan.reason,
          messagesCompacted: 0,
          foldedTokens: 0,
          tokensAfter: tokensBefore,
          durationMs: deps.elapsed() - started,
          underThreshold: true,
          escalation: 0,
        },
        commit: null,
      };
    }
    if (plan.kind !== 'compact' || plan.upTo <= folded) {
      if (projected() < threshold && folded > 0) break;
      continue;
    }
    escalation = step;
    await fold(candidates.slice(folded, plan.upTo), limits.checkpointTokens);
    folded = plan.upTo;
    if (projected() < threshold) break;
  }
  if (projected() >= threshold && (folded > 0 || previous !== null)) {
    // Last resort: the checkpoint itself is too big. Re-compress it into half its budget.
    escalation = 2;
    recompressed = true;
    const budget = Math.max(64, Math.floor(Math.min(limits.checkpointTokens, summaryTokens) / 2));
    summary = await callCompactor(
      compactor,
      estimator,
      {
        checkpoint: summary,
        messages: [],
        ...compactorView(ledger, budget, compactor.maxInputTokens, estimator),
      },
      { signal, ...(deps.onProgress ? { onProgress: deps.onProgress } : {}) },
    );
    calls++;
    fit(budget);
  }
  const underThreshold = projected() < threshold;
  if (folded === 0 && escalation < 2) {
    if (underThreshold) {
      return {
        output: {
          ...base,
          kind: 'nothing-to-fold',
          reason: 'no message can be folded yet',
          messagesCompacted: 0,
          foldedTokens: 0,
          tokensAfter: tokensBefore,
          durationMs: deps.elapsed() - started,
          underThreshold,
          escalation,
        },
        commit: null,
      };
    }
    throw new SessionError(
      'COMPACTION_NO_PROGRESS',
      'compaction',
      `session ${input.sessionId}: nothing can be folded (${candidates.length} live ` +
        `messages, ${tokensBefore} tokens against a threshold of ${threshold}); ` +
        `the agent description and context alone may be too large, or a tool call still awaits its result`,
      { retryable: false },
    );
  }

  if (!underThreshold && projected() >= tokensBefore) {
    // Committing would archive messages for a request that is no smaller: refuse, write nothing.
    throw new SessionError(
      'COMPACTION_NO_PROGRESS',
      'compaction',
      `session ${input.sessionId}: the compaction would leave the request at ${projected()} tokens ` +
        `(${tokensBefore} before, threshold ${threshold}); nothing was written. ` +
        'The agent description, context or checkpoint alone may be too large',
      { retryable: false },
    );
  }
  assertNotAborted(signal, input.sessionId);
  const archived = candidates.slice(0, folded);
  const version = (previous?.version ?? 0) + 1;
  const segmentNumber = (previous?.compactionInfo.segment ?? 0) + 1;
  const now = deps.now().toISOString();
  const foldedTokens = sumTokens(archived);
  const tokensAfter = projected();
  const lastArchived = archived[archived.length - 1];
  const checkpoint: Checkpoint = {
    schemaVersion: CHECKPOINT_SCHEMA_VERSION,
    version,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
    summary,
    ledger,
    ...(checks ? { checks } : {}),
    compactionInfo: {
      compactor: compactor.name,
      messagesCompacted: archived.length,
      archivedThroughSeq: lastArchived ? lastArchived.seq : base.archivedThroughSeq,
      segment: archived.length > 0 ? segmentNumber : (previous?.compactionInfo.segment ?? 0),
      tokensBefore,
      tokensAfter,
      durationMs: Math.round(deps.elapsed() - started),
      chunks: calls,
      escalation,
      archivedMessages: (previous?.compactionInfo.archivedMessages ?? 0) + archived.length,
      archivedTokens:
        (previous?.compactionInfo.archivedTokens ?? 0) + archived.reduce((sum, m) => sum + m.tokens, 0),
    },
    tokens: summaryTokens,
  };
  const problems = checkpointProblems(checkpoint);
  if (problems.length > 0) {
    throw new SessionError(
      'COMPACTOR_MALFORMED',
      'compaction',
      `session ${input.sessionId}: the compaction produced a checkpoint that could not be loaded ` +
        `again (${problems.join('; ')}); nothing was written`,
      { retryable: true, details: { problems } },
    );
  }
  const segment: ArchiveSegment | null =
    archived.length > 0
      ? {
          segment: segmentNumber,
          checkpointVersion: version,
          createdAt: now,
          firstSeq: archived[0]!.seq,
          lastSeq: lastArchived!.seq,
          messages: archived,
        }
      : null;
  return {
    output: {
      kind: 'compacted',
      reason: reasonOf(escalation, recompressed),
      compactor: compactor.name,
      checkpointVersion: version,
      checkpointTokens: summaryTokens,
      archivedThroughSeq: checkpoint.compactionInfo.archivedThroughSeq,
      messagesCompacted: archived.length,
      foldedTokens,
      tokensBefore,
      tokensAfter,
      durationMs: checkpoint.compactionInfo.durationMs,
      underThreshold,
      escalation,
    },
    commit: { sessionId: input.sessionId, segment, checkpoint },
  };
}

/** `details.outcome` of the store's errors after a write in place but not durable (store/writes-in-doubt.ts). */
const IN_DOUBT = new Set<unknown>([IN_PLACE_NOT_DURABLE, REFUSED_IN_DOUBT]);

/**
 * The part of a compaction that is not cancelled: one atomic commit of the archive segment and
 * the checkpoint that {@link summariseCompaction} prepared. Once it starts, it runs to its end.
 * @returns the summary's output, as committed.
 * @throws SessionError `IO_ERROR` (retryable; nothing was committed), or the store's error as it is
 *   for a damaged file met on the way, or for a commit in the files but not durable (which says so).
 */
export async function commitCompaction(dir: CompactionSession, input: CommitInput): Promise<CompactOutput> {
  const { sessionId, segment, checkpoint } = input;
  try {
    await dir.commit(segment, checkpoint);
  } catch (error) {
    // A damaged file met on the way is reported as what it is, and so is a commit in the files but
    // not durable (or refused after one: store/writes-in-doubt.ts); other I/O errors say nothing committed.
    if (error instanceof SessionError && (error.code !== 'IO_ERROR' || IN_DOUBT.has(error.details.outcome)))
      throw error;
    throw new SessionError(
      'IO_ERROR',
      'compaction',
      `session ${sessionId}: writing the compaction failed (${describeError(error)}); ` +
        'the session is as it was before it, and the compaction can be retried',
      {
        cause: error,
        retryable: true,
        details: { sessionId, ...(error instanceof SessionError ? error.details : {}) },
      },
    );
  }
  return input.output;
}
