/**
 * Live messages as a Messages API `messages` list that the API accepts, and a checker of the
 * rules such a list must keep. Pure; what was repaired is visible in the result, not hidden.
 * Blocks go to the API as they were stored (images, documents, citations, signed and redacted
 * thinking, server tool blocks, types this code does not know): only a block on the wrong side of
 * the conversation, or a pairing the API would refuse, becomes text.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ContentBlock, Message } from '../core/types.js';
import { sideOf } from './block-roles.js';
import { contentToText, safeJson } from './format-blocks.js';
import { deepFreeze } from '../store/freeze.js';

export { MAX_CACHE_BREAKPOINTS, assertValidMessagesList } from './check-messages-list.js';

/**
 * A `tool_result` as sent: `content` is left out when the result was empty (the API rejects
 * empty text); images and documents in it stay blocks. The SDK's `ToolResultBlockParam`.
 *
 * @example const r: ToolResultParam = { type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' };
 */
export type ToolResultParam = Anthropic.ToolResultBlockParam;

/**
 * A `thinking` block as sent: the API needs its signature. The SDK's `ThinkingBlockParam`.
 *
 * @example const t: SignedThinkingBlock = { type: 'thinking', thinking: 'Check the tests', signature: 'EuYB...' };
 */
export type SignedThinkingBlock = Anthropic.ThinkingBlockParam;

/**
 * A content block of a built list: the SDK's `ContentBlockParam` (a block of a type the installed
 * SDK does not know yet is passed through as stored).
 *
 * @example const b: MessageBlockParam = { type: 'text', text: 'Run the tests' };
 */
export type MessageBlockParam = Anthropic.ContentBlockParam;

/** A text block the list adds or converts a block into: plain text, no citations. */
export type TextBlockParam = Anthropic.TextBlockParam;

/**
 * One entry of a Messages API `messages` list; assignable to the SDK's `Anthropic.MessageParam`.
 *
 * @example const params: Anthropic.MessageParam[] = [{ role: 'user', content: 'hi' } satisfies MessageParamLike];
 */
export interface MessageParamLike {
  role: 'user' | 'assistant';
  content: string | MessageBlockParam[];
}

/**
 * What {@link toMessagesList} returns.
 *
 * @example const { messages, systemTexts } = toMessagesList(live, 'Go on');
 */
export interface MessagesList {
  /** The list to send: valid for {@link assertValidMessagesList} unless it is empty. */
  messages: MessageParamLike[];
  /** The text of the `system`-role messages, oldest first: they belong in the system prompt. */
  systemTexts: string[];
  /** Blocks that no message holds (placeholder, synthetic results), for token accounting. */
  addedBlocks: MessageBlockParam[];
  /**
   * Text blocks that stand for blocks sent as text (a result whose call is not before it, a
   * tool_use from the user, unsigned thinking...): their labels are text no message holds.
   */
  convertedBlocks: TextBlockParam[];
  /** Messages that no message holds (a leading placeholder, a trailing synthetic result turn). */
  addedMessages: number;
}

/** Text of the user message put first when the list would otherwise start with the assistant. */
export const PLACEHOLDER_USER_TEXT = '(The conversation continues from here.)';
/** The placeholder's block: one frozen object, shared by every list (its count is remembered). */
const PLACEHOLDER_BLOCK: TextBlockParam = Object.freeze({ type: 'text', text: PLACEHOLDER_USER_TEXT });
/** Content of the synthetic error result answering a tool call whose result is not in the session. */
export const MISSING_RESULT_TEXT =
  'The result of this tool call is not in the session (it was never recorded).';

/** @internal A turn being built. */
interface Turn {
  role: 'user' | 'assistant';
  blocks: MessageBlockParam[];
}

