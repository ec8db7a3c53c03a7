/**
 * @internal The rules that tell a whole archive from a damaged one, and a leftover of an
 * unfinished commit from data that must be kept: pure functions over what the files hold, so
 * that the load, the commit and the repair apply the same ones.
 *
 * - Segments are numbered 1..N with no gap; the checkpoint names N (its `segment`) and the seq of
 *   the last archived message (its `archivedThroughSeq`) and counts the archived messages.
 * - Within and across segments, seqs strictly increase; `firstSeq`/`lastSeq` match the messages.
 * - A segment numbered N+1 is an orphan of a commit that never reached its checkpoint only when
 *   every one of its messages is still live, with the same seq and the same content: then it
 *   holds nothing that is not elsewhere, and the next commit may replace it. Anything else is
 *   kept and reported.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ArchiveSegment, Checkpoint, Message } from '../core/types.js';

const ROLES = new Set(['user', 'assistant', 'system']);

/**
 * @internal Whether `value` is a token count as the stores keep one: a finite number >= 0 (an
 * estimator's calibrated count may be a fraction). The one rule for a stored message's `tokens`,
 * for the counts `recordCounts` takes ({@link countsProblem}), and for the counts of chat.log's
 * count records at load (chat-log-format.ts): a count a store takes is one its load reads back.
 * @example isTokenCount(12.5) // true; isTokenCount(-1), isTokenCount(NaN), isTokenCount(Infinity) // false
 */
export function isTokenCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** @internal What is wrong with a stored message, or null. */
export function messageProblem(value: unknown, options: { tokensOptional?: boolean } = {}): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not an object';
  const m = value as Partial<Message>;
  if (typeof m.seq !== 'number' || !Number.isInteger(m.seq) || m.seq < 0) return 'has no valid "seq"';
  if (typeof m.id !== 'string') return `(seq ${m.seq}) has no "id"`;
  if (typeof m.role !== 'string' || !ROLES.has(m.role)) return `(seq ${m.seq}) has no valid "role"`;
  if (typeof m.timestamp !== 'string') return `(seq ${m.seq}) has no "timestamp"`;
  const counted = m.tokens !== undefined || options.tokensOptional !== true;
  if (counted && !isTokenCount(m.tokens)) return `(seq ${m.seq}) has no valid "tokens"`;
  const content: unknown = m.content;
  const blocksOk =
    Array.isArray(content) &&
    content.every(
      (b) => typeof b === 'object' && b !== null && typeof (b as { type?: unknown }).type === 'string',
    );
  if (typeof content !== 'string' && !blocksOk) return `(seq ${m.seq}) has no valid "content"`;
  if (m.metadata !== undefined && (typeof m.metadata !== 'object' || m.metadata === null))
    return `(seq ${m.seq}) has a "metadata" that is not an object`;
  return null;
}

/**
 * @internal The first problem of a list of stored messages (shape, increasing seqs) with the
 * index of the message, or null.
 */
export function messagesProblem(
  messages: readonly unknown[],
  options: { tokensOptional?: boolean } = {},
): { index: number; problem: string } | null {
  let last = -1;
  for (const [index, message] of messages.entries()) {
    const problem = messageProblem(message, options);
    if (problem !== null) return { index, problem: `message ${index} ${problem}` };
    const seq = (message as Message).seq;
    if (seq <= last) return { index, problem: `message ${index} (seq ${seq}) does not follow seq ${last}` };
    last = seq;
  }
  return null;
}

/**
 * @internal What is wrong with an append of `messages` with the seqs `uncounted` (its option), or
 * null: the store contract's rule for every store. Each message is whole ({@link messageProblem}:
 * among the rest a `tokens` that is a finite number >= 0, an upper bound for an uncounted one),
 * seqs increase within the batch, and each uncounted seq is one of the batch's messages. A store
 * that took a message without a valid count would acknowledge what it cannot load again (the
 * JSON-file store's load refuses such a record, and the session with it); one that took a seq not
 * appended would hold a later message with that seq as uncounted.
 */
export function appendProblem(
  messages: readonly Message[],
  uncounted: readonly number[] = [],
): string | null {
  const problem = messagesProblem(messages);
  if (problem !== null) return problem.problem;
  if (uncounted.length === 0) return null;
  const appended = new Set(messages.map((m) => m.seq));
  for (const seq of uncounted)
    if (!appended.has(seq)) return `uncounted seq ${String(seq)} is not one of the messages appended`;
  return null;
}

