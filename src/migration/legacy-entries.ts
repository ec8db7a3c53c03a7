/**
 * @internal Validation of the two legacy formats, entry by entry, and their mapping to message
 * inputs. Every problem names the entry's index and the field; the mapped message is also checked
 * with the runtime's own validation, so that no append can fail once writing has started.
 */
import { SessionError } from '../core/errors.js';
import type { ContentBlock, MessageInput } from '../core/types.js';
import { validateMessageInput } from '../runtime/validate.js';
import { describeValue, extraFields, isIsoTimestamp, isRecord, valueProblem } from './json-shape.js';
import type { LegacyFileRef, ParseOutcome, ParsedLegacyFile } from './legacy-file.js';
import type { EntryProblem } from './types.js';

/** @internal Dev message types the legacy harness knew; any other string is kept as it is. */
export const KNOWN_DEV_TYPES = [
  'intention',
  'approval',
  'rejection',
  'progress',
  'completion',
  'error',
] as const;

const PM_ENTRY_FIELDS = ['role', 'content', 'timestamp', 'media'] as const;
const DEV_MESSAGE_FIELDS = ['timestamp', 'direction', 'type', 'content', 'metadata'] as const;
const DEV_METADATA_FIELDS = ['toolName', 'toolInput', 'toolResult'] as const;
const DEV_SESSION_FIELDS = ['taskId', 'agentId', 'status', 'startedAt', 'completedAt', 'messages'] as const;

/** @internal Problems found in one entry: the field, and what is wrong with it. */
export type Problems = { field: string; reason: string }[];

function runtimeProblem(input: MessageInput): string | null {
  try {
    validateMessageInput(input);
    return null;
  } catch (error) {
    if (error instanceof SessionError) return error.message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '');
    throw error;
  }
}

/**
 * @internal Runs `check` on each entry of a list and sorts the results into messages and problems.
 * An entry with several bad fields gives one problem per field.
 */
export function mapEntries(
  list: unknown[],
  listName: string,
  check: (
    entry: Record<string, unknown>,
    at: string,
    problems: Problems,
    index: number,
  ) => MessageInput | null,
): Pick<ParsedLegacyFile, 'messages' | 'problems'> {
  const messages: ParsedLegacyFile['messages'] = [];
  const problems: EntryProblem[] = [];
  list.forEach((entry, index) => {
    const at = `${listName}[${index}]`;
    if (!isRecord(entry)) {
      problems.push({ index, field: at, reason: `must be an object, got ${describeValue(entry)}` });
      return;
    }
    const found: Problems = [];
    const input = check(entry, at, found, index);
    const late = input && found.length === 0 ? runtimeProblem(input) : null;
    if (late) found.push({ field: at, reason: late });
    if (found.length > 0 || !input) {
      for (const p of found) problems.push({ index, ...p });
      return;
    }
    messages.push({ index, input });
  });
  return { messages, problems };
}

/** Epoch times below this are seconds, above it milliseconds (10^11 ms is 1973, 10^11 s is year 5138). */
const SECONDS_BELOW = 1e11;
/** A number is taken as a time only between 2000 and 2100: anything else is not a DAGent time. */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(2100, 0, 1);

/** @internal A number of epoch milliseconds (or seconds) between 2000 and 2100, as milliseconds; else null. */
export function epochMsOf(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const ms = value < SECONDS_BELOW ? value * 1000 : value;
  return ms >= EARLIEST_MS && ms < LATEST_MS ? ms : null;
}

/**
 * @internal An entry's time as the message's ISO-8601 timestamp: an ISO string as it is, or a
 * number of epoch milliseconds (seconds below 10^11), as hosts that stored `Date.now()` did. The
 * original value is kept in `metadata.originalTimestamp` by the callers.
 */
export function timestampOf(value: unknown, at: string, problems: Problems): string | null {
  if (value === undefined) {
    problems.push({
      field: `${at}.timestamp`,
      reason: 'is missing; expected an ISO-8601 string or epoch milliseconds',
    });
    return null;
  }
  if (isIsoTimestamp(value)) return value;
  const ms = epochMsOf(value);
  if (ms !== null) return new Date(ms).toISOString();
  problems.push({
    field: `${at}.timestamp`,
    reason: `must be an ISO-8601 string or epoch milliseconds (2000 to 2100), got ${describeValue(value)}`,
  });
  return null;
}

