/**
 * Reads Claude Code session logs (`~/.claude/projects/<project>/<session>.jsonl`: one JSON object
 * per line) as session messages, tool calls and results paired by their ids.
 *
 * What each line becomes:
 * - `user` and `assistant` lines: one message each, in file order, with `message.content` kept
 *   (`text`, `thinking` with its signature, `tool_use`, `tool_result`). Claude Code writes one
 *   reply as several `assistant` lines (one per content block, same `message.id`); they stay
 *   several messages, which requests merge again. Rewound branches (`parentUuid`) are kept in
 *   file order too, and so are sidechain lines (a sub-agent's conversation, which older versions
 *   wrote inline), marked `isSidechain`.
 * - A `tool_result` whose call did not come before it (or whose call already had a result)
 *   becomes text saying so; nothing is dropped.
 * - Blocks a session cannot hold (`image`, `document`, `redacted_thinking`...) become a short
 *   text marker, and the original block goes to `metadata.claudeCode.unsupportedBlocks`.
 * - `summary` lines (the session's title) and `system` lines (compaction boundaries, notices,
 *   API errors) become `system` messages, so they reach the system prompt, not the conversation.
 * - Other lines (`file-history-snapshot`, `queue-operation`, `progress`...) are Claude Code's
 *   bookkeeping, not conversation: they are counted in `stats.ignored`, not imported.
 *   `toolUseResult` (Claude Code's structured copy of a tool's output for its UI, which may
 *   hold whole files) is not imported either: the `tool_result` the model read is.
 *
 * Every message keeps its `timestamp` (a line without one takes the previous line's, or the
 * first one of the log when no line before it had one) and
 * `metadata.claudeCode`: `line`, `type`, `uuid`, `parentUuid`, `sessionId`, and when present
 * `isSidechain`, `isMeta`, `isCompactSummary`, `subtype`, `requestId`, `messageId`, `model`,
 * `stopReason`, `usage`, `orphanToolResults`, `unsupportedBlocks`.
 */
import { SessionError, describeError } from '../core/errors.js';
import type { MessageInput } from '../core/types.js';
import { safeJson } from '../request/format.js';
import { ToolCallLedger, convertContent } from './claude-code-blocks.js';
import type { Transcript } from './transcript.js';
import { readInputFile } from './read-input-file.js';

/**
 * Options of {@link parseClaudeCodeLog}.
 * @example const options: ClaudeCodeLogOptions = { skipInvalid: true };
 */
export interface ClaudeCodeLogOptions {
  /** Skip lines that do not parse, listing them in `skipped`, instead of throwing. Default false. */
  skipInvalid?: boolean;
}

/**
 * A line left out with `skipInvalid`.
 * @example
 * const skipped: SkippedLine = { line: 18, reason: 'not valid JSON (Unterminated string in JSON at position 201)' };
 */
export interface SkippedLine {
  /** 1-based line number. */
  line: number;
  reason: string;
}

/**
 * What {@link parseClaudeCodeLog} found.
 * @example
 * ```ts
 * const { stats } = parseClaudeCodeLog(text);
 * if (stats.orphanResults > 0) console.warn(`${stats.orphanResults} tool results without their call, kept as text`);
 * ```
 */
export interface ClaudeCodeLogStats {
  /** Non-blank lines read. */
  lines: number;
  messages: number;
  toolCalls: number;
  toolResults: number;
  /** Results kept as `tool_result`, answering a call that came before them. */
  pairedResults: number;
  /** Results whose call is not before them (or already answered), kept as text. */
  orphanResults: number;
  /** Ids of calls that never got a result (requests answer them with a synthetic error result). */
  unansweredCalls: string[];
  sidechainMessages: number;
  systemMessages: number;
  /** Blocks kept in metadata behind a text marker. */
  unsupportedBlocks: number;
  /** Lines that are not conversation, by `type`; not imported. */
  ignored: Record<string, number>;
}

/**
 * A Claude Code log converted to session messages.
 * @example const { messages, stats } = await loadClaudeCodeLog('session.jsonl');
 */
