/**
 * Reading a checkpoint out of a model's answer: the input of its `record_checkpoint` tool call,
 * or, as a fallback, a JSON object in its text (plain, or in ``` fences, with or without text
 * around it). Anything else is a malformed answer, reported with a reason.
 */
import { SessionError } from '../core/errors.js';
import type { CheckpointSummary } from '../core/types.js';
import { CHECKPOINT_TOOL_NAME, validateCheckpointSummary } from './checkpoint-schema.js';

/**
 * The part of a Messages API `Message` that {@link parseCheckpointResponse} reads; an SDK
 * `Message` fits it as is.
 */
export interface CheckpointResponse {
  content: ReadonlyArray<{ readonly type: string }>;
  stop_reason?: string | null;
}

/** Fenced blocks tried as JSON, at most this many (and as many brace-balanced objects). */
const MAX_CANDIDATES = 8;

/**
 * Extracts and validates the checkpoint summary of a model's answer.
 *
 * In order: the `input` of a `record_checkpoint` tool_use block (a JSON string input is parsed
 * too); otherwise the text blocks, tried as ```json fences, ``` fences, the whole text, then each
 * brace-balanced `{...}` in it. The first candidate that is valid wins; unknown keys are dropped
 * (see `validateCheckpointSummary`).
 *
 * @param response - The answer: its content blocks and stop reason.
 * @returns The summary, items trimmed.
 * @throws SessionError `COMPACTOR_MALFORMED` (retryable) saying why: the fields that are missing
 *   or of the wrong type, no checkpoint in the answer (with its beginning), or, when
 *   `stop_reason` is `max_tokens` and no complete checkpoint was found, that the answer was cut at
 *   max_tokens and `maxTokens` should be raised or the budget lowered.
 * @example
 * ```ts
 * const message = await client.messages.stream(request).finalMessage();
 * const summary = parseCheckpointResponse(message);
 * ```
 */
export function parseCheckpointResponse(response: CheckpointResponse): CheckpointSummary {
  const content = Array.isArray(response?.content)
    ? (response.content as ReadonlyArray<Record<string, unknown>>)
    : [];
  const cut = response?.stop_reason === 'max_tokens';
  const stopReason = response?.stop_reason ?? null;
  const fail = (reason: string, problems: string[] = []): never => {
    const why = cut
      ? `the answer was cut at max_tokens before the checkpoint was complete (${reason}); ` +
        `raise maxTokens or lower the checkpoint budget`
      : reason;
    throw new SessionError(
      'COMPACTOR_MALFORMED',
      'compaction',
      `the model's answer is not a valid checkpoint: ${why}`,
      {
        retryable: true,
        details: { problems, stopReason },
      },
    );
  };

  const calls = content.filter((block) => block?.type === 'tool_use');
  const call = calls.find((block) => block.name === CHECKPOINT_TOOL_NAME);
  if (call !== undefined) {
    let input = call.input;
    if (typeof input === 'string') {
      try {
        input = JSON.parse(input);
      } catch (error) {
        return fail(`the ${CHECKPOINT_TOOL_NAME} input is not valid JSON (${(error as Error).message})`);
      }
    }
    const result = validateCheckpointSummary(input);
    if (result.ok) return result.summary;
    return fail(
      `the ${CHECKPOINT_TOOL_NAME} input does not match its schema: ${result.problems.join('; ')}`,
      result.problems,
    );
  }

  const text = content
    .filter((block) => block?.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text as string)
    .join('\n');
  if (text.trim() === '') {
    const names = calls.map((block) => String(block.name));
    return fail(
      names.length > 0
        ? `the model called ${names.join(', ')} instead of ${CHECKPOINT_TOOL_NAME}`
        : 'the answer is empty',
    );
  }
  let problems: string[] | null = null;
  for (const candidate of jsonCandidates(text)) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    const result = validateCheckpointSummary(value);
    if (result.ok) return result.summary;
    problems ??= result.problems;
  }
  if (problems !== null)
    return fail(
      `the JSON in the answer does not match the checkpoint schema: ${problems.join('; ')}`,
      problems,
    );
  return fail(
    `the answer holds neither a ${CHECKPOINT_TOOL_NAME} call nor a JSON checkpoint; it begins "${excerpt(text)}"`,
  );
}

/**
 * @internal Substrings of `text` that may be the JSON checkpoint, most likely first: the bodies of
 * ```json fences, of other ``` fences, the whole text, then brace-balanced objects.
 */
export function jsonCandidates(text: string): string[] {
  const fenced: string[] = [];
  const plain: string[] = [];
  for (const match of text.matchAll(/```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n([\s\S]*?)```/g)) {
    const body = (match[2] ?? '').trim();
    if ((match[1] ?? '').toLowerCase() === 'json') fenced.push(body);
    else plain.push(body);
  }
  const candidates = [...fenced, ...plain, text.trim()];
  let from = text.indexOf('{');
  for (let found = 0; from !== -1 && found < MAX_CANDIDATES; found++) {
    const end = matchingBrace(text, from);
    if (end === -1) break;
    candidates.push(text.slice(from, end + 1));
    from = text.indexOf('{', end + 1);
  }
  return [...new Set(candidates)].slice(0, MAX_CANDIDATES * 2);
}

/** @internal Index of the `}` closing the `{` at `start` (strings and escapes respected), or -1. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i;
  }
  return -1;
}

/** @internal The first 120 characters of `text`, on one line. */
function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
