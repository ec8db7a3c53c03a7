/**
 * The token timeline's data: the request size as each message arrived, rebuilt from the messages'
 * own counts and the commits' figures (every checkpoint version keeps `tokensBefore` and
 * `tokensAfter`). Pure.
 *
 * Between two commits the request grows by each message's tokens; a commit (placed after the last
 * message written before it) brings it to its `tokensAfter`. The fixed part (agent description,
 * context, reply reserve) is today's, so older points are estimates; the commits' figures are the
 * ones measured when they ran.
 */
import { isInternalMessage } from '../core/request-size.js';
import type { Message } from '../core/types.js';
import type { CompactionRecord } from './compactions.js';

/**
 * One point of the line: the request size once message `seq` was added.
 * @example const p: TimelinePoint = { seq: 12, tokens: 8_400 };
 */
export interface TimelinePoint {
  seq: number;
  tokens: number;
}

/**
 * A commit on the timeline: after message `afterSeq`, the request went from `before` to `after`.
 * @example const m: TimelineMark = { afterSeq: 40, before: 9_800, after: 2_100, record };
 */
export interface TimelineMark {
  afterSeq: number;
  before: number;
  after: number;
  record: CompactionRecord;
}

/**
 * The points and the commit marks of a session's timeline.
 *
 * @param messages - Every message, oldest first (any order is sorted).
 * @param records - Commits with their figures (records without `tokensAfter` or `at` are skipped).
 * @param fixedTokens - The request's part that is not messages nor checkpoint (description, context, reply reserve).
 * @returns Points (one per message) and marks (one per commit), in seq order.
 * @example
 * ```ts
 * const { agentDescription, context, replyReserve } = estimate.breakdown;
 * const { points, marks } = tokenTimeline(history, records, agentDescription + context + replyReserve);
 * ```
 */
export function tokenTimeline(
  messages: readonly Message[],
  records: readonly CompactionRecord[],
  fixedTokens: number,
): { points: TimelinePoint[]; marks: TimelineMark[] } {
  const sorted = [...messages].sort((a, b) => a.seq - b.seq);
  const commits = records
    .filter((r) => r.at !== null && r.tokensAfter !== null && r.kind !== 'earlier')
    .sort((a, b) => a.at!.localeCompare(b.at!) || a.checkpointVersion - b.checkpointVersion);
  const points: TimelinePoint[] = [];
  const marks: TimelineMark[] = [];
  let tokens = fixedTokens;
  let next = 0;
  let lastSeq = -1;
  const applyUntil = (time: string | null) => {
    while (next < commits.length && (time === null || commits[next]!.at! <= time)) {
      const r = commits[next++]!;
      marks.push({ afterSeq: lastSeq, before: r.tokensBefore ?? tokens, after: r.tokensAfter!, record: r });
      tokens = r.tokensAfter!;
    }
  };
  for (const m of sorted) {
    applyUntil(m.timestamp);
    if (!isInternalMessage(m)) tokens += m.tokens;
    points.push({ seq: m.seq, tokens });
    lastSeq = m.seq;
  }
  applyUntil(null);
  return { points, marks };
}

/**
 * At most `buckets` points that keep the line's shape: the highest point of each bucket of seqs
 * (a request's peak is what matters against the limit).
 * @example downsample(points, 600).length <= 600
 */
export function downsample(points: readonly TimelinePoint[], buckets: number): TimelinePoint[] {
  if (points.length <= buckets) return [...points];
  const size = points.length / buckets;
  const out: TimelinePoint[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (slice.length === 0) continue;
    out.push(slice.reduce((best, p) => (p.tokens > best.tokens ? p : best)));
  }
  return out;
}
