/**
 * @internal The exclusive handlers of the `session` object: the writes of the store contract on
 * the layout of session-state.ts. Each validates everything before its first write (a terminal
 * failure does not take writes back: docs/restate.md, fact 1), writes new keys first and `head`
 * last. A handler cut by a crash is retried by Restate and replays its journal, so it finishes.
 */
import type * as restate from '@restatedev/restate-sdk';
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import { emptyCheckpoint } from '../compaction/run-clear.js';
import { SessionError } from '../core/errors.js';
import type {
  AgentDescription,
  CheckResult,
  Checkpoint,
  Message,
  SessionContext,
  SessionRecord,
} from '../core/types.js';
import { countPart } from '../runtime/fixed-counts.js';
import { isInternalMessage } from '../core/request-size.js';
import { commitProblem, initialCheckpointProblem, messagesProblem } from '../store/archive-rules.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import type { ArchiveSegment } from '../core/types.js';
import type { CommitResult, InitialFiles, SessionCounts } from '../store/contract.js';
import { assertMessageSize } from './limits.js';
import { currentCheckpoint, readHead, type StoredMessage } from './session-reads.js';
import {
  KEYS,
  REMEMBERED_COMMITS,
  newHead,
  type CommitCall,
  type HeadState,
  type SegmentState,
} from './session-state.js';

type Ctx = restate.ObjectContext;

const EPOCH = new Date(0).toISOString();
const NO_COUNTS: SessionCounts = { description: null, context: null, checkpoint: null };

function invalid(
  id: string,
  message: string,
  code: 'INVALID_ARGUMENT' | 'INVALID_MESSAGE' = 'INVALID_ARGUMENT',
) {
  return new SessionError(code, 'store', `session ${id}: ${message}; nothing was written`);
}

function assertCheckpoint(id: string, checkpoint: Checkpoint): void {
  const problems = checkpointProblems(checkpoint);
  if (problems.length > 0)
    throw invalid(id, `refusing a checkpoint that could not be loaded again (${problems.join('; ')})`);
}

/**
 * What is wrong with a commit call, or null: the contract's `commitProblem`, on the segment's
 * range (its messages are the object's own; the client checked their shape before sending).
 */
function commitCallProblem(current: Checkpoint | null, call: CommitCall): string | null {
  if (call.segment === null) return commitProblem(current, null, call.checkpoint);
  const { messageCount: _count, ...meta } = call.segment;
  // Two stand-ins for the first and last message carry the range through the shared rule.
  const stand = (seq: number): Message => ({
    id: `seq-${seq}`,
    seq,
    role: 'user',
    content: '',
    timestamp: EPOCH,
    tokens: 0,
  });
  const ends =
    meta.firstSeq === meta.lastSeq ? [stand(meta.firstSeq)] : [stand(meta.firstSeq), stand(meta.lastSeq)];
  const segment: ArchiveSegment = { ...meta, messages: ends };
  return commitProblem(current, segment, call.checkpoint);
}

let estimator: TokenEstimator | undefined;
/** The counter of this process (cl100k_base, loaded on first use): the same counts as the runtime's default. */
export const estimatorOf = (): TokenEstimator => (estimator ??= createTokenEstimator());

/** @internal Refuses a change to an archived session. */
export function archivedError(id: string): SessionError {
  return new SessionError(
    'SESSION_ARCHIVED',
    'runtime',
    `session ${id} is archived: it can be read and exported, not changed; create a new session for new work`,
    { details: { sessionId: id } },
  );
}

/** @internal Throws SESSION_ARCHIVED for an archived session. */
export async function assertWritable(ctx: Ctx, id: string, head: HeadState): Promise<void> {
  // Heads written before `archived` was kept read the record once.
  const archived = head.archived ?? (await ctx.get<SessionRecord>(KEYS.record))?.status === 'archived';
  if (archived) throw archivedError(id);
}

function bump(head: HeadState): HeadState {
  return { ...head, version: head.version + 1 };
}

