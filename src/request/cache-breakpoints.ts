/**
 * Prompt-cache breakpoints of a built request. The Messages API caches a request's prefix up to
 * each block marked `cache_control: { type: 'ephemeral' }` (at most 4 per request) and reads it
 * back when a later request starts with the same bytes. Between two compactions a session's
 * request only grows at its end, so three breakpoints reuse almost all of it turn after turn:
 * - the end of the stable part of the system prompt (agent description, context, checkpoint),
 *   which changes only when a compaction writes a new checkpoint;
 * - the end of the previous turn (the last user message before the last assistant message): the
 *   prefix the previous request cached with its own final breakpoint, read back now;
 * - the end of the final message, cached for the next turn.
 * Pure: the list's blocks are copied where marked, never changed.
 */
import { NO_CACHE_CONTROL_TYPES } from './block-roles.js';
import type { MessageBlockParam, MessageParamLike } from './messages-list.js';

/** The breakpoint this package places: the API's default five-minute cache. */
export const EPHEMERAL = Object.freeze({ type: 'ephemeral' as const });

/**
 * A block of the system prompt as sent: text, with a breakpoint at the end of the stable part.
 *
 * @example const block: SystemBlock = { type: 'text', text: '## Agent\n...', cache_control: { type: 'ephemeral' } };
 */
export interface SystemBlock {
  type: 'text';
  text: string;
  cache_control?: { type: 'ephemeral' };
}

/**
 * The system prompt as blocks: the stable part (marked when `cache`), then what changes between
 * requests of one compaction (the note on omitted messages, `system`-role messages). Empty parts
 * are left out.
 *
 * @example
 * systemBlocks('## Agent\n...', '', true)
 * // [{ type: 'text', text: '## Agent\n...', cache_control: { type: 'ephemeral' } }]
 */
export function systemBlocks(stable: string, changing: string, cache: boolean): SystemBlock[] {
  const blocks: SystemBlock[] = [];
  if (stable !== '')
    blocks.push(
      cache ? { type: 'text', text: stable, cache_control: EPHEMERAL } : { type: 'text', text: stable },
    );
  if (changing !== '') blocks.push({ type: 'text', text: changing });
  return blocks;
}

/**
 * The list with breakpoints at the end of the previous turn and of the final message (see the
 * module comment): on the last block of each that can carry one (not thinking). A message sent
 * as a string becomes one text block to carry it.
 *
 * @param list - a list built by `toMessagesList` (not changed).
 * @returns a new list; its messages and blocks are shared with `list` except where marked.
 * @example
 * ```ts
 * const marked = withMessageBreakpoints(built.messages); // 0 to 2 breakpoints
 * ```
 */
export function withMessageBreakpoints(list: readonly MessageParamLike[]): MessageParamLike[] {
  const marked = [...list];
  const final = marked.length - 1;
  if (final < 0) return marked;
  let lastAssistant = final;
  while (lastAssistant >= 0 && marked[lastAssistant]?.role !== 'assistant') lastAssistant--;
  let previous = lastAssistant - 1;
  while (previous >= 0 && marked[previous]?.role !== 'user') previous--;
  for (const index of new Set([previous, final])) {
    const message = marked[index];
    if (index >= 0 && message !== undefined) marked[index] = markLast(message);
  }
  return marked;
}

/** @internal The message with a breakpoint on its last block that can carry one (unchanged when none can). */
function markLast(message: MessageParamLike): MessageParamLike {
  const blocks: MessageBlockParam[] =
    typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : [...message.content];
  for (let i = blocks.length - 1; i >= 0; i--) {
    const block = blocks[i] as MessageBlockParam;
    if (NO_CACHE_CONTROL_TYPES.has(block.type)) continue;
    blocks[i] = { ...block, cache_control: EPHEMERAL } as MessageBlockParam;
    return { role: message.role, content: blocks };
  }
  return message;
}
