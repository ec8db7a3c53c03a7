/**
 * Reads back what `dagent-sessions export` (`runtime.exportSession`) wrote, so that a session can
 * be exported from one root and imported into another: every message of its history, in order,
 * with its role, content, timestamp and metadata as they were.
 */
import { SessionError, describeError } from '../core/errors.js';
import { validateKey } from '../core/ids.js';
import type { MessageInput, SessionKey } from '../core/types.js';
import type { Transcript } from './transcript.js';

/**
 * A session export read back: its messages as a transcript, and the key of the exported session.
 * @example const { transcript, key } = parseSessionExport(JSON.parse(text), 'f1.json');
 */
export interface SessionExportFile {
  transcript: Transcript;
  /** The exported session's key: where an import puts the messages unless told otherwise. */
  key: SessionKey;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether `json` has the shape of a session export: `{ session: { key }, history: [...] }`.
 * @example isSessionExport({ exportedAt: '...', session: { id, key }, history: [] }) // true
 */
export function isSessionExport(json: unknown): json is Record<string, unknown> {
  return isRecord(json) && Array.isArray(json.history) && isRecord(json.session);
}

/**
 * The messages of a session export, as inputs of `addMessage`: `role`, `content`, `timestamp`
 * and `metadata` as exported (ids, seqs, token counts and idempotency keys belong to the
 * exported session and are left out). The messages themselves are checked by the caller
 * (`validateMessageInput`), as every import's are.
 *
 * @param json - the parsed export.
 * @param origin - the file it came from, for messages.
 * @returns the transcript (source `export of <id>`) and the exported session's key.
 * @throws SessionError `INVALID_ARGUMENT` naming the field or history index that is wrong.
 * @example
 * ```ts
 * const { transcript, key } = parseSessionExport(JSON.parse(await readFile('f1.json', 'utf8')), 'f1.json');
 * ```
 */
export function parseSessionExport(json: unknown, origin: string): SessionExportFile {
  const invalid = (what: string) =>
    new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `session export ${origin}: ${what}; expected what "dagent-sessions export" writes: ` +
        '{ session: { id, key }, history: [{ role, content, timestamp?, metadata? }] }',
      { details: { origin } },
    );
  if (!isSessionExport(json)) throw invalid('not a session export');
  const session = json.session as Record<string, unknown>;
  let key: SessionKey;
  try {
    key = validateKey(session.key);
  } catch (error) {
    throw invalid(
      `session.key is not a session key (${describeError(error).replace(/^\[dagent-sessions\] \[[a-z]+\] /, '')})`,
    );
  }
  const messages = (json.history as unknown[]).map((entry, i): MessageInput => {
    if (!isRecord(entry)) throw invalid(`history[${i}] is not an object`);
    const { role, content, timestamp, metadata } = entry;
    return {
      role: role as MessageInput['role'],
      content: content as MessageInput['content'],
      ...(timestamp === undefined ? {} : { timestamp: timestamp as string }),
      ...(metadata === undefined ? {} : { metadata: metadata as Record<string, unknown> }),
    };
  });
  const id = typeof session.id === 'string' ? session.id : 'a session';
  return { transcript: { source: `export of ${id}`, messages }, key };
}
