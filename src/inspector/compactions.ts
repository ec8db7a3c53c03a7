/**
 * The compaction history and the cut points of the history view, derived from what the
 * `SessionAPI` exposes. Pure.
 *
 * The API gives the current checkpoint (whose `compactionInfo` describes the compaction, clear or
 * reset that produced it) and the whole history as one list; it does not expose the archive's
 * segments one by one. So the figures of every compaction are known only for those the page saw
 * happen (`session.compaction.completed` events) and for the latest one; the cut point of the
 * one before the latest is derived too (the archive holds seq 0..N with no gap, so the previous
 * watermark is `archivedThroughSeq - messagesCompacted`). Older cut points are not derivable.
 */
import type { Checkpoint, Message } from '../core/types.js';
import type { SessionEvent } from '../runtime/events.js';

/**
 * One commit that moved messages to the archive, as far as the page knows it.
 * @example const record: CompactionRecord = recordsFromCheckpoint(checkpoint)[0]!;
 */
export interface CompactionRecord {
  /** The checkpoint version it produced (each compaction, clear or reset adds one). */
  checkpointVersion: number;
  /** `compaction`, `clear`, `reset`, or `earlier` for a cut derived without its figures. */
  kind: 'compaction' | 'clear' | 'reset' | 'earlier';
  /** Seq of the last message it archived: the history is cut after this message. */
  throughSeq: number;
  /** When it committed (ISO), when known. */
  at: string | null;
  compactor: string | null;
  tokensBefore: number | null;
  tokensAfter: number | null;
  messagesCompacted: number | null;
  durationMs: number | null;
  /** Where the figures come from: a live event, the checkpoint, or derivation. */
  source: 'event' | 'checkpoint' | 'derived';
}

/**
 * A separator of the history view: the archive was cut after message `afterSeq`.
 * @example const cut: CutPoint = { afterSeq: 41, label: 'Compaction (checkpoint v2) cut here', record };
 */
export interface CutPoint {
  afterSeq: number;
  label: string;
  record: CompactionRecord;
}

/**
 * One row of the history view: a message (archived or live) or a cut.
 * @example items.filter((i) => i.kind === 'message' && i.archived).length
 */
export type HistoryItem =
  { kind: 'message'; message: Message; archived: boolean } | { kind: 'cut'; cut: CutPoint };

const KIND_LABEL: Record<CompactionRecord['kind'], string> = {
  compaction: 'Compaction',
  clear: 'Clear',
  reset: 'Reset',
  earlier: 'Earlier compaction or clear',
};
const SOURCE_RANK: Record<CompactionRecord['source'], number> = { event: 2, checkpoint: 1, derived: 0 };

/**
 * The records a checkpoint tells of: the commit that produced it and, when it archived
 * messages after an earlier one, the earlier one's cut (figures unknown). `[]` for no checkpoint
 * or one that archived nothing (version 0: only checks recorded).
 * @example recordsFromCheckpoint(await api.getCheckpoint(id))
 */
export function recordsFromCheckpoint(checkpoint: Checkpoint | null): CompactionRecord[] {
  if (!checkpoint || checkpoint.version < 1) return [];
  const info = checkpoint.compactionInfo;
  const kind = info.compactor === 'clear' || info.compactor === 'reset' ? info.compactor : 'compaction';
  const latest: CompactionRecord = {
    checkpointVersion: checkpoint.version,
    kind,
    throughSeq: info.archivedThroughSeq,
    at: checkpoint.updatedAt,
    compactor: info.compactor,
    tokensBefore: info.tokensBefore,
    tokensAfter: info.tokensAfter,
    messagesCompacted: info.messagesCompacted,
    durationMs: info.durationMs,
    source: 'checkpoint',
  };
  const previousSeq = info.archivedThroughSeq - info.messagesCompacted;
  if (checkpoint.version < 2 || info.messagesCompacted < 1 || previousSeq < 0) return [latest];
  const earlier: CompactionRecord = {
    checkpointVersion: checkpoint.version - 1,
    kind: 'earlier',
    throughSeq: previousSeq,
    at: null,
    compactor: null,
    tokensBefore: null,
    tokensAfter: null,
    messagesCompacted: null,
    durationMs: null,
    source: 'derived',
  };
  return [earlier, latest];
}

