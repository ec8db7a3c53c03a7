/**
 * @internal Content of Claude Code log lines as session content: `text`, `thinking`, `tool_use`
 * and `tool_result` blocks kept as they are; blocks a session cannot hold (`image`, `document`,
 * `redacted_thinking`, server tools...) become a short text marker, the original block kept in
 * metadata; tool results paired with their calls by id.
 */
import type { ContentBlock, TextBlock } from '../core/types.js';
import { safeJson, toolResultText } from '../request/format.js';

/** @internal A block kept in metadata because a session message cannot hold it. */
export interface UnsupportedBlock {
  /** Where it was: `content[2]`, or `content[1].content[0]` inside a tool result. */
  path: string;
  block: unknown;
}

/** @internal A tool result whose call is not before it in the log, kept as text. */
export interface OrphanResult {
  toolUseId: string;
  isError: boolean;
  /** `no-call`: no call with that id came before; `answered`: the call already had its result. */
  reason: 'no-call' | 'answered';
}

/** @internal Tool calls seen so far, by id, and whether each has its result. */
export class ToolCallLedger {
  readonly calls = new Map<string, { name: string; line: number; answered: boolean }>();
  toolCalls = 0;
  toolResults = 0;
  pairedResults = 0;
  orphanResults = 0;

  /** The ids of calls that never got a result, in order. */
  unanswered(): string[] {
    return [...this.calls].filter(([, call]) => !call.answered).map(([id]) => id);
  }
}

/** @internal What converting one line's content found. */
export interface ConvertedContent {
  content: string | ContentBlock[];
  unsupported: UnsupportedBlock[];
  orphans: OrphanResult[];
  /** Tool names of the calls this line's results answer. */
  answers: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** @internal The marker text that stands for a block kept in metadata. */
export function markerOf(block: unknown, path: string): string {
  const b = isObject(block) ? block : {};
  const type = typeof b.type === 'string' ? b.type : 'unknown';
  const source = isObject(b.source) ? b.source : {};
  const media = typeof source.media_type === 'string' ? ` ${source.media_type}` : '';
  const size =
    typeof source.data === 'string'
      ? `, ${source.data.length.toLocaleString('en-US')} base64 characters`
      : '';
  return (
    `[${type}${media} block${size}: not sent to the model, ` +
    `kept in metadata.claudeCode.unsupportedBlocks at ${path}]`
  );
}

/** @internal A tool result's content as a session holds it: a string or text blocks. */
function resultContent(
  raw: unknown,
  path: string,
  unsupported: UnsupportedBlock[],
): string | TextBlock[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  if (!Array.isArray(raw)) {
    unsupported.push({ path, block: raw });
    return safeJson(raw);
  }
  return raw.map((item, i): TextBlock => {
    if (isObject(item) && item.type === 'text' && typeof item.text === 'string')
      return { type: 'text', text: item.text };
    unsupported.push({ path: `${path}[${i}]`, block: item });
    return { type: 'text', text: markerOf(item, `${path}[${i}]`) };
  });
}

/**
 * @internal Converts the `message.content` of a log line. Tool calls are recorded in `ledger`;
 * a tool result is kept as a `tool_result` when a call with its id came before and has no result
 * yet, else it becomes a text block that says so (its id and error flag go to `orphans`).
 * @returns null when `raw` is neither a string nor a list.
 */
export function convertContent(raw: unknown, line: number, ledger: ToolCallLedger): ConvertedContent | null {
  const unsupported: UnsupportedBlock[] = [];
  const orphans: OrphanResult[] = [];
  const answers: string[] = [];
  if (typeof raw === 'string') return { content: raw, unsupported, orphans, answers };
  if (!Array.isArray(raw)) return null;
  if (raw.length === 0) return { content: '', unsupported, orphans, answers };
  const blocks = raw.map((block, i): ContentBlock => {
    const path = `content[${i}]`;
    const b = isObject(block) ? block : {};
    if (b.type === 'text' && typeof b.text === 'string') return { type: 'text', text: b.text };
    if (b.type === 'thinking' && typeof b.thinking === 'string') {
      return typeof b.signature === 'string'
        ? { type: 'thinking', thinking: b.thinking, signature: b.signature }
        : { type: 'thinking', thinking: b.thinking };
    }
    if (
      b.type === 'tool_use' &&
      typeof b.id === 'string' &&
      b.id !== '' &&
      typeof b.name === 'string' &&
      b.name !== ''
    ) {
      ledger.toolCalls++;
      if (!ledger.calls.has(b.id)) ledger.calls.set(b.id, { name: b.name, line, answered: false });
      return { type: 'tool_use', id: b.id, name: b.name, input: b.input ?? {} };
    }
    if (b.type === 'tool_result' && typeof b.tool_use_id === 'string' && b.tool_use_id !== '') {
      ledger.toolResults++;
      const content = resultContent(b.content, `${path}.content`, unsupported);
      const isError = b.is_error === true;
      const call = ledger.calls.get(b.tool_use_id);
      if (call !== undefined && !call.answered) {
        call.answered = true;
        ledger.pairedResults++;
        answers.push(call.name);
        return {
          type: 'tool_result',
          tool_use_id: b.tool_use_id,
          content: content ?? '',
          ...(isError ? { is_error: true } : {}),
        };
      }
      ledger.orphanResults++;
      const reason = call === undefined ? 'no-call' : 'answered';
      orphans.push({ toolUseId: b.tool_use_id, isError, reason });
      const why = reason === 'no-call' ? 'whose call is not in this log' : 'whose call already had a result';
      return {
        type: 'text',
        text:
          `[result${isError ? ' (error)' : ''} of tool ` +
          `call ${b.tool_use_id}, ${why}]\n${toolResultText(content ?? '')}`,
      };
    }
    unsupported.push({ path, block });
    return { type: 'text', text: markerOf(block, path) };
  });
  // A line that is nothing but results without their calls reads as tool output, not as prose.
  const allOrphans = orphans.length > 0 && orphans.length === blocks.length;
  const content = allOrphans ? blocks.map((b) => (b.type === 'text' ? b.text : '')).join('\n\n') : blocks;
  return { content, unsupported, orphans, answers };
}
