/**
 * @internal What the runtime reports about sessions, computed from the actor's snapshot and the
 * session's files.
 */
// The helpers, not the machine: reading figures loads no XState (`dagent-sessions list` stays light).
import { machineStateOf, requestTokensOf } from '../../machines/session.helpers.js';
import type { SessionActorRef } from '../../machines/session.machine.js';
import { SessionError, asIoError, describeError, isErrnoCode, isSessionErrorCode } from '../core/errors.js';
import { keyOfSessionId } from '../core/ids.js';
import type { Limits, SessionRecord, SessionStats } from '../core/types.js';
import type { SessionHandle } from './session-handle.js';
import type { SessionSummary } from '../store/contract.js';
import { IN_PLACE_NOT_DURABLE, REFUSED_IN_DOUBT, refusedInDoubt } from '../store/writes-in-doubt.js';
import type { SessionInfo } from './types.js';

/**
 * @internal A failure value of the actor (or any thrown value) as a SessionError. A Node system
 * error (`EIO`, `ENOSPC`...) becomes `IO_ERROR` with its errno in `details`: its code is never
 * taken for one of ours.
 */
export function toSessionError(error: unknown, sessionId: string): SessionError {
  if (error instanceof SessionError) return error;
  const io = asIoError(error, 'session', `session ${sessionId}`);
  if (io instanceof SessionError) {
    return new SessionError(io.code, 'session', withoutPrefix(io.message), {
      cause: error,
      retryable: io.retryable,
      details: { sessionId, ...io.details },
    });
  }
  const e = error as { code?: unknown; message?: unknown; retryable?: unknown; details?: unknown } | null;
  if (e && isSessionErrorCode(e.code) && typeof e.message === 'string') {
    const details = typeof e.details === 'object' && e.details !== null ? e.details : {};
    return new SessionError(e.code, 'session', withoutPrefix(e.message), {
      retryable: e.retryable === true,
      details: { ...details, sessionId },
    });
  }
  // An errno that lost its Error on the way (an actor's failure value keeps code and message).
  const errno = isErrnoCode(e?.code) ? { errno: e.code } : {};
  return new SessionError('IO_ERROR', 'session', `session ${sessionId}: ${describeError(error)}`, {
    cause: error,
    details: { sessionId, ...errno },
  });
}

/**
 * @internal The refusal of a compaction the store could only refuse: a write of the session (a
 * commit, a clear, `setContext`...) is in doubt (store/writes-in-doubt.ts) and its actor was not
 * loaded again since; or null. Checked
 * before the compactor runs, so that neither `compact` nor a turn past the threshold pays for a
 * summary (a model call) that the commit then refuses.
 */
export function compactionInDoubt(ref: SessionActorRef | undefined, sessionId: string): SessionError | null {
  const context = ref?.getSnapshot().context;
  const failure = context?.inDoubt ?? context?.failure;
  const outcome = failure?.details?.outcome;
  if (!failure || (outcome !== IN_PLACE_NOT_DURABLE && outcome !== REFUSED_IN_DOUBT)) return null;
  return refusedInDoubt(sessionId, 'compaction', failure);
}

/** @internal A failure as callers see it: an errno code reads `IO_ERROR`, the errno in `details`. */
export function publicFailure<T extends { code: string; message: string }>(
  failure: T,
): T | (T & { details: { errno: string } }) {
  return isErrnoCode(failure.code)
    ? { ...failure, code: 'IO_ERROR', details: { errno: failure.code } }
    : failure;
}

function withoutPrefix(message: string): string {
  return message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '');
}

/** @internal Figures of session.json, derived from the checkpoint and the live messages. */
export function statsOf(dir: SessionHandle, lastRequestTokens: number): SessionStats {
  const info = dir.checkpoint?.compactionInfo;
  let liveTokens = 0;
  for (const m of dir.messages) liveTokens += m.tokens;
  return {
    totalMessages: (info?.archivedMessages ?? 0) + dir.messages.length,
    totalTokens: (info?.archivedTokens ?? 0) + liveTokens,
    totalCompactions: dir.checkpoint?.version ?? 0,
    lastCompactionAt: dir.checkpoint?.updatedAt ?? null,
    lastRequestTokens,
  };
}

