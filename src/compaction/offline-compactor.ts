/**
 * The compactor that needs no network and no key. The facts of a session (files, commands and
 * how they ended, open problems, the user's words, the status) are recorded in the ledger by the
 * session itself, whatever compactor runs; what is left for this compactor is what code can know
 * of the rest: the agent's own plan, its last todo list. It never copies the agent's prose.
 */
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { CheckpointSummary, Message } from '../core/types.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import type { CompactOptions, CompactionInput, Compactor } from './compactor.js';
import { emptyLedger } from './ledger/ledger-builder.js';
import { fitCheckpoint } from './ledger/fit-checkpoint.js';
import { latestTodoList } from './vocabulary/todos.js';

/**
 * Options of {@link OfflineCompactor}. A name that is none of these is refused with `INVALID_ARGUMENT`.
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

/** Every option of {@link OfflineCompactorOptions} (the compiler keeps this in step with the type). */
const OPTION_NAMES = optionNames({
  estimator: true,
  maxInputTokens: true,
} satisfies Record<keyof OfflineCompactorOptions, true>);

/**
 * A deterministic {@link Compactor}: same input, same summary; no clock, no randomness, no I/O.
 *
 * The summary it returns is the current one with the agent's plan brought up to date: when the
 * messages hold a todo list (TodoWrite, todo_write, write_todos, update_plan, task_tracker, or the
 * checkboxes a console prints), its items in progress and pending replace the summary's `inProgress`
 * and `pending` (next), and its completed items join `completed`. Goals and decisions need a model:
 * they are kept as they are. The result always fits `budgetTokens`.
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
   * @throws SessionError `INVALID_ARGUMENT` when `maxInputTokens` is not a positive number, or for a
   *   name that is none of the options.
   */
  constructor(options: OfflineCompactorOptions = {}) {
    checkOptionNames(
      options,
      OPTION_NAMES,
      (what) => new SessionError('INVALID_ARGUMENT', 'compaction', `OfflineCompactor: ${what}`),
    );
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
   * Brings `input.checkpoint` up to date with the agent's last todo list in `input.messages`, and
   * returns it within `input.budgetTokens` tokens (as `estimator.estimateCheckpoint` counts them).
   *
   * @param input - The current summary (or null), the messages to fold in, and the budget.
   * @param options - `signal` cancels the call (checked before and after the work); `onProgress` hears of it.
   * @returns The new summary.
   * @throws SessionError `COMPACTION_CANCELLED` when `signal` is aborted before or during the work;
   * `INVALID_ARGUMENT` when `budgetTokens` is not a number >= 0.
   */
  async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
    const signal = options?.signal;
    throwIfAborted(signal);
    const budget = input?.budgetTokens;
    if (typeof budget !== 'number' || Number.isNaN(budget) || budget < 0) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'compaction',
        `budgetTokens must be a number >= 0, got ${String(budget)}`,
      );
    }
    const messages: readonly Message[] = Array.isArray(input.messages) ? input.messages : [];
    const summary = copySummary(input.checkpoint);
    // One pass, no model: fast enough that cancellation is checked before and after it.
    const todos = latestTodoList(messages);
    options?.onProgress?.({ chunk: 1, chunks: 1 });
    if (todos !== null) {
      summary.inProgress = todos.filter((t) => t.status === 'in_progress').map((t) => t.content);
      summary.pending = todos.filter((t) => t.status === 'pending').map((t) => t.content);
      for (const done of todos.filter((t) => t.status === 'completed').map((t) => t.content)) {
        summary.completed = [...summary.completed.filter((item) => item !== done), done];
      }
    }
    throwIfAborted(signal);
    return fitCheckpoint({ summary, ledger: emptyLedger() }, budget, this.estimator).summary;
  }
}

/** A copy of a summary with the five sections as arrays of non-blank strings (and goals when any). */
function copySummary(value: CheckpointSummary | null | undefined): CheckpointSummary {
  const source = (value !== null && typeof value === 'object' ? value : {}) as Partial<
    Record<string, unknown>
  >;
  const pick = (key: string): string[] => {
    const items = source[key];
    return Array.isArray(items)
      ? items.filter((item): item is string => typeof item === 'string' && item.trim() !== '')
      : [];
  };
  const summary: CheckpointSummary = {
    completed: pick('completed'),
    inProgress: pick('inProgress'),
    pending: pick('pending'),
    decisions: pick('decisions'),
    blockers: pick('blockers'),
  };
  const goals = pick('goals');
  if (goals.length > 0) summary.goals = goals;
  return summary;
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
