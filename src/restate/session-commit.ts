/**
 * @internal The commit handler of the `session` object (session-writes.ts has the others): a
 * compaction's, clear's or reset's checkpoint and segment range in one step, validated before its
 * first write, new keys first and `head` last.
 */
import type * as restate from '@restatedev/restate-sdk';
import type { ArchiveSegment, Checkpoint, Message } from '../core/types.js';
import { countPart } from '../runtime/fixed-counts.js';
import { commitProblem } from '../store/archive-rules.js';
import type { CommitResult, SessionCounts } from '../store/contract.js';
import { currentCheckpoint, readHead, type StoredMessage } from './session-reads.js';
import {
  KEYS,
  REMEMBERED_COMMITS,
  type CommitCall,
  type HeadState,
  type SegmentState,
} from './session-state.js';
import { NO_COUNTS, assertCheckpoint, bump, estimatorOf, fixedTokensOf, invalid } from './session-writes.js';

type Ctx = restate.ObjectContext;

const EPOCH = new Date(0).toISOString();

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