/**
 * @internal What is wrong with the counts given to `recordCounts`, or null: the store contract's
 * rule for every store that takes them. Each is a seq (an integer >= 0) and a count (a finite
 * number >= 0), as the JSON-file store's count records hold them: one it took otherwise would be
 * written as a record its load refuses.
 */
export function countsProblem(counts: readonly { seq: number; tokens: number }[]): string | null {
  for (const [i, count] of counts.entries()) {
    if (typeof count !== 'object' || count === null) return `count ${i} is not an object`;
    const { seq, tokens } = count;
    if (!Number.isInteger(seq) || seq < 0) return `count ${i} has no valid "seq"`;
    if (!isTokenCount(tokens)) return `count ${i} (seq ${seq}) has no valid "tokens" (a finite number >= 0)`;
  }
  return null;
}

/** @internal What is wrong with the shape of an archive segment, or null (the loader's check). */
export function segmentShapeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must hold a JSON object';
  const v = value as Partial<ArchiveSegment>;
  if (typeof v.segment !== 'number' || !Array.isArray(v.messages)) return 'needs "segment" and "messages"';
  if (typeof v.checkpointVersion !== 'number') return 'needs "checkpointVersion"';
  if (typeof v.firstSeq !== 'number' || typeof v.lastSeq !== 'number')
    return 'needs "firstSeq" and "lastSeq"';
  if (v.messages.length === 0) return 'holds no message';
  const problem = messagesProblem(v.messages);
  if (problem !== null) return problem.problem;
  const first = v.messages[0]!.seq;
  const last = v.messages[v.messages.length - 1]!.seq;
  if (v.firstSeq !== first || v.lastSeq !== last)
    return `says seqs ${v.firstSeq}..${v.lastSeq} but holds ${first}..${last}`;
  return null;
}

/**
 * @internal What is wrong with segment `number` following `previous` (null for the first), or
 * null. Its shape was checked already.
 */
export function segmentChainProblem(
  segment: ArchiveSegment,
  number: number,
  previous: ArchiveSegment | null,
): string | null {
  if (segment.segment !== number) return `it says it is segment ${segment.segment}`;
  if (previous === null) return null;
  if (segment.firstSeq <= previous.lastSeq)
    return (
      `it starts at seq ${segment.firstSeq}, ` +
      `not after seq ${previous.lastSeq} where segment ${previous.segment} ends`
    );
  if (segment.checkpointVersion <= previous.checkpointVersion)
    return `its checkpoint version ${segment.checkpointVersion} does not follow ${previous.checkpointVersion}`;
  return null;
}

/**
 * @internal What is wrong with a complete archive (segments 1..N read in order, `last` the N-th
 * or null, `count` their messages) against the checkpoint that committed it, or null.
 */
export function archiveTotalsProblem(
  last: ArchiveSegment | null,
  count: number,
  checkpoint: Checkpoint,
): string | null {
  const info = checkpoint.compactionInfo;
  if (last !== null && last.lastSeq !== info.archivedThroughSeq)
    return `the archive ends at seq ${last.lastSeq}, but it says seq ${info.archivedThroughSeq}`;
  if (count !== info.archivedMessages)
    return `the archive holds ${count} messages, but it counts ${info.archivedMessages}`;
  return null;
}

/**
 * @internal Whether `segment` is the leftover of a commit that wrote it and never reached its
 * checkpoint: it is the next segment, not from a later checkpoint version than the next one, and
 * every message in it is still live, same seq and same content. Its version may be below the
 * next one when a checkpoint without a segment (a re-compression) was committed since.
 */
export function isOrphanSegment(
  segment: ArchiveSegment,
  checkpoint: Checkpoint | null,
  live: readonly Message[],
): boolean {
  const committed = checkpoint?.compactionInfo.segment ?? 0;
  if (segment.segment !== committed + 1) return false;
  if (segment.checkpointVersion > (checkpoint?.version ?? 0) + 1) return false;
  if (segment.messages.length === 0) return false;
  const bySeq = new Map(live.map((m) => [m.seq, m]));
  return segment.messages.every((m) => {
    const kept = bySeq.get(m.seq);
    return kept !== undefined && sameMessage(kept, m);
  });
}

