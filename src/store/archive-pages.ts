/**
 * @internal Pages of an archive from its segments, for any store that keeps segments (the
 * JSON-file store, the memory store): the segments are sorted by seq, so the first one a page
 * needs is found by a binary search over segment numbers, and only the segments the page covers
 * are read. Consecutive segments read for a page are checked to continue each other.
 */
import { SessionError } from '../core/errors.js';
import type { ArchiveSegment, Message } from '../core/types.js';
import { segmentChainProblem } from './archive-rules.js';
import type { ArchivePage, ArchiveQuery } from './contract.js';

/** @internal How a page reads segments: 1..`count`, each present (a store throws for a missing one). */
export interface SegmentSource {
  count: number;
  archivedThroughSeq: number;
  read(n: number): Promise<ArchiveSegment>;
  /** The error for segments that do not continue each other. */
  broken(n: number, problem: string): Error;
}

/** @internal Checks a query: seqs and limit must be integers (limit >= 1). */
export function assertArchiveQuery(query: ArchiveQuery, where: string): void {
  const bad = (name: string, value: unknown) =>
    new SessionError(
      'INVALID_ARGUMENT',
      'store',
      `${where}: ${name} must be an integer, got ${String(value)}`,
    );
  for (const name of ['after', 'before'] as const) {
    const value = query[name];
    if (value !== undefined && !Number.isInteger(value)) throw bad(name, value);
  }
  if (query.limit !== undefined && !(Number.isInteger(query.limit) && query.limit >= 1))
    throw bad('limit (>= 1)', query.limit);
  if (query.order !== undefined && query.order !== 'asc' && query.order !== 'desc')
    throw new SessionError('INVALID_ARGUMENT', 'store', `${where}: order must be "asc" or "desc"`);
}

/** @internal The page of `query` (see {@link ArchiveQuery}) from `source`. */
export async function readArchivePage(source: SegmentSource, query: ArchiveQuery = {}): Promise<ArchivePage> {
  const after = query.after ?? -1;
  const before = query.before ?? Number.MAX_SAFE_INTEGER;
  const limit = query.limit ?? Number.MAX_SAFE_INTEGER;
  const desc = query.order === 'desc';
  const page: Message[] = [];
  let more = false;
  if (source.count === 0 || after + 1 >= before)
    return { messages: [], more, archivedThroughSeq: source.archivedThroughSeq };
  const inRange = (m: Message) => m.seq > after && m.seq < before;
  // The first segment to read: the oldest ending after `after` (asc), the newest starting before `before` (desc).
  let n = desc
    ? await search(source, (s) => s.firstSeq < before, 'last')
    : await search(source, (s) => s.lastSeq > after, 'first');
  let previous: ArchiveSegment | null = null;
  while (n >= 1 && n <= source.count) {
    const segment = await source.read(n);
    if (previous !== null) {
      const [older, newer] = desc ? [segment, previous] : [previous, segment];
      const problem = segmentChainProblem(newer, newer.segment, older);
      if (problem !== null) throw source.broken(newer.segment, problem);
    }
    previous = segment;
    const messages = segment.messages.filter(inRange);
    if (desc) messages.reverse();
    for (const m of messages) {
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(m);
    }
    if (more) break;
    if (desc ? segment.firstSeq <= after + 1 : segment.lastSeq >= before - 1) break;
    n += desc ? -1 : 1;
  }
  return { messages: page, more, archivedThroughSeq: source.archivedThroughSeq };
}

/**
 * The first (or last) segment number for which `test` holds, given that it holds for a suffix
 * (`first`) or a prefix (`last`) of the segments; 0 or count + 1 when for none.
 */
async function search(
  source: SegmentSource,
  test: (segment: ArchiveSegment) => boolean,
  which: 'first' | 'last',
): Promise<number> {
  let lo = 1;
  let hi = source.count;
  let found = which === 'first' ? source.count + 1 : 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const holds = test(await source.read(mid));
    if (which === 'first') {
      if (holds) {
        found = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    } else if (holds) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
