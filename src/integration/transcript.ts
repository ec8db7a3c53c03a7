/**
 * Loads agent transcripts in the simple JSON shape of the evaluation data
 * (`{ source, license?, system?, messages: [{ role: 'user'|'assistant'|'tool', content, toolName? }] }`)
 * and turns them into session messages with paired `tool_use` / `tool_result` blocks.
 * No message is ever dropped: a transcript of N messages gives N session messages.
 */
import { SessionError, describeError } from '../core/errors.js';
import type { ContentBlock, MessageInput } from '../core/types.js';
import { readInputFile } from './read-input-file.js';

/**
 * A transcript converted to session messages.
 *
 * @example
 * ```ts
 * const { source, messages } = await loadTranscript('conversation.json');
 * ```
 */
export interface Transcript {
  /** Where the conversation comes from (`owner/repo:path@commit`, or the file it was read from). */
  source: string;
  license?: string;
  /** The original system prompt, when the transcript has one. */
  system?: string;
  /** One session message per transcript message, in order. */
  messages: MessageInput[];
  /** The transcript's own `meta` object, kept as is. */
  meta?: Record<string, unknown>;
}

const EXPECTED =
  'expected { "source": string, "license"?: string, "system"?: string, "messages": [{ ' +
  '"role": "user" | "assistant" | "tool", "content": string, "toolName"?: string }] }';
const ROLES = new Set(['user', 'assistant', 'tool']);

/**
 * A tool name as the Messages API accepts it: `[a-zA-Z0-9_-]{1,64}`; other characters become `_`.
 *
 * @param name - the transcript's tool name, for example `Update Todos`.
 * @returns the sanitised name, `tool` when nothing usable is left.
 * @example sanitizeToolName('Update Todos') // 'Update_Todos'
 */
export function sanitizeToolName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return clean.length > 0 ? clean : 'tool';
}

/** @internal */
function invalid(origin: string | undefined, what: string): SessionError {
  const where = origin === undefined ? 'transcript' : `transcript ${origin}`;
  return new SessionError('INVALID_ARGUMENT', 'cli', `${where}: ${what}; ${EXPECTED}`, {
    details: origin === undefined ? {} : { origin },
  });
}

/** @internal */
function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string'
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
    : `a ${typeof value}`;
}

/**
 * Validates a parsed transcript and converts it to session messages.
 *
 * `user` becomes a user message; `assistant` an assistant message; an `assistant` message with
 * `toolName` a `tool_use` block (`id` `toolu_<n>` counted in order, `input: { call: content }`);
 * a `tool` message a user message with a `tool_result` block paired with the first pending call
 * of the same tool name, else the first pending call (parallel calls come as N calls then N
 * results). A `tool` message without a pending call stays a user text message with metadata
 * `orphanToolResult: true`. Every message carries `metadata.transcriptIndex` (and `toolName`).
 *
 * @param json - the parsed JSON of a transcript file.
 * @param origin - where it came from (a file name), used in error messages and as the default `source`.
 * @returns the transcript with exactly one session message per transcript message.
 * @throws SessionError `INVALID_ARGUMENT` (origin `cli`) naming the index and field that is wrong.
 * @example
 * ```ts
 * const t = parseTranscript({ source: 'demo', messages: [
 *   { role: 'assistant', content: 'Bash(ls)', toolName: 'Bash' },
 *   { role: 'tool', content: 'README.md', toolName: 'Bash' },
 * ] });
 * t.messages[1]?.content // [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'README.md' }]
 * ```
 */
export function parseTranscript(json: unknown, origin?: string): Transcript {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid(origin, `the top level is ${describeValue(json)}, not an object`);
  }
  const doc = json as Record<string, unknown>;
  if (doc.source !== undefined && typeof doc.source !== 'string')
    throw invalid(origin, `"source" is ${describeValue(doc.source)}, not a string`);
  if (doc.license !== undefined && typeof doc.license !== 'string')
    throw invalid(origin, `"license" is ${describeValue(doc.license)}, not a string`);
  if (doc.system !== undefined && typeof doc.system !== 'string')
    throw invalid(origin, `"system" is ${describeValue(doc.system)}, not a string`);
  if (!Array.isArray(doc.messages))
    throw invalid(origin, `"messages" is ${describeValue(doc.messages)}, not an array`);

  const pending: { id: string; toolName: string }[] = [];
  let calls = 0;
  const messages = (doc.messages as unknown[]).map((raw, index): MessageInput => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw invalid(origin, `messages[${index}] is ${describeValue(raw)}, not an object`);
    }
    const m = raw as Record<string, unknown>;
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
      throw invalid(
        origin,
        `messages[${index}].role is ${describeValue(m.role)}; it must be "user", "assistant" or "tool"`,
      );
    }
    if (typeof m.content !== 'string')
      throw invalid(origin, `messages[${index}].content is ${describeValue(m.content)}, not a string`);
    if (m.toolName !== undefined && typeof m.toolName !== 'string') {
      throw invalid(origin, `messages[${index}].toolName is ${describeValue(m.toolName)}, not a string`);
    }
    const content = m.content;
    const toolName = m.toolName;
    const metadata: Record<string, unknown> =
      toolName === undefined ? { transcriptIndex: index } : { transcriptIndex: index, toolName };

    if (m.role === 'user' || (m.role === 'assistant' && toolName === undefined)) {
      return { role: m.role, content, metadata };
    }
    if (m.role === 'assistant' && toolName !== undefined) {
      const id = `toolu_${++calls}`;
      pending.push({ id, toolName });
      const block: ContentBlock = {
        type: 'tool_use',
        id,
        name: sanitizeToolName(toolName),
        input: { call: content },
      };
      return { role: 'assistant', content: [block], metadata };
    }
    // A tool result: the first pending call of the same tool, else the first pending call.
    const sameTool = toolName === undefined ? -1 : pending.findIndex((p) => p.toolName === toolName);
    const [paired] = pending.splice(sameTool >= 0 ? sameTool : 0, 1);
    if (paired === undefined) {
      return { role: 'user', content, metadata: { ...metadata, orphanToolResult: true } };
    }
    return { role: 'user', content: [{ type: 'tool_result', tool_use_id: paired.id, content }], metadata };
  });

  const transcript: Transcript = {
    source: typeof doc.source === 'string' ? doc.source : (origin ?? 'unknown'),
    messages,
  };
  if (typeof doc.license === 'string') transcript.license = doc.license;
  if (typeof doc.system === 'string') transcript.system = doc.system;
  if (typeof doc.meta === 'object' && doc.meta !== null && !Array.isArray(doc.meta))
    transcript.meta = doc.meta as Record<string, unknown>;
  return transcript;
}

/**
 * Reads a transcript file and converts it with {@link parseTranscript}.
 *
 * @param file - path of a transcript JSON file.
 * @returns the converted transcript.
 * @throws SessionError `INVALID_ARGUMENT` when the file does not exist, is not JSON or is not a
 *   transcript; `IO_ERROR` when it cannot be read for another reason.
 * @example
 * ```ts
 * const t = await loadTranscript('conversation.json');
 * for (const m of t.messages) await runtime.addMessage(id, m);
 * ```
 */
export async function loadTranscript(file: string): Promise<Transcript> {
  const text = await readInputFile(file, `transcript ${file}`, 'the path of a transcript JSON file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `transcript ${file}: not valid JSON (${describeError(error)}); ${EXPECTED}`,
      {
        cause: error,
        details: { origin: file },
      },
    );
  }
  return parseTranscript(json, file);
}