/**
 * @internal Live messages at or below `throughSeq` that the archive does not hold identically:
 * dropping them from chat would lose them. `archived` are the archive's messages by seq.
 */
export function notArchived(
  live: readonly Message[],
  throughSeq: number,
  archived: ReadonlyMap<number, Message>,
): Message[] {
  return live.filter((m) => {
    if (m.seq > throughSeq) return false;
    const copy = archived.get(m.seq);
    return copy === undefined || !sameMessage(copy, m);
  });
}

/**
 * @internal Whether two messages hold the same data as stored: compared as JSON values, so that a
 * message held in memory (which may carry keys set to `undefined`) equals its copy on disk.
 */
export function sameMessage(a: Message, b: Message): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

/**
 * @internal What is wrong with the checkpoint a session is created with, or null: it archives
 * nothing (no segment, watermark -1, no archived message), as no archive exists yet. A store that
 * took another would make a session whose every load fails for want of segments never written.
 */
export function initialCheckpointProblem(checkpoint: Checkpoint): string | null {
  const { segment, archivedThroughSeq, archivedMessages } = checkpoint.compactionInfo;
  if (segment === 0 && archivedThroughSeq === -1 && archivedMessages === 0) return null;
  return (
    `a new session's checkpoint archives nothing (segment 0, archivedThroughSeq -1, archivedMessages 0), ` +
    `but this one says segment ${segment}, archivedThroughSeq ${archivedThroughSeq}, ` +
    `archivedMessages ${archivedMessages}`
  );
}

/**
 * @internal What is wrong with archiving `segment` over `live` (the live messages, oldest first),
 * or null: the store contract's rule that a segment holds exactly the live messages from the first
 * one through its last seq, each as appended (its token count aside, a figure recounted later). A
 * store that took any other segment would drop live messages it does not hold, or keep changed
 * copies of them. The segment's shape was checked already (seqs increase).
 */
export function segmentLiveProblem(segment: ArchiveSegment, live: readonly Message[]): string | null {
  for (const [i, held] of segment.messages.entries()) {
    const kept = live[i];
    if (kept === undefined || kept.seq > held.seq)
      return `segment ${segment.segment} holds seq ${held.seq}, which is not a live message`;
    if (kept.seq < held.seq)
      return (
        `segment ${segment.segment} leaves out live seq ${kept.seq}, which archiving it would drop; a ` +
        'segment holds every live message from the first one through its last seq'
      );
    if (!sameBesidesTokens(kept, held))
      return `segment ${segment.segment} holds seq ${held.seq} with other data than the live message`;
  }
  return null;
}

function sameBesidesTokens(a: Message, b: Message): boolean {
  if (a === b) return true;
  const x = { ...a, tokens: 0 };
  const y = { ...b, tokens: 0 };
  // Equal as they are (the common case, no copy), or as stored (keys set to undefined dropped).
  return isDeepStrictEqual(x, y) || sameMessage(x, y);
}

/**
 * @internal What is wrong with committing `segment` (or none) and `checkpoint` over the current
 * checkpoint, or null: the store contract's rule for every store. The version must increase; a
 * segment must be the next one, and the checkpoint must commit it (its number and last seq); a
 * commit without one must keep the committed segment count.
 */
export function commitProblem(
  current: Checkpoint | null,
  segment: ArchiveSegment | null,
  checkpoint: Checkpoint,
): string | null {
  const info = checkpoint.compactionInfo;
  const committed = current?.compactionInfo.segment ?? 0;
  if (current !== null && !(checkpoint.version > current.version))
    return `checkpoint version ${checkpoint.version} does not follow the committed version ${current.version}`;
  if (segment === null) {
    return info.segment === committed
      ? null
      : `the checkpoint names segment ${info.segment}, but ${committed} is committed and no segment is given`;
  }
  if (segment.segment !== committed + 1)
    return `segment ${segment.segment} does not follow the committed segment ${committed}`;
  if (info.segment !== segment.segment || info.archivedThroughSeq !== segment.lastSeq)
    return (
      `the checkpoint (segment ${info.segment}, through seq ${info.archivedThroughSeq}) does not commit ` +
      `segment ${segment.segment} (through seq ${segment.lastSeq})`
    );
  return segmentShapeProblem(segment);
}