/**
 * Converts live messages (oldest first) and the new user message into a Messages API list:
 * - `system` messages leave the list (their text is returned in `systemTexts`);
 * - blank text is dropped; consecutive messages of one role are merged; a list that would start
 *   with the assistant starts with a short placeholder user message ({@link PLACEHOLDER_USER_TEXT});
 * - every `tool_use` is answered first thing in the next (user) message: a result recorded later
 *   is moved up; a result that is nowhere becomes a synthetic `tool_result` with `is_error: true`
 *   and {@link MISSING_RESULT_TEXT} (the call stays visible to the model, and the list stays valid);
 * - a `tool_result` whose call is not in the previous message (compacted, omitted, duplicated),
 *   and any block on the wrong side (a `tool_use` or `server_tool_use` from the user, an image
 *   from the assistant, an unsigned `thinking`), becomes a text block that keeps its information
 *   ({@link contentToText} form: an image is a label, never its base64);
 * - every other block is sent as stored: signed and redacted thinking where they are, images and
 *   documents (inside tool results too), citations, server tool and MCP blocks, and types this
 *   code does not know; only a stored `cache_control` is left out (the request places its own);
 * - a final assistant text loses trailing whitespace.
 *
 * @param messages - live messages, oldest first (only `role` and `content` are read).
 * @param userMessage - the new user message, appended (merged into a final user message); null for none.
 * @returns the list, the system texts, and what was added. Never throws for any content. The
 *   blocks made of a frozen message (the runtime's messages are deep-frozen) are made once, frozen,
 *   and shared by every list built from it: copy a block before changing it.
 * @example
 * ```ts
 * const { messages } = toMessagesList(chat.messages, 'Continue');
 * assertValidMessagesList(messages);
 * ```
 */
export function toMessagesList(
  messages: readonly Pick<Message, 'role' | 'content'>[],
  userMessage: string | ContentBlock[] | null,
): MessagesList {
  const systemTexts: string[] = [];
  const turns: Turn[] = [];
  const convertedBlocks: TextBlockParam[] = [];
  const toText = (block: unknown): TextBlockParam => {
    const text = asText(block);
    convertedBlocks.push(text);
    return text;
  };
  // The blocks are copied into the turns: a frozen message's are shared by every build.
  const push = (role: 'user' | 'assistant', blocks: readonly MessageBlockParam[]): void => {
    const last = turns[turns.length - 1];
    if (blocks.length === 0) return;
    if (last !== undefined && last.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks: [...blocks] });
  };
  for (const message of messages) {
    if (message.role === 'system') {
      const text = contentToText(message.content).trim();
      if (text !== '') systemTexts.push(text);
      continue;
    }
    const normalized = normalizedOf(message);
    convertedBlocks.push(...normalized.converted);
    push(message.role === 'assistant' ? 'assistant' : 'user', normalized.blocks);
  }
  if (userMessage !== null) push('user', normalizeBlocks('user', userMessage, toText));

  const addedBlocks: MessageBlockParam[] = [];
  let addedMessages = 0;
  // Where each result sits (user turns are never merged from here on, so references stay good).
  const resultTurns = new Map<string, Turn[]>();
  for (const turn of turns) {
    for (const block of turn.blocks) {
      if (block.type === 'tool_result')
        resultTurns.set(block.tool_use_id, [...(resultTurns.get(block.tool_use_id) ?? []), turn]);
    }
  }
  const seenUses = new Set<string>();
  for (let i = 0; i < turns.length; i++) {
    const turn = turns[i] as Turn;
    if (turn.role === 'user') {
      const previous = turns[i - 1];
      const answerable = new Set(previous === undefined ? [] : useIdsOf(previous));
      turn.blocks = answerFirst(turn.blocks, [...answerable], toText);
      continue;
    }
    // A repeated tool_use id would be ambiguous for the API: keep the first, show the others as text.
    turn.blocks = turn.blocks.map((block) => {
      if (block.type !== 'tool_use') return block;
      if (seenUses.has(block.id)) return toText(block);
      seenUses.add(block.id);
      return block;
    });
    const ids = useIdsOf(turn);
    if (ids.length === 0) continue;
    let next = turns[i + 1];
    if (next === undefined) {
      next = { role: 'user', blocks: [] };
      turns.push(next);
      addedMessages++;
    }
    for (const id of ids) {
      if (next.blocks.some((b) => b.type === 'tool_result' && b.tool_use_id === id)) continue;
      const moved = takeLaterResult(resultTurns.get(id) ?? [], id, next);
      if (moved !== undefined) {
        next.blocks.push(moved);
        continue;
      }
      const synthetic: ToolResultParam = {
        type: 'tool_result',
        tool_use_id: id,
        content: MISSING_RESULT_TEXT,
        is_error: true,
      };
      next.blocks.push(synthetic);
      addedBlocks.push(synthetic);
    }
  }

  // Results moved up may have emptied a user turn: drop it and merge the assistants around it
  // (the first of them had no tool_use, or the emptied turn would hold its results).
  const list: Turn[] = [];
  for (const turn of turns) {
    if (turn.blocks.length === 0) continue;
    const last = list[list.length - 1];
    if (last !== undefined && last.role === turn.role) last.blocks.push(...turn.blocks);
    else list.push(turn);
  }
  if (list[0]?.role === 'assistant') {
    list.unshift({ role: 'user', blocks: [PLACEHOLDER_BLOCK] });
    addedBlocks.push(PLACEHOLDER_BLOCK);
    addedMessages++;
  }
  const final = list[list.length - 1];
  const finalBlock = final?.role === 'assistant' ? final.blocks[final.blocks.length - 1] : undefined;
  if (final !== undefined && finalBlock?.type === 'text' && finalBlock.text !== finalBlock.text.trimEnd()) {
    final.blocks[final.blocks.length - 1] = { ...finalBlock, text: finalBlock.text.trimEnd() };
  }
  return {
    messages: list.map((turn) => ({ role: turn.role, content: turn.blocks })),
    systemTexts,
    addedBlocks,
    addedMessages,
    convertedBlocks,
  };
}

