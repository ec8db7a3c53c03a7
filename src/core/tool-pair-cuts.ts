/**
 * The tool-pair cut rule, in one place: where a list of messages may be cut without separating a
 * `tool_use` from its `tool_result`. Two readings of it: a compaction folds a prefix of the live
 * messages ({@link validCuts}), and a request that is too large leaves a prefix out
 * ({@link omissionCuts}, where the new user message counts as one more message). Pure and O(n).
 */
import type { ContentBlock, Message } from './types.js';

/**
 * The ids of the `tool_use` blocks of a message, in order (none for string content).
 *
 * @param message - any message.
 * @returns the `id` of every `tool_use` block.
 * @example
 * toolUseIds({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} }], tokens: 9 }) // ['toolu_1']
 */
export function toolUseIds(message: Pick<Message, 'content'>): string[] {
  return blockIds(message, 'tool_use');
}

/**
 * The `tool_use_id`s of the `tool_result` blocks of a message, in order (none for string content).
 *
 * @param message - any message.
 * @returns the `tool_use_id` of every `tool_result` block.
 * @example
 * toolResultIds({ content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }], tokens: 3 })
 * // ['toolu_1']
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
export function validCuts(messages: readonly Pick<Message, 'content'>[]): boolean[] {
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

  const forbidden: [number, number][] = [];
  for (const span of spans.values()) {
    // A pair spanning messages first..last may only be cut before first or after last.
    if (span.uses && span.results && span.last > span.first) forbidden.push([span.first + 1, span.last]);
  }
  usesAt.forEach((uses, index) => {
    if (uses.some((id) => spans.get(id)?.results !== true)) forbidden.push([index + 1, index + 1]);
  });
  return cutsOutside(n, forbidden);
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
export function isValidCut(messages: readonly Pick<Message, 'content'>[], index: number): boolean {
  if (!Number.isInteger(index) || index < 0 || index > messages.length) return false;
  return validCuts(messages)[index] === true;
}

/**
 * For every cut `k` in `0..messages.length` (leave out `messages[0..k)`), whether it
 * keeps every tool call with its later results, the new user message counting as one more
 * message that is never left out. Results before their call, or in the call's own message, do not
 * bind (they are shown as text anyway). O(n) in messages and blocks.
 */
export function omissionCuts(
  messages: readonly Pick<Message, 'content'>[],
  userMessage: string | ContentBlock[] | null,
): boolean[] {
  const n = messages.length;
  const firstUse = new Map<string, number>();
  const lastResult = new Map<string, number>();
  const sequence = userMessage === null ? messages : [...messages, { content: userMessage }];
  sequence.forEach((message, index) => {
    for (const id of toolUseIds(message)) if (!firstUse.has(id)) firstUse.set(id, index);
    for (const id of toolResultIds(message)) {
      const use = firstUse.get(id);
      if (use !== undefined && use < index) lastResult.set(id, index);
    }
  });
  const forbidden: [number, number][] = [];
  for (const [id, last] of lastResult) forbidden.push([(firstUse.get(id) ?? 0) + 1, last]);
  return cutsOutside(n, forbidden);
}

/**
 * @internal For every cut `0..n`, whether it lies outside every forbidden range `[from, to]`
 * (inclusive cut indexes); cut 0 (cut nothing off) is always allowed. O(n + ranges): a
 * difference array, +1 where a range starts and -1 after it ends.
 */
function cutsOutside(n: number, forbidden: readonly (readonly [number, number])[]): boolean[] {
  const delta = new Array<number>(n + 2).fill(0);
  for (const [from, to] of forbidden) {
    if (from > to || from > n) continue;
    delta[from] = (delta[from] ?? 0) + 1;
    delta[Math.min(to, n) + 1] = (delta[Math.min(to, n) + 1] ?? 0) - 1;
  }
  const valid: boolean[] = [];
  let depth = 0;
  for (let cut = 0; cut <= n; cut++) {
    depth += delta[cut] ?? 0;
    valid.push(cut === 0 || depth === 0);
  }
  return valid;
}