/**
 * The record of a `session.compaction.completed` event (with its real figures); null for any
 * other event, and for a compaction that found nothing to fold.
 * @example api.onEvent((e) => { const r = recordFromEvent(e); if (r) records = mergeRecords(records, [r]); })
 */
export function recordFromEvent(event: SessionEvent): CompactionRecord | null {
  if (event.type !== 'session.compaction.completed' || event.result.kind !== 'compacted') return null;
  return {
    checkpointVersion: event.checkpointVersion,
    kind: 'compaction',
    throughSeq: event.result.archivedThroughSeq,
    at: event.at,
    compactor: event.compactor,
    tokensBefore: event.tokensBefore,
    tokensAfter: event.tokensAfter,
    messagesCompacted: event.messagesCompacted,
    durationMs: event.durationMs,
    source: 'event',
  };
}

/**
 * Merges two lists of records into one, one record per checkpoint version, oldest first. For a
 * version in both, the better source (event over checkpoint over derived) wins, and a figure it
 * lacks is taken from the other.
 * @example mergeRecords(known, recordsFromCheckpoint(checkpoint))
 */
export function mergeRecords(
  a: readonly CompactionRecord[],
  b: readonly CompactionRecord[],
): CompactionRecord[] {
  const byVersion = new Map<number, CompactionRecord>();
  for (const record of [...a, ...b]) {
    const other = byVersion.get(record.checkpointVersion);
    if (!other) {
      byVersion.set(record.checkpointVersion, record);
      continue;
    }
    const [best, rest] =
      SOURCE_RANK[record.source] > SOURCE_RANK[other.source] ? [record, other] : [other, record];
    byVersion.set(record.checkpointVersion, {
      ...best,
      kind: best.kind === 'earlier' ? rest.kind : best.kind,
      at: best.at ?? rest.at,
      compactor: best.compactor ?? rest.compactor,
      tokensBefore: best.tokensBefore ?? rest.tokensBefore,
      tokensAfter: best.tokensAfter ?? rest.tokensAfter,
      messagesCompacted: best.messagesCompacted ?? rest.messagesCompacted,
      durationMs: best.durationMs ?? rest.durationMs,
    });
  }
  return [...byVersion.values()].sort((x, y) => x.checkpointVersion - y.checkpointVersion);
}

/**
 * The cut points of these records in seq order: one per distinct `throughSeq` (records with
 * `throughSeq < 0` archived nothing); of two records cutting at the same seq (a reset that
 * archived nothing), the later version names the cut.
 * @example cutPoints(records).map((c) => c.afterSeq) // [12, 40]
 */
export function cutPoints(records: readonly CompactionRecord[]): CutPoint[] {
  const bySeq = new Map<number, CompactionRecord>();
  for (const record of [...records].sort((x, y) => x.checkpointVersion - y.checkpointVersion)) {
    if (record.throughSeq >= 0) bySeq.set(record.throughSeq, record);
  }
  return [...bySeq.entries()]
    .sort(([x], [y]) => x - y)
    .map(([afterSeq, record]) => ({
      afterSeq,
      record,
      label: `${KIND_LABEL[record.kind]} (checkpoint v${record.checkpointVersion}) cut here`,
    }));
}

/**
 * The history view's rows: every message in seq order, marked archived when its seq is at or
 * below `archivedThroughSeq`, with a cut row after each message a {@link CutPoint} names.
 * @param history - What `api.getHistory(id)` (or `api.export(id).history`) answered.
 * @param records - The known compaction records.
 * @param archivedThroughSeq - The session's watermark (`SessionInfo.archivedThroughSeq`), -1 before any.
 * @example historyWithCuts(history, records, info.archivedThroughSeq)
 */
export function historyWithCuts(
  history: readonly Message[],
  records: readonly CompactionRecord[],
  archivedThroughSeq: number,
): HistoryItem[] {
  const cuts = new Map(cutPoints(records).map((cut) => [cut.afterSeq, cut]));
  const items: HistoryItem[] = [];
  for (const message of [...history].sort((x, y) => x.seq - y.seq)) {
    items.push({ kind: 'message', message, archived: message.seq <= archivedThroughSeq });
    const cut = cuts.get(message.seq);
    if (cut) items.push({ kind: 'cut', cut });
  }
  return items;
}
