/**
 * @internal `getHistory`: the whole history, or a page of it, from the session's live messages
 * (held in memory) and the store's archive pages (immutable segments, which a store may cache).
 *
 * The live messages are looked at first and the archive read below the first of them: a
 * compaction that commits in between moves messages from live to the archive, and they are then
 * taken from the live messages looked at, never twice and never missed.
 */
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { Message } from '../core/types.js';
import type { SessionStore } from '../store/contract.js';
import type { SessionHandle } from './session-handle.js';

/**
 * A page of history: messages with `after < seq < before`, at most `limit`, newest first unless
 * `order: 'asc'`. Seqs number every message of a session from 0, so `before` of the next page is
 * the seq of the last message of this one. A name that is none of these is refused with
 * `INVALID_ARGUMENT` (a misspelt `limt` would else return the whole history).
 */
export interface HistoryQuery {
  after?: number;
  before?: number;
  limit?: number;
  order?: 'asc' | 'desc';
}

/** @internal Whether `value` looks like a {@link SessionStore} (the methods the runtime calls). */
export function isStore(value: unknown): value is SessionStore {
  const s = value as Partial<Record<keyof SessionStore, unknown>> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    ['list', 'presence', 'create', 'load', 'append', 'commit', 'readArchive', 'readSegment'].every(
      (name) => typeof s[name as keyof SessionStore] === 'function',
    )
  );
}

/** @internal The names of a {@link HistoryQuery}'s options (the IPC check refuses any other). */
export const QUERY_NAMES = optionNames({
  after: true,
  before: true,
  limit: true,
  order: true,
} satisfies Record<keyof HistoryQuery, true>);

function assertQuery(query: HistoryQuery, id: string): void {
  const bad = (what: string) =>
    new SessionError('INVALID_ARGUMENT', 'runtime', `getHistory(${id}): ${what}`, {
      details: { sessionId: id },
    });
  if (typeof query !== 'object' || query === null) throw bad('options must be an object');
  // A misspelt `limt` would otherwise return the whole history, however long.
  checkOptionNames(query, QUERY_NAMES, bad);
  for (const name of ['after', 'before'] as const) {
    const value = query[name];
    if (value !== undefined && !Number.isInteger(value)) throw bad(`${name} must be an integer seq`);
  }
  if (query.limit !== undefined && !(Number.isInteger(query.limit) && query.limit >= 1))
    throw bad('limit must be an integer >= 1');
  if (query.order !== undefined && query.order !== 'asc' && query.order !== 'desc')
    throw bad('order must be "asc" or "desc"');
}

/**
 * @internal The history of a loaded session: every message oldest first without a query; the
 * page of `query` otherwise (newest first by default). A new array of the messages themselves:
 * they are deep-frozen (live ones by the session handle, archived ones by the store), so nobody
 * can change them and a read copies nothing.
 */
export async function historyOf(
  dir: SessionHandle,
  query: HistoryQuery | undefined,
  id: string,
): Promise<Message[]> {
  if (query === undefined) {
    // The whole history: the store reads (and checks) the whole archive.
    const live = dir.messages;
    const firstLive = live[0]?.seq ?? Number.MAX_SAFE_INTEGER;
    const archived = (await dir.readArchive()).messages.filter((m) => m.seq < firstLive);
    return [...archived, ...live];
  }
  assertQuery(query, id);
  const after = query.after ?? -1;
  const before = query.before ?? Number.MAX_SAFE_INTEGER;
  const limit = query.limit ?? Number.MAX_SAFE_INTEGER;
  const desc = query.order !== 'asc';
  const live = dir.messages; // the array held now; a commit replaces it, an append extends it
  const firstLive = live[0]?.seq ?? Number.MAX_SAFE_INTEGER;
  const liveInRange = live.filter((m) => m.seq > after && m.seq < before);
  const archiveBefore = Math.min(before, firstLive);
  const fromArchive = async (count: number) =>
    count <= 0 || archiveBefore <= after + 1
      ? []
      : (await dir.readArchive({ after, before: archiveBefore, limit: count, order: desc ? 'desc' : 'asc' }))
          .messages;
  if (desc) {
    const newest = liveInRange.slice(-limit).reverse();
    return [...newest, ...(await fromArchive(limit - newest.length))];
  }
  const archived = await fromArchive(limit);
  return [...archived, ...liveInRange.slice(0, limit - archived.length)];
}