export interface ClaudeCodeTranscript extends Transcript {
  format: 'claude-code';
  stats: ClaudeCodeLogStats;
  skipped: SkippedLine[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const ENVELOPE = new Set([
  'type',
  'subtype',
  'uuid',
  'parentUuid',
  'logicalParentUuid',
  'timestamp',
  'sessionId',
  'cwd',
  'version',
  'gitBranch',
  'userType',
  'isSidechain',
  'isMeta',
  'level',
  'slug',
  'content',
]);

class InvalidLine extends Error {}

/** @internal The text of a `system` line: its `content`, else its subtype and other fields. */
function systemText(entry: Record<string, unknown>): string {
  if (typeof entry.content === 'string' && entry.content.trim() !== '') return entry.content;
  const rest = Object.fromEntries(Object.entries(entry).filter(([key]) => !ENVELOPE.has(key)));
  const subtype = typeof entry.subtype === 'string' ? entry.subtype : 'system';
  return Object.keys(rest).length === 0 ? `[${subtype}]` : `[${subtype}] ${safeJson(rest)}`;
}

/** @internal The `metadata.claudeCode` facts of a line. */
function facts(entry: Record<string, unknown>, line: number): Record<string, unknown> {
  const out: Record<string, unknown> = { line, type: entry.type };
  const copy = (from: Record<string, unknown>, key: string, as = key) => {
    if (from[key] !== undefined && from[key] !== null && from[key] !== false) out[as] = from[key];
  };
  for (const key of [
    'uuid',
    'parentUuid',
    'logicalParentUuid',
    'sessionId',
    'isSidechain',
    'isMeta',
    'isCompactSummary',
    'subtype',
    'level',
    'requestId',
    'leafUuid',
  ])
    copy(entry, key);
  if (isObject(entry.message)) {
    copy(entry.message, 'id', 'messageId');
    copy(entry.message, 'model');
    copy(entry.message, 'stop_reason', 'stopReason');
    copy(entry.message, 'usage');
  }
  return out;
}

/**
 * Converts the text of a Claude Code session log to session messages (see the module comment
 * for what each kind of line becomes). Blank lines are skipped.
 *
 * @param text - the log's text.
 * @param origin - where it came from (a file name): the `source`, and named in errors.
 * @param options - `skipInvalid` to leave out lines that do not parse instead of throwing.
 * @returns the messages in file order, with `stats` and the `skipped` lines.
 * @throws SessionError `INVALID_ARGUMENT` (origin `cli`) naming the first line that is not JSON,
 *   not an object, without a `type`, or a `user`/`assistant` line without `message.content`
 *   (unless `skipInvalid`); or when there is no line at all.
 * @example
 * ```ts
 * const t = parseClaudeCodeLog(await readFile('s.jsonl', 'utf8'), 's.jsonl', { skipInvalid: true });
 * t.stats.pairedResults; // tool results kept next to their calls
 * ```
 */
export function parseClaudeCodeLog(
  text: string,
  origin?: string,
  options: ClaudeCodeLogOptions = {},
): ClaudeCodeTranscript {
  const where = `Claude Code log${origin === undefined ? '' : ` ${origin}`}`;
  const rows = text.split(/\r?\n/);
  const lastLine = rows.findLastIndex((row) => row.trim() !== '') + 1;
  const ledger = new ToolCallLedger();
  const messages: MessageInput[] = [];
  const skipped: SkippedLine[] = [];
  const ignored = new Map<string, number>();
  const sessionIds = new Set<string>();
  const versions = new Set<string>();
  const summaries: string[] = [];
  let cwd: string | undefined;
  let gitBranch: string | undefined;
  let lines = 0;
  let sidechainMessages = 0;
  let systemMessages = 0;
  let unsupportedBlocks = 0;
  let lastTimestamp: string | undefined;

  const parseLine = (row: string): Record<string, unknown> & { type: string } => {
    let entry: unknown;
    try {
      entry = JSON.parse(row);
    } catch (error) {
      throw new InvalidLine(`not valid JSON (${describeError(error)})`);
    }
    if (!isObject(entry))
      throw new InvalidLine(
        `not a JSON object but ${entry === null ? 'null' : Array.isArray(entry) ? 'an array' : typeof entry}`,
      );
    if (typeof entry.type !== 'string')
      throw new InvalidLine('no "type" field (every Claude Code log line has one)');
    return entry as Record<string, unknown> & { type: string };
  };

  const convertLine = (
    entry: Record<string, unknown> & { type: string },
    line: number,
  ): MessageInput | null => {
    const metadata = facts(entry, line);
    if (typeof entry.timestamp === 'string' && !Number.isNaN(Date.parse(entry.timestamp)))
      lastTimestamp = entry.timestamp;
    const timestamp = lastTimestamp === undefined ? {} : { timestamp: lastTimestamp };
    if (entry.type === 'summary') {
      if (typeof entry.summary !== 'string')
        throw new InvalidLine('a summary line without a "summary" string');
      summaries.push(entry.summary);
      systemMessages++;
      return {
        role: 'system',
        content: `Claude Code session summary: ${entry.summary}`,
        metadata: { claudeCode: metadata },
        ...timestamp,
      };
    }
    if (entry.type === 'system') {
      systemMessages++;
      return { role: 'system', content: systemText(entry), metadata: { claudeCode: metadata }, ...timestamp };
    }
    if (entry.type !== 'user' && entry.type !== 'assistant') {
      ignored.set(entry.type, (ignored.get(entry.type) ?? 0) + 1);
      return null;
    }
    const converted = isObject(entry.message) ? convertContent(entry.message.content, line, ledger) : null;
    if (converted === null)
      throw new InvalidLine(`a ${entry.type} line without "message.content" (a string or a list of blocks)`);
    if (converted.unsupported.length > 0) metadata.unsupportedBlocks = converted.unsupported;
    if (converted.orphans.length > 0) metadata.orphanToolResults = converted.orphans;
    unsupportedBlocks += converted.unsupported.length;
    if (entry.isSidechain === true) sidechainMessages++;
    const orphanOnly = typeof converted.content === 'string' && converted.orphans.length > 0;
    return {
      role: entry.type,
      content: converted.content,
      // orphanToolResult: the compactor reads such a message as tool output, not as prose.
      metadata: { claudeCode: metadata, ...(orphanOnly ? { orphanToolResult: true } : {}) },
      ...timestamp,
    };
  };

  rows.forEach((row, index) => {
    if (row.trim() === '') return;
    const line = index + 1;
    lines++;
    let entry: Record<string, unknown> & { type: string };
    try {
      entry = parseLine(row);
      const message = convertLine(entry, line);
      if (message !== null) messages.push(message);
    } catch (error) {
      if (!(error instanceof InvalidLine)) throw error;
      if (options.skipInvalid) {
        skipped.push({ line, reason: error.message });
        return;
      }
      const cut =
        line === lastLine
          ? ' (it is the last line: the log may have been cut off while Claude Code was writing it)'
          : '';
      throw new SessionError(
        'INVALID_ARGUMENT',
        'cli',
        `${where} line ${line}: ${error.message}${cut}; fix or delete that line, ` +
          `or skip such lines with { skipInvalid: true } (--skip-invalid)`,
        {
          details: { ...(origin === undefined ? {} : { origin }), line },
        },
      );
    }
    // Facts of the session, from any line that has them.
    if (typeof entry.sessionId === 'string') sessionIds.add(entry.sessionId);
    if (typeof entry.version === 'string') versions.add(entry.version);
    if (typeof entry.cwd === 'string') cwd ??= entry.cwd;
    if (typeof entry.gitBranch === 'string' && entry.gitBranch !== '') gitBranch ??= entry.gitBranch;
  });
  if (lines === 0)
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `${where} is empty; give a Claude Code session log (one JSON object per line)`,
    );
  // Lines before the first timestamp (a leading summary) take the first one: times stay in order.
  const first = messages.find((m) => m.timestamp !== undefined)?.timestamp;
  for (const m of messages) {
    if (m.timestamp !== undefined || first === undefined) break;
    m.timestamp = first;
  }

  const [firstSession] = sessionIds;
  return {
    format: 'claude-code',
    source:
      origin ?? (firstSession === undefined ? 'Claude Code log' : `Claude Code session ${firstSession}`),
    messages,
    meta: {
      format: 'claude-code',
      sessionIds: [...sessionIds],
      versions: [...versions],
      summaries,
      ...(cwd === undefined ? {} : { cwd }),
      ...(gitBranch === undefined ? {} : { gitBranch }),
    },
    stats: {
      lines,
      messages: messages.length,
      toolCalls: ledger.toolCalls,
      toolResults: ledger.toolResults,
      pairedResults: ledger.pairedResults,
      orphanResults: ledger.orphanResults,
      unansweredCalls: ledger.unanswered(),
      sidechainMessages,
      systemMessages,
      unsupportedBlocks,
      ignored: Object.fromEntries(ignored),
    },
    skipped,
  };
}

/**
 * Reads a Claude Code session log and converts it with {@link parseClaudeCodeLog}.
 *
 * @param file - path of a `.jsonl` session log.
 * @param options - `skipInvalid` to leave out lines that do not parse.
 * @returns the converted log.
 * @throws SessionError `INVALID_ARGUMENT` when the file does not exist or a line is invalid;
 *   `IO_ERROR` when it cannot be read for another reason.
 * @example
 * ```ts
 * const log = await loadClaudeCodeLog(`${os.homedir()}/.claude/projects/-repo/3f2a.jsonl`);
 * for (const m of log.messages) await runtime.addMessage(id, m);
 * ```
 */
export async function loadClaudeCodeLog(
  file: string,
  options: ClaudeCodeLogOptions = {},
): Promise<ClaudeCodeTranscript> {
  const text = await readInputFile(file, `Claude Code log ${file}`, 'the path of a .jsonl session log');
  return parseClaudeCodeLog(text, file, options);
}
