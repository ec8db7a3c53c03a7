/**
 * Where to cut the live messages when compacting: fold a prefix, keep a verbatim tail that fits
 * a token budget, cut only at message boundaries and never between a `tool_use` and its
 * `tool_result`. Pure and O(n): sessions hold tens of thousands of messages.
 */
import { SessionError } from './errors.js';
import type { Message } from './types.js';
import { validCuts } from './tool-pair-cuts.js';

export { isValidCut, toolResultIds, toolUseIds, validCuts } from './tool-pair-cuts.js';

/**
 * The token budget of the verbatim tail kept after a compaction.
 *
 * @example const budget: CompactionBudget = { keepRecentTokens: limits.keepRecentTokens };
 */
export interface CompactionBudget {
  /** Largest sum of `tokens` the kept tail may have; 0 folds everything that can be folded. */
  keepRecentTokens: number;
}

/**
 * The outcome of {@link planCompaction}:
 * - `within-budget`: every message already fits in the tail budget; nothing to fold.
 * - `compact`: fold `messages[0..upTo)`, keep `messages[upTo..]` (`keep` messages), `upTo >= 1`.
 * - `no-cut`: something must be folded but no cut point is valid.
 *
 * @example
 * ```ts
 * const plan: CompactionPlan = {
 *   kind: 'compact', upTo: 120, keep: 30, foldedTokens: 71_000, keptTokens: 19_000, reason: '...',
 * };
 * ```
 */
export type CompactionPlan =
  | { kind: 'within-budget'; reason: string }
  | { kind: 'compact'; upTo: number; keep: number; foldedTokens: number; keptTokens: number; reason: string }
  | { kind: 'no-cut'; reason: string };

/**
 * The part of a message the planner reads; every {@link Message} is one.
 *
 * @example const m: PlannableMessage = { content: 'hello', tokens: 2 };
 */
export type PlannableMessage = Pick<Message, 'content' | 'tokens'>;

/**
 * Plans a compaction: the smallest valid cut `i >= 1` whose tail `messages[i..]` fits
 * `keepRecentTokens` (keep as much verbatim as fits). When no valid cut has a fitting tail, the
 * largest valid cut (fold as much as possible; the tail then exceeds the budget and `reason`
 * says so). When nothing needs folding, `within-budget`; when no cut `i >= 1` is valid, `no-cut`.
 *
 * @param messages - the live messages, oldest first; only `content` and `tokens` are read.
 * @param budget - the token budget of the kept tail.
 * @returns the plan; never throws for any message sequence with valid token counts.
 * @throws SessionError `INVALID_ARGUMENT` when `keepRecentTokens` is negative or NaN, or a
 *   message has a negative or non-finite `tokens`.
 * @example
 * ```ts
 * const plan = planCompaction(chat.messages, { keepRecentTokens: 20_000 });
 * if (plan.kind === 'compact') fold(chat.messages.slice(0, plan.upTo));
 * ```
 */
export function planCompaction(
  messages: readonly PlannableMessage[],
  budget: CompactionBudget,
): CompactionPlan {
  const limit = budget.keepRecentTokens;
  if (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'compaction',
      `keepRecentTokens must be a number >= 0, got ${String(limit)}`,
    );
  }
  const n = messages.length;
  // tail[i] = tokens of messages[i..]
  const tail = new Array<number>(n + 1).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    const tokens = messages[i]?.tokens;
    if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'compaction',
        `message ${i} has invalid tokens ${String(tokens)}; expected a finite number >= 0`,
      );
    }
    tail[i] = (tail[i + 1] ?? 0) + tokens;
  }
  const total = tail[0] ?? 0;
  if (total <= limit) {
    return {
      kind: 'within-budget',
      reason: `${n} messages (${total} tokens) fit the ${limit}-token tail budget`,
    };
  }

  // Tails shrink as i grows, so the fitting cuts are exactly first..n.
  let first = n;
  while (first > 1 && (tail[first - 1] ?? 0) <= limit) first--;
  const valid = validCuts(messages);
  const plan = (upTo: number, reason: string): CompactionPlan => {
    const keptTokens = tail[upTo] ?? 0;
    return { kind: 'compact', upTo, keep: n - upTo, foldedTokens: total - keptTokens, keptTokens, reason };
  };

  for (let i = Math.max(1, first); i <= n; i++) {
    if (valid[i] === true) {
      const skipped = i - Math.max(1, first);
      return plan(
        i,
        `fold ${i} of ${n} messages, keep ${n - i} (${tail[i] ?? 0} of ${limit} tokens)` +
          (skipped > 0
            ? `; moved the cut ${skipped} message(s) later to keep tool calls with their results`
            : ''),
      );
    }
  }
  for (let i = first - 1; i >= 1; i--) {
    if (valid[i] === true) {
      return plan(
        i,
        `fold ${i} of ${n} messages, keep ${n - i}: ` +
          `the tail is ${tail[i] ?? 0} tokens, over the ${limit}-token budget, ` +
          'because every later cut would separate a tool call from its result or fold a call still awaiting its result',
      );
    }
  }
  return {
    kind: 'no-cut',
    reason:
      `${n} messages (${total} tokens) exceed the ${limit}-token tail budget, ` +
      `but every cut would separate a tool call ` +
      'from its result or fold a call still awaiting its result',
  };
}