const BLOCK_TYPES: readonly string[] = ['text', 'tool_use', 'tool_result', 'thinking'];

/** @internal Content as the runtime takes it: a string, or a list of content blocks (`{ type: 'text', text }`...). */
export function contentOf(value: unknown, at: string, problems: Problems): string | ContentBlock[] | null {
  if (typeof value === 'string') return value;
  // Blocks are checked in full by the runtime's own validation; here only that they are blocks.
  const blocks =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((b) => isRecord(b) && typeof b.type === 'string' && BLOCK_TYPES.includes(b.type));
  if (blocks) return value as ContentBlock[];
  problems.push({
    field: `${at}.content`,
    reason:
      `must be a string or a list of content blocks like { "type": ` +
      `"text", "text": "..." }, got ${describeValue(value)}`,
  });
  return null;
}

/** @internal A value kept as it is (metadata, tool input...): bounded depth, no `__proto__` key. */
export function checkKept(value: unknown, field: string, problems: Problems): void {
  const problem = valueProblem(value, field);
  if (problem) problems.push({ field, reason: problem.slice(field.length + 1) });
}

/** @internal Validates a parsed PM chat (`{ entries: [...] }`) and maps its entries. */
export function parsePMChat(value: unknown, ref: LegacyFileRef): ParseOutcome {
  if (!isRecord(value))
    return {
      ok: false,
      reason: `${ref.relative} must hold an object { "entries": [...] }, got ${describeValue(value)}`,
    };
  if (!('entries' in value)) return { ok: false, reason: `${ref.relative} has no "entries" list` };
  if (!Array.isArray(value.entries))
    return {
      ok: false,
      reason: `${ref.relative}: "entries" must be a list, got ${describeValue(value.entries)}`,
    };
  const extra = extraFields(value, ['entries']);
  const extraProblem = extra ? valueProblem(extra, 'its top-level fields') : null;
  if (extraProblem) return { ok: false, reason: `${ref.relative}: ${extraProblem}` };
  const mapped = mapEntries(value.entries, 'entries', (entry, at, problems, index) => {
    if (entry.role !== 'user' && entry.role !== 'assistant')
      problems.push({
        field: `${at}.role`,
        reason: `must be "user" or "assistant", got ${describeValue(entry.role)}`,
      });
    const content = contentOf(entry.content, at, problems);
    const timestamp = timestampOf(entry.timestamp, at, problems);
    if (entry.media !== undefined) {
      if (!Array.isArray(entry.media))
        problems.push({
          field: `${at}.media`,
          reason: `must be a list of file paths, got ${describeValue(entry.media)}`,
        });
      else
        entry.media.forEach(
          (m, i) =>
            typeof m !== 'string' &&
            problems.push({
              field: `${at}.media[${i}]`,
              reason: `must be a file path string, got ${describeValue(m)}`,
            }),
        );
    }
    const legacyFields = extraFields(entry, PM_ENTRY_FIELDS);
    if (legacyFields) checkKept(legacyFields, `${at} (extra fields)`, problems);
    if (problems.length > 0 || content === null || timestamp === null) return null;
    return {
      role: entry.role as 'user' | 'assistant',
      content,
      timestamp,
      metadata: {
        migratedFrom: { file: ref.relative, index },
        originalTimestamp: entry.timestamp,
        ...(entry.media === undefined ? {} : { media: entry.media }),
        ...(legacyFields ? { legacyFields } : {}),
      },
    };
  });
  return {
    ok: true,
    parsed: {
      total: value.entries.length,
      ...mapped,
      context: extra ? { legacySession: { file: ref.relative, format: ref.kind, ...extra } } : null,
      warnings: [],
    },
  };
}

