/**
 * Reads a conversation file of either format the CLI imports: the shared-transcripts JSON
 * (`{ source, messages: [{ role, content, toolName? }] }`) or a Claude Code session log (`.jsonl`,
 * one JSON object per line), telling them apart by name and content.
 */
import { SessionError, describeError } from '../core/errors.js';
import type { SessionKey } from '../core/types.js';
import { parseClaudeCodeLog, type ClaudeCodeLogStats, type SkippedLine } from './claude-code-log.js';
import { isSessionExport, parseSessionExport } from './session-export.js';
import { parseTranscript, type Transcript } from './transcript.js';
import { readInputFile } from './read-input-file.js';

/**
 * The formats {@link readTranscriptFile} reads: the shared-transcripts JSON, a Claude Code log, or
 * a session export (what `dagent-sessions export` writes).
 * @example const format: TranscriptFormat = 'claude-code';
 */
export type TranscriptFormat = 'transcript' | 'claude-code' | 'session-export';

/**
 * A conversation file, read and converted.
 * @example const { format, transcript, stats }: TranscriptFile = await readTranscriptFile('session.jsonl');
 */
export interface TranscriptFile {
  format: TranscriptFormat;
  transcript: Transcript;
  /** Claude Code logs only: what the conversion found. */
  stats?: ClaudeCodeLogStats;
  /** Claude Code logs only: lines left out with `skipInvalid`. */
  skipped?: SkippedLine[];
  /** Session exports only: the key of the exported session. */
  key?: SessionKey;
}

/**
 * Which format `text` is in: `claude-code` for a `.jsonl` name or JSON lines whose objects have
 * a `type`; `transcript` for one JSON object with a `messages` list; `session-export` for one with
 * a `history` list and a `session`.
 *
 * @param text - the file's text.
 * @param file - its name (the `.jsonl` extension decides).
 * @returns the format.
 * @throws SessionError `INVALID_ARGUMENT` when it is neither.
 * @example
 * detectTranscriptFormat('{"type":"user","message":{"role":"user","content":"hi"}}\n', 'a.txt') // 'claude-code'
 */
export function detectTranscriptFormat(text: string, file = 'the file'): TranscriptFormat {
  if (/\.jsonl$/i.test(file)) return 'claude-code';
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(whole) && Array.isArray(whole.messages)) return 'transcript';
  if (isSessionExport(whole)) return 'session-export';
  const first = text.split(/\r?\n/).find((row) => row.trim() !== '');
  try {
    const entry: unknown = first === undefined ? undefined : JSON.parse(first);
    if (isObject(entry) && typeof entry.type === 'string') return 'claude-code';
  } catch {
    // neither
  }
  throw new SessionError(
    'INVALID_ARGUMENT',
    'cli',
    `${file} is neither a transcript JSON ({ "source", "messages": ` +
      `[{ "role", "content", "toolName"? }] }), a session export ({ "session", "history" }) nor a Claude ` +
      'Code session log (.jsonl: one JSON object with a "type" per line); pass --format transcript, ' +
      'session-export or claude-code to say which',
    { details: { origin: file } },
  );
}

/**
 * Reads a conversation file in either format.
 *
 * @param file - path of the file.
 * @param options - `format` (default `auto`: {@link detectTranscriptFormat}); `skipInvalid` for
 *   Claude Code logs (leave out lines that do not parse).
 * @returns the format, the transcript, and for Claude Code logs the stats and skipped lines.
 * @throws SessionError `INVALID_ARGUMENT` for a missing file or content of neither format (naming
 *   the line or field that is wrong); `IO_ERROR` when it cannot be read.
 * @example
 * ```ts
 * const { format, transcript } = await readTranscriptFile('session.jsonl');
 * ```
 */
export async function readTranscriptFile(
  file: string,
  options: { format?: TranscriptFormat | 'auto'; skipInvalid?: boolean } = {},
): Promise<TranscriptFile> {
  const text = await readInputFile(file, file, 'the path of a transcript .json or a Claude Code .jsonl');
  const format =
    options.format === undefined || options.format === 'auto'
      ? detectTranscriptFormat(text, file)
      : options.format;
  if (format === 'claude-code') {
    const log = parseClaudeCodeLog(text, file, { skipInvalid: options.skipInvalid === true });
    const { stats, skipped, format: _format, ...transcript } = log;
    return { format, transcript, stats, skipped };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `transcript ${file}: not valid JSON (${describeError(error)}); expected { "source", "messages": [...] }`,
      {
        cause: error,
        details: { origin: file },
      },
    );
  }
  if (format === 'session-export') {
    const { transcript, key } = parseSessionExport(json, file);
    return { format, transcript, key };
  }
  return { format, transcript: parseTranscript(json, file) };
}
