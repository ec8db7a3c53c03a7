/**
 * @internal What a repair writes in place of a lost session.json or checkpoint.json: pure
 * builders from what the other files still hold. Nothing here loses a message: the archive and
 * chat are the data; these two files only describe them.
 */
import type { ArchiveSegment, Checkpoint, SessionKey, SessionRecord } from '../core/types.js';

/**
 * @internal A session.json for `id`, derived from its key. The figures start at zero: they are
 * derivable and recomputed at the next close (a count below the real one is never a false alarm).
 */
export function rebuiltRecord(
  id: string,
  key: SessionKey,
  schemaVersion: number,
  earliest: string | null,
  now: string,
): SessionRecord {
  return {
    schemaVersion,
    id,
    key,
    createdAt: earliest ?? now,
    updatedAt: now,
    status: 'active',
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
  };
}

/**
 * @internal A checkpoint that commits every segment of `segments` (1..N, checked, in order). The
 * summary, checks and creation time of `current` are kept when there is one (a checkpoint older
 * than its archive); without one the summary starts empty. Its version is past both.
 */
export function rebuiltCheckpoint(
  current: Checkpoint | null,
  segments: readonly ArchiveSegment[],
  now: string,
): Checkpoint {
  const last = segments[segments.length - 1];
  let messages = 0;
  let tokens = 0;
  for (const segment of segments) {
    messages += segment.messages.length;
    for (const m of segment.messages) tokens += m.tokens;
  }
  const version = Math.max(current?.version ?? 0, last?.checkpointVersion ?? 0);
  return {
    version: last ? version : (current?.version ?? 0),
    createdAt: current?.createdAt ?? segments[0]?.createdAt ?? now,
    updatedAt: now,
    summary: current?.summary ?? { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] },
    ...(current?.checks ? { checks: current.checks } : {}),
    compactionInfo: {
      compactor: 'repair',
      messagesCompacted: 0,
      archivedThroughSeq: last ? last.lastSeq : -1,
      segment: last ? last.segment : 0,
      tokensBefore: 0,
      tokensAfter: 0,
      durationMs: 0,
      chunks: 0,
      escalation: 0,
      archivedMessages: messages,
      archivedTokens: tokens,
    },
    tokens: current?.tokens ?? 0,
  };
}