/** Creates the session; refuses one that exists. */
export async function createSession(
  ctx: Ctx,
  args: { record: SessionRecord; files?: InitialFiles },
): Promise<void> {
  const { record, files = {} } = args;
  if ((await ctx.get<HeadState>(KEYS.head)) !== null) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'store',
      `session ${record.id} exists already; load it instead`,
      {
        details: { sessionId: record.id, exists: true },
      },
    );
  }
  if (files.checkpoint) {
    assertCheckpoint(record.id, files.checkpoint);
    const problem = initialCheckpointProblem(files.checkpoint);
    if (problem !== null) throw invalid(record.id, problem);
  }
  ctx.set(KEYS.record, record);
  ctx.set(KEYS.context, files.context ?? null);
  ctx.set(KEYS.description, files.agentDescription ?? null);
  ctx.set(KEYS.counts, { ...NO_COUNTS, ...files.counts });
  if (files.checkpoint) ctx.set(KEYS.version(files.checkpoint.version), files.checkpoint);
  ctx.set(KEYS.head, {
    ...newHead(files.checkpoint?.version ?? null),
    archived: record.status === 'archived',
    fixedTokens: fixedTokensOf({ ...NO_COUNTS, ...files.counts }),
  });
}

/** Appends messages after the last one, each in its own key; returns the new last seq. */
export async function appendMessages(ctx: Ctx, id: string, messages: readonly Message[]): Promise<number> {
  return writeMessages(ctx, id, await readHead(ctx, id), messages).lastSeq;
}

/**
 * Appends messages after the last one of `head` (the head as the caller read it in this invocation),
 * each in its own key; returns the head as written. It takes the head rather than reading it, since
 * a lazy state read is a round trip to the server each time, even of a key read before in the same
 * invocation (a read after a write is served from the invocation's own copy).
 */
export function writeMessages(
  ctx: Ctx,
  id: string,
  head: HeadState,
  messages: readonly Message[],
): HeadState {
  const problem = messagesProblem(messages);
  if (problem !== null) throw invalid(id, problem.problem, 'INVALID_MESSAGE');
  for (const message of messages) assertMessageSize(id, message);
  if (messages.length === 0) return head;
  if (!(messages[0]!.seq > head.lastSeq)) {
    throw new SessionError(
      'INVALID_MESSAGE',
      'store',
      `message seq ${messages[0]!.seq} does not follow seq ${head.lastSeq}; appends must be in order`,
    );
  }
  let cumulative = head.tokens;
  // Internal tokens are summed only in heads that sum them from the start (newHead).
  let internal = head.internalTokens;
  messages.forEach((message, i) => {
    cumulative += message.tokens;
    if (internal !== undefined && isInternalMessage(message)) internal += message.tokens;
    const stored: StoredMessage = {
      m: message,
      cum: cumulative,
      ...(internal === undefined ? {} : { icum: internal }),
    };
    ctx.set(KEYS.message(head.count + i), stored);
  });
  const lastSeq = messages[messages.length - 1]!.seq;
  const written: HeadState = {
    ...bump(head),
    count: head.count + messages.length,
    lastSeq,
    tokens: cumulative,
    ...(internal === undefined ? {} : { internalTokens: internal }),
  };
  ctx.set(KEYS.head, written);
  return written;
}

/**
 * Commits a compaction, clear or reset. The archived messages stay where they are: the segment is
 * their range, and `archivedCount` moves past them. A commit whose id was committed before returns
 * the recorded result and writes nothing (a compaction's step may run twice, fact 5).
 */