/** @internal The tool_use ids of a turn. */
function useIdsOf(turn: Turn): string[] {
  const ids: string[] = [];
  for (const block of turn.blocks) if (block.type === 'tool_use') ids.push(block.id);
  return ids;
}

/** @internal A message's content as blocks for its side, and those of them sent as text. */
interface Normalized {
  blocks: readonly MessageBlockParam[];
  converted: readonly TextBlockParam[];
}

/**
 * Normalized content of frozen messages, converted once: a frozen message cannot change, and what
 * it becomes depends on it alone (pairing and merging come after, on copies of these arrays).
 * Kept deep-frozen, so that no build, and no caller of one, can change what the next build reads.
 */
const NORMALIZED = new WeakMap<object, Normalized>();

/** @internal A live message's blocks as {@link normalizeBlocks} makes them, once per frozen message. */
function normalizedOf(message: Pick<Message, 'role' | 'content'>): Normalized {
  const known = NORMALIZED.get(message);
  if (known !== undefined) return known;
  const converted: TextBlockParam[] = [];
  const toText = (block: unknown): TextBlockParam => {
    const text = asText(block);
    converted.push(text);
    return text;
  };
  const role = message.role === 'assistant' ? 'assistant' : 'user';
  const normalized: Normalized = { blocks: normalizeBlocks(role, message.content, toText), converted };
  if (Object.isFrozen(message) && Object.isFrozen(message.content))
    NORMALIZED.set(message, deepFreeze(normalized));
  return normalized;
}

/**
 * @internal Orders a user turn's blocks: the results of `ids` first (in call order, one each),
 * then the other blocks, where any other result becomes text.
 */
function answerFirst(
  blocks: MessageBlockParam[],
  ids: string[],
  toText: (block: unknown) => TextBlockParam,
): MessageBlockParam[] {
  const first: MessageBlockParam[] = [];
  const rest: MessageBlockParam[] = [];
  const answered = new Set<string>();
  for (const block of blocks) {
    if (block.type !== 'tool_result') rest.push(block);
    else if (ids.includes(block.tool_use_id) && !answered.has(block.tool_use_id)) {
      answered.add(block.tool_use_id);
      first.push(block);
    } else rest.push(toText(block));
  }
  first.sort(
    (a, b) =>
      ids.indexOf((a as ToolResultParam).tool_use_id) - ids.indexOf((b as ToolResultParam).tool_use_id),
  );
  return [...first, ...rest];
}

/** @internal Removes and returns the first result for `id` still present in a later turn. */
function takeLaterResult(candidates: Turn[], id: string, target: Turn): ToolResultParam | undefined {
  for (const turn of candidates) {
    if (turn === target) continue;
    const at = turn.blocks.findIndex((b) => b.type === 'tool_result' && b.tool_use_id === id);
    if (at >= 0) return turn.blocks.splice(at, 1)[0] as ToolResultParam;
  }
  return undefined;
}