/** @internal Validates a parsed dev task session and maps its messages. */
export function parseDevSession(value: unknown, ref: LegacyFileRef): ParseOutcome {
  if (!isRecord(value))
    return {
      ok: false,
      reason:
        `${ref.relative} must hold an object { taskId, agentId, status, ` +
        `startedAt, messages: [...] }, got ${describeValue(value)}`,
    };
  const fileProblems: string[] = [];
  for (const field of ['taskId', 'agentId', 'status'] as const) {
    if (value[field] === undefined) fileProblems.push(`"${field}" is missing`);
    else if (typeof value[field] !== 'string')
      fileProblems.push(`"${field}" must be a string, got ${describeValue(value[field])}`);
  }
  const isTime = (v: unknown) => isIsoTimestamp(v) || epochMsOf(v) !== null;
  if (value.startedAt === undefined) fileProblems.push('"startedAt" is missing');
  else if (!isTime(value.startedAt))
    fileProblems.push(
      `"startedAt" must be an ISO-8601 string or epoch milliseconds, got ${describeValue(value.startedAt)}`,
    );
  if (value.completedAt !== undefined && value.completedAt !== null && !isTime(value.completedAt)) {
    fileProblems.push(
      `"completedAt" must be an ISO-8601 string or epoch milliseconds when present, ` +
        `got ${describeValue(value.completedAt)}`,
    );
  }
  if (!('messages' in value)) fileProblems.push('"messages" list is missing');
  else if (!Array.isArray(value.messages))
    fileProblems.push(`"messages" must be a list, got ${describeValue(value.messages)}`);
  const extra = extraFields(value, DEV_SESSION_FIELDS);
  const extraProblem = extra ? valueProblem(extra, 'its extra top-level fields') : null;
  if (extraProblem) fileProblems.push(extraProblem);
  if (fileProblems.length > 0 || !Array.isArray(value.messages))
    return { ok: false, reason: `${ref.relative}: ${fileProblems.join('; ')}` };
  const warnings =
    value.taskId === ref.taskId
      ? []
      : [
          `taskId "${String(value.taskId)}" differs from its directory ` +
            `"${ref.taskId ?? ''}"; the directory names the session`,
        ];
  const mapped = mapEntries(value.messages, 'messages', (message, at, problems, index) => {
    if (message.direction !== 'harness_to_task' && message.direction !== 'task_to_harness') {
      problems.push({
        field: `${at}.direction`,
        reason: `must be "harness_to_task" or "task_to_harness", got ${describeValue(message.direction)}`,
      });
    }
    if (typeof message.type !== 'string' || message.type === '')
      problems.push({
        field: `${at}.type`,
        reason:
          `must be a non-empty string (${KNOWN_DEV_TYPES.join(', ')}, ` +
          `or another kept as is), got ${describeValue(message.type)}`,
      });
    const content = contentOf(message.content, at, problems);
    const timestamp = timestampOf(message.timestamp, at, problems);
    const meta = message.metadata;
    if (meta !== undefined && !isRecord(meta))
      problems.push({ field: `${at}.metadata`, reason: `must be an object, got ${describeValue(meta)}` });
    const md = isRecord(meta) ? meta : {};
    if (md.toolName !== undefined && typeof md.toolName !== 'string')
      problems.push({
        field: `${at}.metadata.toolName`,
        reason: `must be a string, got ${describeValue(md.toolName)}`,
      });
    for (const field of ['toolInput', 'toolResult'] as const)
      if (field in md) checkKept(md[field], `${at}.metadata.${field}`, problems);
    const legacyMetadata = extraFields(md, DEV_METADATA_FIELDS);
    if (legacyMetadata) checkKept(legacyMetadata, `${at}.metadata (extra fields)`, problems);
    const legacyFields = extraFields(message, DEV_MESSAGE_FIELDS);
    if (legacyFields) checkKept(legacyFields, `${at} (extra fields)`, problems);
    if (problems.length > 0 || content === null || timestamp === null) return null;
    return {
      role: message.direction === 'task_to_harness' ? 'assistant' : 'user',
      content,
      timestamp,
      metadata: {
        migratedFrom: { file: ref.relative, index },
        originalType: message.type,
        direction: message.direction,
        originalTimestamp: message.timestamp,
        ...('toolName' in md ? { toolName: md.toolName } : {}),
        ...('toolInput' in md ? { toolInput: md.toolInput } : {}),
        ...('toolResult' in md ? { toolResult: md.toolResult } : {}),
        ...(legacyMetadata ? { legacyMetadata } : {}),
        ...(legacyFields ? { legacyFields } : {}),
      },
    };
  });
  const legacySession = {
    file: ref.relative,
    format: 'dev-session',
    taskId: value.taskId,
    agentId: value.agentId,
    status: value.status,
    startedAt: value.startedAt,
    ...(value.completedAt === undefined ? {} : { completedAt: value.completedAt }),
    ...extra,
  };
  return {
    ok: true,
    parsed: { total: value.messages.length, ...mapped, context: { legacySession }, warnings },
  };
}