export async function commitSession(ctx: Ctx, id: string, call: CommitCall): Promise<CommitResult> {
  const head = await readHead(ctx, id);
  const done = head.commits.find((c) => c.id === call.commitId);
  if (done !== undefined) return done.result;
  const current = await currentCheckpoint(ctx, head);
  const { segment } = call;
  const problem = commitCallProblem(current, call);
  if (problem !== null) throw invalid(id, problem);
  let archivedCount = head.archivedCount;
  let archivedTokens = head.archivedTokens;
  let archivedInternalTokens = head.archivedInternalTokens;
  let segmentState: SegmentState | null = null;
  if (segment !== null) {
    const lastPos = head.archivedCount + segment.messageCount - 1;
    const first = await ctx.get<StoredMessage>(KEYS.message(head.archivedCount));
    const last = lastPos < head.count ? await ctx.get<StoredMessage>(KEYS.message(lastPos)) : null;
    if (segment.messageCount < 1 || first === null || last === null)
      throw invalid(
        id,
        `segment ${segment.segment} archives ${segment.messageCount} ` +
          `messages of ${head.count - head.archivedCount} live`,
      );
    if (first.m.seq !== segment.firstSeq || last.m.seq !== segment.lastSeq) {
      throw invalid(
        id,
        `segment ${segment.segment} (seqs ${segment.firstSeq}..${segment.lastSeq}) is not the live messages ` +
          `${first.m.seq}..${last.m.seq}`,
      );
    }
    const archivedBefore = current?.compactionInfo.archivedMessages ?? 0;
    if (call.checkpoint.compactionInfo.archivedMessages !== archivedBefore + segment.messageCount) {
      throw invalid(
        id,
        `the archive would hold ${archivedBefore + segment.messageCount} messages, but the checkpoint counts ` +
          `${call.checkpoint.compactionInfo.archivedMessages}`,
      );
    }
    segmentState = {
      segment: segment.segment,
      checkpointVersion: segment.checkpointVersion,
      createdAt: segment.createdAt,
      firstSeq: segment.firstSeq,
      lastSeq: segment.lastSeq,
      firstPos: head.archivedCount,
      messageCount: segment.messageCount,
    };
    archivedCount = lastPos + 1;
    archivedTokens = last.cum;
    archivedInternalTokens = last.icum;
  }
  const keep = call.keepChecks ?? true;
  const { checks: own, ...rest } = call.checkpoint;
  const checks = keep ? current?.checks : own;
  const next: Checkpoint = checks ? { ...rest, checks } : rest;
  assertCheckpoint(id, next);
  const result: CommitResult = { checkpoint: next };
  // The new checkpoint's count, so that the append threshold (head.fixedTokens) counts this one,
  // not the one before the commit. A pure function of the checkpoint: a replay writes the same.
  const counts: SessionCounts = {
    ...((await ctx.get<SessionCounts>(KEYS.counts)) ?? NO_COUNTS),
    checkpoint: countPart(estimatorOf(), 'checkpoint', next),
  };
  // New keys first, head last: a reader on the old head never looks at them.
  if (segmentState !== null) ctx.set(KEYS.segment(segmentState.segment), segmentState);
  ctx.set(KEYS.version(next.version), next);
  ctx.set(KEYS.counts, counts);
  ctx.set(KEYS.head, {
    ...bump(head),
    fixedTokens: fixedTokensOf(counts),
    archivedCount,
    archivedTokens,
    archivedInternalTokens,
    archivedThroughSeq: segmentState?.lastSeq ?? head.archivedThroughSeq,
    segments: segmentState?.segment ?? head.segments,
    versions: [...head.versions.filter((v) => v !== next.version), next.version],
    commits: [...head.commits, { id: call.commitId, result }].slice(-REMEMBERED_COMMITS),
    // The object's own compaction is over once committed: the next threshold may start another.
    compaction: head.compaction?.id === call.commitId ? null : (head.compaction ?? null),
  } satisfies HeadState);
  return result;
}

/** Records checks in the current checkpoint (a version-0 one when there is none). */
export async function recordChecks(
  ctx: Ctx,
  id: string,
  args: { checks: readonly CheckResult[]; now: string },
): Promise<Checkpoint> {
  const head = await readHead(ctx, id);
  const current = (await currentCheckpoint(ctx, head)) ?? emptyCheckpoint(args.now);
  const byId = new Map((current.checks ?? []).map((c) => [c.checkId, c]));
  for (const check of args.checks) byId.set(check.checkId, { ...check, at: check.at ?? args.now });
  const next: Checkpoint = { ...current, updatedAt: args.now, checks: [...byId.values()] };
  assertCheckpoint(id, next);
  const known = head.versions.includes(next.version);
  // The version's copy keeps what its commit wrote; the current checks live beside it.
  if (!known) ctx.set(KEYS.version(next.version), next);
  ctx.set(KEYS.current(next.version), next);
  ctx.set(KEYS.head, { ...bump(head), versions: known ? head.versions : [...head.versions, next.version] });
  return next;
}

/**
 * `recordChecks` of the session client: refused for an archived session, and the checkpoint's
 * count refreshed with the checks in the same write, so that two clients recording at once end
 * with both their checks and the count of the checkpoint that holds them.
 */