/** @internal SessionInfo of a session, from its actor (when in memory) and its files. */
export function infoOf(
  ref: SessionActorRef | null,
  dir: SessionHandle | null,
  record: SessionRecord,
  limits: Limits,
  compactor: string,
): SessionInfo {
  const snapshot = ref?.getSnapshot();
  const c = snapshot?.context;
  // A write in doubt is the session's failure even while a compaction it began before runs on.
  const f = c?.inDoubt ?? c?.failure;
  const raw =
    c?.loadError ??
    (f ? { code: f.code, message: f.message, ...(f.details ? { details: { ...f.details } } : {}) } : null);
  const failure = raw === null ? null : publicFailure(raw);
  const outcome = f?.details?.outcome;
  // Memory's figures, from before a write in doubt (the files may hold that write's, or not); or
  // none read at all (files that did not load).
  const unconfirmed =
    Boolean(c?.loadError) || outcome === IN_PLACE_NOT_DURABLE || outcome === REFUSED_IN_DOUBT;
  // A copy: the record, limits and snapshot parts are the runtime's own objects.
  return structuredClone({
    id: record.id,
    key: record.key,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    status: record.status,
    state: snapshot ? machineStateOf(snapshot) : 'closed',
    active: snapshot !== undefined && snapshot.status === 'active',
    stats: dir ? statsOf(dir, c ? requestTokensOf(c) : record.stats.lastRequestTokens) : record.stats,
    liveMessages: c?.liveCount ?? 0,
    liveTokens: c?.liveTokens ?? 0,
    checkpointVersion: c?.checkpointVersion ?? record.stats.totalCompactions,
    archivedThroughSeq: c?.archivedThroughSeq ?? -1,
    compactor,
    limits,
    error: failure,
    figures: unconfirmed ? ('unconfirmed' as const) : ('confirmed' as const),
    lastCompaction: c?.lastCompaction ?? null,
  });
}

/**
 * @internal SessionInfo of a session not in memory, from the store's summary: its figures as
 * stored (live messages, watermark, checkpoint version), no actor state (`closed`).
 */
export function infoOfSummary(summary: SessionSummary, limits: Limits, compactor: string): SessionInfo {
  return structuredClone({
    id: summary.id,
    key: summary.key,
    createdAt: summary.createdAt,
    updatedAt: summary.updatedAt,
    status: summary.status,
    state: 'closed' as const,
    active: false,
    stats: {
      totalMessages: summary.messages.total,
      totalTokens: summary.tokens.total,
      totalCompactions: summary.checkpointVersion,
      lastCompactionAt: summary.lastCompactionAt,
      lastRequestTokens: summary.lastRequestTokens,
    },
    liveMessages: summary.messages.live,
    liveTokens: summary.tokens.live,
    checkpointVersion: summary.checkpointVersion,
    archivedThroughSeq: summary.archivedThroughSeq,
    compactor,
    limits,
    error: null,
    figures: 'confirmed' as const,
    lastCompaction: null,
  });
}

/** @internal What can be said of a session whose session.json cannot be read: its key comes from its id. */
export function placeholderInfo(id: string, compactor: string, limits: Limits): SessionInfo {
  return {
    id,
    key: keyOfSessionId(id) ?? { type: 'feature', agentType: 'pm', featureId: 'unknown' },
    createdAt: '',
    updatedAt: '',
    status: 'active',
    state: 'failed',
    active: false,
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
    liveMessages: 0,
    liveTokens: 0,
    checkpointVersion: 0,
    archivedThroughSeq: -1,
    compactor,
    limits: { ...limits },
    error: null,
    figures: 'unconfirmed', // none could be read
    lastCompaction: null,
  };
}
