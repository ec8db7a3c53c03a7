/**
 * Folds messages into a summary through a compactor, in chunks that fit the compactor's own
 * input budget, oldest first, each chunk updating the summary the next one starts from.
 */
import { SessionError, describeError } from '../core/errors.js';
import type { CheckpointSummary, Message, SessionLedger } from '../core/types.js';
import { contentToText } from '../request/format.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { validateCheckpointSummary } from './checkpoint-schema.js';
import type { CompactOptions, CompactionInput, CompactionProgress, Compactor } from './compactor.js';
import { countParts } from './ledger/fit-checkpoint.js';

const NO_SUMMARY: CheckpointSummary = {
  completed: [],
  inProgress: [],
  pending: [],
  decisions: [],
  blockers: [],
};

/** Input of {@link foldInChunks}. */
export interface FoldInput {
  compactor: Compactor;
  estimator: TokenEstimator;
  summary: CheckpointSummary | null;
  messages: readonly Message[];
  budgetTokens: number;
  /** The session's ledger, passed to every call (see `CompactionInput.ledger`). */
  ledger?: SessionLedger | null;
  /** `ledger`'s count with an empty summary, when the caller has it (`compactorViewCounted`). */
  ledgerTokens?: number;
  signal: AbortSignal;
  onProgress?: (progress: CompactionProgress) => void;
}

/**
 * Splits `messages` into chunks that fit `compactor.maxInputTokens` together with the summary,
 * and folds them one after the other. A single message larger than the whole window is sent cut
 * to fit, marked as such (the archive keeps it whole). Every result is checked by
 * {@link callCompactor}.
 * @throws what {@link callCompactor} throws; `COMPACTION_CANCELLED` when `signal` aborts between chunks.
 * @example
 * ```ts
 * const { summary, calls } = await foldInChunks({
 *   compactor, estimator, summary: null, messages, budgetTokens: 2000, signal,
 * })
 * ```
 */
export async function foldInChunks(input: FoldInput): Promise<{ summary: CheckpointSummary; calls: number }> {
  const { compactor, estimator, signal } = input;
  let summary = input.summary;
  // Room for messages: the window less the largest the summary can be, and the ledger shown with it.
  const ledgerTokens = input.ledger
    ? (input.ledgerTokens ?? countParts(estimator, { summary: NO_SUMMARY, ledger: input.ledger }))
    : 0;
  const room = Math.max(256, compactor.maxInputTokens - input.budgetTokens - ledgerTokens);
  const chunks = chunkMessages(input.messages, room, estimator);
  let calls = 0;
  for (const [index, chunk] of chunks.entries()) {
    if (signal.aborted) {
      throw new SessionError(
        'COMPACTION_CANCELLED',
        'compaction',
        'the compaction was cancelled between chunks; nothing changed on disk',
        { retryable: true, cause: signal.reason },
      );
    }
    input.onProgress?.({ chunk: index + 1, chunks: chunks.length });
    const onProgress = input.onProgress;
    const progress = onProgress
      ? {
          onProgress: (p: CompactionProgress) =>
            onProgress({ ...p, chunk: index + 1, chunks: chunks.length }),
        }
      : {};
    summary = await callCompactor(
      compactor,
      estimator,
      {
        checkpoint: summary,
        messages: chunk,
        budgetTokens: input.budgetTokens,
        ledger: input.ledger ?? null,
      },
      { signal, ...progress },
    );
    calls++;
  }
  return {
    summary: summary ?? { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] },
    calls,
  };
}

/**
 * How far over its budget a summary may be before it is refused: the compactor may count with
 * another estimator than the session's (exact and approximate counts differ by up to ~8%).
 */
export const BUDGET_TOLERANCE = 1.1;

/**
 * Calls the compactor once and checks what it returns before anything can use it: a checkpoint
 * summary (the schema of `checkpoint-schema.ts`) within its token budget. Foreign errors become
 * `COMPACTOR_FAILED` with the original as `cause`.
 * @throws SessionError `COMPACTOR_MALFORMED` for a result that is not a summary or is over its
 *   budget; `COMPACTOR_FAILED` when the compactor throws something that is not a SessionError;
 *   `COMPACTION_CANCELLED` when it throws after `signal` aborted; the compactor's own SessionError.
 * @example
 * ```ts
 * const input = { checkpoint: null, messages, budgetTokens: 2000 }
 * const summary = await callCompactor(compactor, estimator, input, { signal })
 * ```
 */
export async function callCompactor(
  compactor: Compactor,
  estimator: TokenEstimator,
  input: CompactionInput,
  options: CompactOptions,
): Promise<CheckpointSummary> {
  let result: unknown;
  try {
    result = await compactor.compact(input, options);
  } catch (error) {
    if (error instanceof SessionError) throw error;
    if (options.signal.aborted) {
      throw new SessionError(
        'COMPACTION_CANCELLED',
        'compaction',
        'the compaction was cancelled; nothing changed on disk',
        { retryable: true, cause: error },
      );
    }
    throw new SessionError(
      'COMPACTOR_FAILED',
      'compaction',
      `compactor "${compactor.name}" failed: ${describeError(error)}; nothing changed on disk`,
      { retryable: true, cause: error },
    );
  }
  const checked = validateCheckpointSummary(result);
  if (!checked.ok) {
    throw new SessionError(
      'COMPACTOR_MALFORMED',
      'compaction',
      `compactor "${compactor.name}" returned something that is not a checkpoint summary ` +
        `(${checked.problems.join('; ')}); nothing changed on disk`,
      { retryable: true, details: { problems: checked.problems } },
    );
  }
  const tokens = estimator.estimateCheckpoint(checked.summary);
  const allowed = Math.ceil(input.budgetTokens * BUDGET_TOLERANCE);
  if (tokens > allowed) {
    throw new SessionError(
      'COMPACTOR_MALFORMED',
      'compaction',
      `compactor "${compactor.name}" returned a summary of ${tokens} tokens ` +
        `for a budget of ${input.budgetTokens}; nothing changed on disk`,
      { retryable: true, details: { tokens, budgetTokens: input.budgetTokens } },
    );
  }
  return checked.summary;
}

/** @internal Greedy chunking by stored token counts; oversized messages are cut to `room`. */
export function chunkMessages(
  messages: readonly Message[],
  room: number,
  estimator: TokenEstimator,
): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let tokens = 0;
  for (const message of messages) {
    const fitted = message.tokens > room ? cutToFit(message, room, estimator) : message;
    if (current.length > 0 && tokens + fitted.tokens > room) {
      chunks.push(current);
      current = [];
      tokens = 0;
    }
    current.push(fitted);
    tokens += fitted.tokens;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function cutToFit(message: Message, room: number, estimator: TokenEstimator): Message {
  const text = contentToText(message.content);
  // Characters per token of this very text, so the cut lands near the budget in one step.
  const ratio = text.length / Math.max(1, estimator.estimate(text));
  let keep = Math.floor(room * ratio * 0.9);
  let cut = text.slice(0, keep);
  while (keep > 0 && estimator.estimate(cut) > room - 32) {
    keep = Math.floor(keep * 0.8);
    cut = text.slice(0, keep);
  }
  const content =
    `${cut}\n[… cut for the compactor: ${text.length - keep} ` +
    `more characters are kept verbatim in the archive]`;
  return {
    ...message,
    content,
    tokens: estimator.estimate(content),
    metadata: { ...message.metadata, cutForCompactor: true },
  };
}
