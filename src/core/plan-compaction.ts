/**
 * Where to cut the live messages when compacting: fold a prefix, keep a verbatim tail that fits
 * a token budget, cut only at message boundaries and never between a `tool_use` and its
 * `tool_result`. Pure and O(n): sessions hold tens of thousands of messages.
 */
import { SessionError } from './errors.js';
import type { Message } from './types.js';

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
 * const plan: CompactionPlan = { kind: 'compact', upTo: 120, keep: 30, foldedTokens: 71_000, keptTokens: 19_000, reason: '...' };
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
 * The ids of the `tool_use` blocks of a message, in order (none for string content).
 *
 * @param message - any message.
 * @returns the `id` of every `tool_use` block.
 * @example toolUseIds({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} }], tokens: 9 }) // ['toolu_1']
 */
export function toolUseIds(message: Pick<Message, 'content'>): string[] {
  return blockIds(message, 'tool_use');
}

/**
 * The `tool_use_id`s of the `tool_result` blocks of a message, in order (none for string content).
 *
 * @param message - any message.
 * @returns the `tool_use_id` of every `tool_result` block.
 * @example toolResultIds({ content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }], tokens: 3 }) // ['toolu_1']
 */
export function toolResultIds(message: Pick<Message, 'content'>): string[] {
  return blockIds(message, 'tool_result');
}

/** @internal */
function blockIds(message: Pick<Message, 'content'>, type: 'tool_use' | 'tool_result'): string[] {
  const content: unknown = message.content;
  if (!Array.isArray(content)) return [];
  const ids: string[] = [];
  for (const block of content as unknown[]) {
    if (typeof block !== 'object' || block === null) continue;
    const b = block as Record<string, unknown>;
    if (b.type !== type) continue;
    const id = type === 'tool_use' ? b.id : b.tool_use_id;
    if (typeof id === 'string') ids.push(id);
  }
  return ids;
}

/**
 * For every cut index `i` in `0..messages.length`, whether cutting there (fold `messages[0..i)`,
 * keep `messages[i..]`) is valid. A cut `i >= 1` is invalid when
 * (a) it separates a tool call from its result: some id has a `tool_use` and a `tool_result`
 * on opposite sides of the cut, or
 * (b) `messages[i-1]` holds a `tool_use` whose result exists nowhere yet: a call still awaiting
 * its result is never folded away from it. (Such a call followed by other messages is abandoned:
 * a later cut may fold it together with what follows.)
 * Cut 0 (fold nothing) is always valid. O(n) in messages and blocks.
 *
 * @param messages - the live messages, oldest first.
 * @returns an array of `messages.length + 1` booleans.
 * @example validCuts([{ content: 'hi', tokens: 1 }, { content: 'yo', tokens: 1 }]) // [true, true, true]
 */
export function validCuts(messages: readonly PlannableMessage[]): boolean[] {
  const n = messages.length;
  // Per id: first and last index of any use or result, and whether it has each kind.
  const spans = new Map<string, { first: number; last: number; uses: boolean; results: boolean }>();
  const note = (id: string, index: number, kind: 'uses' | 'results'): void => {
    const span = spans.get(id);
    if (span === undefined) {
      spans.set(id, { first: index, last: index, uses: kind === 'uses', results: kind === 'results' });
      return;
    }
    span.last = index;
    span[kind] = true;
  };
  const usesAt: string[][] = [];
  messages.forEach((message, index) => {
    const uses = toolUseIds(message);
    usesAt.push(uses);
    for (const id of uses) note(id, index, 'uses');
    for (const id of toolResultIds(message)) note(id, index, 'results');
  });

  // Difference array: +1 at the start of each forbidden range, -1 after its end.
  const delta = new Array<number>(n + 2).fill(0);
  const forbid = (from: number, to: number): void => {
    delta[from] = (delta[from] ?? 0) + 1;
    delta[to + 1] = (delta[to + 1] ?? 0) - 1;
  };
  for (const span of spans.values()) {
    // A pair spanning messages first..last may only be cut before first or after last.
    if (span.uses && span.results && span.last > span.first) forbid(span.first + 1, span.last);
  }
  usesAt.forEach((uses, index) => {
    if (uses.some((id) => spans.get(id)?.results !== true)) forbid(index + 1, index + 1);
  });

  const valid: boolean[] = [];
  let depth = 0;
  for (let i = 0; i <= n; i++) {
    depth += delta[i] ?? 0;
    valid.push(i === 0 || depth === 0);
  }
  return valid;
}

/**
 * Whether cutting `messages` at `index` is valid (see {@link validCuts} for the rules).
 * O(n); to test every cut at once use {@link validCuts}.
 *
 * @param messages - the live messages, oldest first.
 * @param index - the cut: fold `messages[0..index)`, keep `messages[index..]`.
 * @returns false also when `index` is outside `0..messages.length` or not an integer.
 * @example isValidCut(messages, 3) // false if messages[2] calls a tool answered in messages[3]
 */
export function isValidCut(messages: readonly PlannableMessage[], index: number): boolean {
  if (!Number.isInteger(index) || index < 0 || index > messages.length) return false;
  return validCuts(messages)[index] === true;
}

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
        `fold ${i} of ${n} messages, keep ${n - i}: the tail is ${tail[i] ?? 0} tokens, over the ${limit}-token budget, ` +
          'because every later cut would separate a tool call from its result or fold a call still awaiting its result',
      );
    }
  }
  return {
    kind: 'no-cut',
    reason:
      `${n} messages (${total} tokens) exceed the ${limit}-token tail budget, but every cut would separate a tool call ` +
      'from its result or fold a call still awaiting its result',
  };
}