/** @internal A block as a text block, in {@link contentToText} form. */
function asText(block: unknown): TextBlockParam {
  return { type: 'text', text: contentToText([block as ContentBlock]).trim() || safeJson(block) };
}

/** @internal A block without the `cache_control` it was stored with (the request places its own). */
function withoutCache<T extends object>(block: T): T {
  if (!('cache_control' in block)) return block;
  const { cache_control: _dropped, ...rest } = block as T & { cache_control?: unknown };
  return rest as T;
}

/** @internal Stored content as blocks allowed for `role`, as stored; anything else becomes text. */
function normalizeBlocks(
  role: 'user' | 'assistant',
  content: unknown,
  toText: (block: unknown) => TextBlockParam,
): MessageBlockParam[] {
  if (typeof content === 'string') return content.trim() === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content))
    return content === undefined || content === null ? [] : [{ type: 'text', text: safeJson(content) }];
  const blocks: MessageBlockParam[] = [];
  const keep = (block: Record<string, unknown>): void =>
    void blocks.push(withoutCache(block) as unknown as MessageBlockParam);
  const convert = (block: unknown): void => {
    const text = toText(block);
    if (text.text.trim() !== '') blocks.push(text);
  };
  for (const raw of content as unknown[]) {
    if (raw === null || typeof raw !== 'object') {
      const text = String(raw);
      if (text.trim() !== '') blocks.push({ type: 'text', text });
      continue;
    }
    const block = raw as Record<string, unknown>;
    const type = block.type;
    if (typeof type !== 'string' || type === '') convert(block);
    else if (type === 'text') {
      if (typeof block.text === 'string' && block.text.trim() !== '') keep(block);
    } else if (sideOf(type) !== null && sideOf(type) !== role) convert(block);
    else if (type === 'tool_use') {
      if (typeof block.id !== 'string' || block.id === '') convert(block);
      else if (typeof block.name === 'string' && block.input !== undefined) keep(block);
      else keep({ ...block, name: String(block.name ?? ''), input: block.input ?? {} });
    } else if (type === 'tool_result') {
      if (typeof block.tool_use_id !== 'string' || block.tool_use_id === '') convert(block);
      else {
        const { content: stored, ...rest } = withoutCache(block);
        const resultContent = resultContentOf(stored);
        blocks.push({
          ...rest,
          ...(resultContent === undefined ? {} : { content: resultContent }),
        } as ToolResultParam);
      }
    } else if (type === 'thinking') {
      if (typeof block.thinking === 'string' && typeof block.signature === 'string' && block.signature !== '')
        keep(block);
      else convert(block);
    } else if (type === 'redacted_thinking') {
      if (typeof block.data === 'string' && block.data !== '') keep(block);
      else convert(block);
    } else keep(block);
  }
  return blocks;
}

/**
 * @internal A result's content without blank text (undefined when nothing is left): text parts and
 * blocks (images, documents...) as stored, without their `cache_control`; any other value as text.
 */
function resultContentOf(content: unknown): ToolResultParam['content'] {
  if (typeof content === 'string') return content.trim() === '' ? undefined : content;
  if (!Array.isArray(content))
    return content === undefined || content === null ? undefined : safeJson(content);
  const parts = (content as unknown[]).flatMap(
    (part): NonNullable<Exclude<ToolResultParam['content'], string>> => {
      if (
        part !== null &&
        typeof part === 'object' &&
        typeof (part as { type?: unknown }).type === 'string'
      ) {
        const block = part as Record<string, unknown>;
        if (block.type === 'text' && (typeof block.text !== 'string' || block.text.trim() === '')) return [];
        return [withoutCache(block) as unknown as TextBlockParam];
      }
      const text =
        part !== null && typeof part === 'object' && typeof (part as TextBlockParam).text === 'string'
          ? (part as TextBlockParam).text
          : safeJson(part);
      return text.trim() === '' ? [] : [{ type: 'text', text }];
    },
  );
  return parts.length === 0 ? undefined : parts;
}
