/**
 * The compactor that needs no network and no key: it reads the messages it folds in with
 * deterministic rules (keywords in prose, tool calls and their results) and merges what it finds
 * into the existing checkpoint, within the token budget. Used by default when no API key is set.
 */
import { SessionError } from '../core/errors.js';
import type { CheckpointSummary, Message } from '../core/types.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import type { CompactOptions, CompactionInput, Compactor } from './compactor.js';
import { FactExtractor } from './extract.js';
import { fitSummaryToBudget } from './offline-budget.js';
import { SummaryBuilder } from './offline-merge.js';

export { mergeSummaries } from './offline-merge.js';

/**
 * Options of {@link OfflineCompactor}.
 *
 * @example
 * ```ts
 * new OfflineCompactor({ estimator: createTokenEstimator({ mode: 'approximate' }), maxInputTokens: 100_000 });
 * ```
 */
export interface OfflineCompactorOptions {
  /** Measures the summary against the budget (`estimateCheckpoint`). Default `createTokenEstimator()`. */
  estimator?: TokenEstimator;
  /** Largest input accepted in one call, in tokens. Default 200,000. */
  maxInputTokens?: number;
}

/** Messages handled between two cancellation checks (and progress reports). */
const SLICE = 100;

/**
 * A deterministic {@link Compactor}: same input, same summary; no clock, no randomness, no I/O.
 *
 * From the messages it extracts what was completed, what is in progress, what is pending, the
 * decisions and the blockers: keywords in assistant prose (`fixed`, `let me`, `TODO`, `decided`,
 * `fails`...), user requests and rules, files edited or written, commands and how they ended
 * (`ran \`npm test\` (ok)`, or a blocker with the first error line), todo lists. Existing items are
 * kept; open items reported done move to `completed`; a blocker whose command later succeeded is
 * resolved. The result always fits `budgetTokens` (items are dropped, oldest completed first).
 *
 * @example
 * ```ts
 * const compactor = new OfflineCompactor();
 * const summary = await compactor.compact(
 *   { checkpoint: null, messages, budgetTokens: 2_000 },
 *   { signal: AbortSignal.timeout(30_000) },
 * );
 * ```
 */
export class OfflineCompactor implements Compactor {
  readonly name = 'offline';
  readonly maxInputTokens: number;
  private readonly estimator: TokenEstimator;

  /**
   * @param options - Estimator and input limit; see {@link OfflineCompactorOptions}.
   * @throws SessionError `INVALID_ARGUMENT` when `maxInputTokens` is not a positive number.
   */
  constructor(options: OfflineCompactorOptions = {}) {
    const maxInputTokens = options.maxInputTokens ?? 200_000;
    if (typeof maxInputTokens !== 'number' || !(maxInputTokens > 0)) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'compaction',
        `maxInputTokens must be a positive number, got ${String(maxInputTokens)}`,
      );
    }
    this.maxInputTokens = maxInputTokens;
    this.estimator = options.estimator ?? createTokenEstimator();
  }

  /**
   * Folds `input.messages` into `input.checkpoint` and returns a summary of at most
   * `input.budgetTokens` tokens (as `estimator.estimateCheckpoint` counts them).
   *
   * @param input - The current summary (or null), the messages to fold in, and the budget.
   * @param options - `signal` cancels between messages; `onProgress` hears about each slice of 100 messages.
   * @returns The new summary.
   * @throws SessionError `COMPACTION_CANCELLED` when `signal` is aborted before or during the work;
   * `INVALID_ARGUMENT` when `budgetTokens` is not a number >= 0.
   */
  async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
    const signal = options?.signal;
    const onProgress = options?.onProgress;
    throwIfAborted(signal);
    const budget = input?.budgetTokens;
    if (typeof budget !== 'number' || Number.isNaN(budget) || budget < 0) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'compaction',
        `budgetTokens must be a number >= 0, got ${String(budget)}`,
      );
    }
    const messages: Message[] = Array.isArray(input.messages) ? input.messages : [];
    const extractor = new FactExtractor(messages);
    const builder = new SummaryBuilder(input.checkpoint);
    const chunks = Math.max(1, Math.ceil(messages.length / SLICE));
    for (let i = 0; i < messages.length; i++) {
      if (i > 0 && i % SLICE === 0) {
        onProgress?.({ chunk: i / SLICE, chunks });
        // Let timers and abort handlers run between slices: a long batch stays cancellable.
        await new Promise<void>((resolve) => setImmediate(resolve));
        throwIfAborted(signal);
      }
      const message = messages[i];
      if (message === undefined) continue;
      for (const fact of extractor.extract(message)) builder.apply(fact);
    }
    for (const fact of extractor.finish()) builder.apply(fact);
    onProgress?.({ chunk: chunks, chunks });
    throwIfAborted(signal);
    return fitSummaryToBudget(builder.result(), budget, this.estimator);
  }
}

/** @internal Throws `COMPACTION_CANCELLED` when `signal` is aborted. */
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new SessionError(
      'COMPACTION_CANCELLED',
      'compaction',
      'the offline compaction was cancelled; nothing was changed',
      {
        cause: signal.reason,
      },
    );
  }
}
