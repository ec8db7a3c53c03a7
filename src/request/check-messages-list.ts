/**
 * The rules the Messages API enforces on a `messages` list, checked: what `toMessagesList` builds
 * keeps them, and a host can check a list of its own before sending it. Pure.
 */
import { SessionError } from '../core/errors.js';
import { sideOf } from './block-roles.js';
import { safeJson } from './format-blocks.js';
import type { MessageParamLike } from './messages-list.js';

/** The most `cache_control` breakpoints the API accepts in one request (system included). */
export const MAX_CACHE_BREAKPOINTS = 4;

/**
 * Checks the rules the Messages API enforces on a `messages` list, and throws on the first
 * broken one: at least one message; roles `user`/`assistant` alternating, starting with `user`;
 * no empty content and no blank text block; every block an object with a `type`; `tool_use`,
 * signed `thinking`, `redacted_thinking`, server tool and MCP blocks only from the assistant;
 * `tool_result`, images, documents and search results only from the user; tool_use ids unique;
 * every `tool_use` answered by a `tool_result` in the next message, results first in it; every
 * `tool_result` answering a `tool_use` of the previous message, once; a final assistant message
 * not ending in whitespace; at most {@link MAX_CACHE_BREAKPOINTS} `cache_control` breakpoints.
 *
 * @param list - the list to check (any value).
 * @throws SessionError `INVALID_ARGUMENT` (origin `runtime`) saying which message breaks which rule;
 *   `details.index` is the message's position.
 * @example
 * ```ts
 * assertValidMessagesList([{ role: 'user', content: 'hi' }]); // ok
 * assertValidMessagesList([{ role: 'assistant', content: 'hi' }]); // throws: must start with user
 * ```
 */
export function assertValidMessagesList(list: readonly MessageParamLike[]): void {
  const fail = (index: number, what: string): never => {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `messages list is not valid for the Messages API: messages[${index}] ${what}`,
      {
        details: { index },
      },
    );
  };
  if (!Array.isArray(list) || list.length === 0) fail(0, 'is missing: the list needs at least one message');
  const seenUses = new Set<string>();
  let pending: string[] = [];
  let breakpoints = 0;
  list.forEach((message, index) => {
    if (message === null || typeof message !== 'object') fail(index, 'is not an object');
    const expected = index % 2 === 0 ? 'user' : 'assistant';
    if (message.role !== expected)
      fail(
        index,
        `has role ${safeJson(message.role)}; roles must alternate user/assistant starting with user`,
      );
    const blocks: unknown[] =
      typeof message.content === 'string'
        ? [{ type: 'text', text: message.content }]
        : Array.isArray(message.content)
          ? message.content
          : [];
    if (blocks.length === 0) fail(index, 'has no content');
    const results: string[] = [];
    const uses: string[] = [];
    blocks.forEach((raw, at) => {
      const block = (raw ?? {}) as Record<string, unknown>;
      const where = `block ${at} (${safeJson(block.type)})`;
      if (typeof block.type !== 'string' || block.type === '') fail(index, `${where} has no string "type"`);
      const type = block.type as string;
      if (block.cache_control !== undefined && block.cache_control !== null) breakpoints++;
      const side = sideOf(type);
      if (side !== null && side !== message.role)
        fail(index, `${where}: only the ${side} sends ${type} blocks`);
      if (type === 'text') {
        if (typeof block.text !== 'string' || block.text.trim() === '')
          fail(index, `${where} has blank text`);
      } else if (type === 'tool_use') {
        if (typeof block.id !== 'string' || block.id === '' || typeof block.name !== 'string')
          fail(index, `${where} needs a string id and name`);
        if (seenUses.has(block.id as string))
          fail(index, `${where} repeats tool_use id ${safeJson(block.id)}`);
        seenUses.add(block.id as string);
        uses.push(block.id as string);
      } else if (type === 'tool_result') {
        if (at !== results.length)
          fail(index, `${where}: tool_result blocks must come before any other block`);
        const id = block.tool_use_id as string;
        if (!pending.includes(id))
          fail(
            index,
            `${where} answers ${safeJson(id)}, which no tool_use of the previous message calls (or is answered twice)`,
          );
        if (!validResultContent(block.content))
          fail(index, `${where} has content that is blank or not blocks`);
        for (const part of Array.isArray(block.content) ? (block.content as unknown[]) : []) {
          const cache = (part as { cache_control?: unknown }).cache_control;
          if (cache !== undefined && cache !== null) breakpoints++;
        }
        pending = pending.filter((p) => p !== id);
        results.push(id);
      } else if (type === 'thinking') {
        if (
          typeof block.thinking !== 'string' ||
          typeof block.signature !== 'string' ||
          block.signature === ''
        )
          fail(index, `${where} needs thinking text and a signature`);
      } else if (type === 'redacted_thinking') {
        if (typeof block.data !== 'string' || block.data === '') fail(index, `${where} needs its data`);
      }
    });
    if (pending.length > 0)
      fail(
        index,
        `does not answer tool_use ${pending.map((id) => safeJson(id)).join(', ')} of the previous message`,
      );
    pending = uses;
  });
  const lastIndex = list.length - 1;
  if (pending.length > 0)
    fail(
      lastIndex,
      `calls tool ${pending.map((id) => safeJson(id)).join(', ')} but no message follows with the result`,
    );
  const last = list[lastIndex] as MessageParamLike;
  const lastBlock =
    typeof last.content === 'string'
      ? { type: 'text', text: last.content }
      : last.content[last.content.length - 1];
  if (
    last.role === 'assistant' &&
    lastBlock?.type === 'text' &&
    lastBlock.text !== lastBlock.text.trimEnd()
  ) {
    fail(lastIndex, 'is the final assistant message and ends with whitespace');
  }
  if (breakpoints > MAX_CACHE_BREAKPOINTS)
    fail(
      lastIndex,
      `ends a list with ${breakpoints} cache_control breakpoints; the API takes ${MAX_CACHE_BREAKPOINTS}`,
    );
}

/**
 * @internal Whether a tool_result content is absent, a non-blank string or a list of blocks, each
 * an object with a `type`, text ones not blank.
 */
function validResultContent(content: unknown): boolean {
  if (content === undefined) return true;
  if (typeof content === 'string') return content.trim() !== '';
  return (
    Array.isArray(content) &&
    content.length > 0 &&
    content.every((p: unknown) => {
      const part = p as Record<string, unknown> | null;
      if (part === null || typeof part !== 'object' || typeof part.type !== 'string') return false;
      return part.type !== 'text' || (typeof part.text === 'string' && part.text.trim() !== '');
    })
  );
}