export async function recordChecksCounted(
  ctx: Ctx,
  id: string,
  args: { checks: readonly CheckResult[]; now: string },
): Promise<Checkpoint> {
  await assertWritable(ctx, id, await readHead(ctx, id));
  const next = await recordChecks(ctx, id, args);
  const counts: SessionCounts = {
    ...((await ctx.get<SessionCounts>(KEYS.counts)) ?? NO_COUNTS),
    checkpoint: countPart(estimatorOf(), 'checkpoint', next),
  };
  ctx.set(KEYS.counts, counts);
  // The head as recordChecks wrote it (an invocation reads its own writes), with the new count.
  const head = (await ctx.get<HeadState>(KEYS.head))!;
  ctx.set(KEYS.head, { ...head, fixedTokens: fixedTokensOf(counts) });
  return next;
}

/** Replaces one of the small keys (context, description, record, counts). */
export async function writePart(
  ctx: Ctx,
  id: string,
  part: 'context' | 'description' | 'record' | 'counts',
  value: SessionContext | AgentDescription | SessionRecord | Partial<SessionCounts>,
): Promise<void> {
  const head = await readHead(ctx, id);
  if (part === 'counts') {
    const counts = {
      ...((await ctx.get<SessionCounts>(KEYS.counts)) ?? NO_COUNTS),
      ...(value as Partial<SessionCounts>),
    };
    ctx.set(KEYS.counts, counts);
    ctx.set(KEYS.head, { ...bump(head), fixedTokens: fixedTokensOf(counts) });
    return;
  }
  if (part === 'record') {
    // Archiving is for good: a record written from a copy loaded before `archive` (a client's
    // stats after a clear) keeps the archived status instead of undoing it.
    const record = value as SessionRecord;
    const archived = head.archived === true || record.status === 'archived';
    ctx.set(KEYS.record, archived ? { ...record, status: 'archived' } : record);
    ctx.set(KEYS.head, { ...bump(head), archived });
    return;
  }
  ctx.set(KEYS[part], value);
  ctx.set(KEYS.head, bump(head));
}

/** What `setPart` takes: the new context or description, validated and counted by the client. */
export interface SetPartCall {
  part: 'context' | 'description';
  value: SessionContext | AgentDescription;
  /** The time of the change (the client's clock: a replay writes the same). */
  at: string;
}

/**
 * Replaces the context or the description and its count in one write (the threshold's
 * `fixedTokens` with it), so that two clients setting it at once end with one value and its own
 * count, never one's value with the other's count. Refused for an archived session.
 */
export async function setPart(ctx: Ctx, id: string, call: SetPartCall): Promise<void> {
  const head = await readHead(ctx, id);
  await assertWritable(ctx, id, head);
  const counts: SessionCounts = {
    ...((await ctx.get<SessionCounts>(KEYS.counts)) ?? NO_COUNTS),
    [call.part]: countPart(estimatorOf(), call.part, call.value),
  };
  ctx.set(KEYS[call.part], call.value);
  ctx.set(KEYS.counts, counts);
  ctx.set(KEYS.head, { ...bump(head), fixedTokens: fixedTokensOf(counts) });
}

/**
 * Marks the session archived (status and `updatedAt` of its record as stored now, nothing else of
 * it). Returns whether this call archived it: false when it was already.
 */
export async function archiveSession(ctx: Ctx, id: string, at: string): Promise<boolean> {
  const head = await readHead(ctx, id);
  const record = await ctx.get<SessionRecord>(KEYS.record);
  if (record === null) throw new SessionError('SESSION_NOT_FOUND', 'store', `session ${id} has no record`);
  if (record.status === 'archived' && head.archived !== false) return false;
  ctx.set(KEYS.record, { ...record, status: 'archived', updatedAt: at } satisfies SessionRecord);
  ctx.set(KEYS.head, { ...bump(head), archived: true });
  return true;
}

/** The tokens of the fixed parts as counted (0 for a part not counted yet): the append threshold's share. */
function fixedTokensOf(counts: SessionCounts): number {
  return (counts.description?.tokens ?? 0) + (counts.context?.tokens ?? 0) + (counts.checkpoint?.tokens ?? 0);
}

/** Appends messages numbered here, after the last one (a turn's messages); returns them as stored. */
export async function appendNumbered(
  ctx: Ctx,
  id: string,
  inputs: readonly Omit<Message, 'seq'>[],
): Promise<Message[]> {
  const head = await readHead(ctx, id);
  const first = Math.max(head.lastSeq, head.archivedThroughSeq) + 1;
  const messages = inputs.map((input, i) => ({ ...input, seq: first + i }) as Message);
  writeMessages(ctx, id, head, messages);
  return messages;
}
