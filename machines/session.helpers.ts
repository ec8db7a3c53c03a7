/**
 * The pure helpers of the session statechart: request estimates, thresholds, backoff, failures,
 * and the state a caller sees.
 */
import {
  noCompactionCanHelp,
  thresholdOutOfReach,
  thresholdOutOfReachReason,
} from '../src/core/fixed-parts-room.js';
import { requestTokens } from '../src/core/request-size.js';
import type { Limits, SessionMachineState } from '../src/core/types.js';
import type {
  CompactInput,
  CompactOutput,
  CompactReply,
  CompactionFailure,
  SessionMachineContext,
} from './session.types.js';

/** @internal A compaction that decides nothing late: it folds up to its watermark. */
export const UNDECIDED_NONE = { decideFrom: null, undecidedFrom: null } as const;

/** @internal What the `summarise` effect is given, from the context of a starting compaction. */
export function summariseInputOf(context: SessionMachineContext): CompactInput {
  return {
    sessionId: context.sessionId,
    watermarkSeq: context.watermarkSeq,
    limits: context.limits,
    keepRecentTokens: context.requestedKeepTokens ?? context.limits.keepRecentTokens,
    tailRequested: context.requestedKeepTokens !== null,
    fixedTokens: context.descriptionTokens + context.contextTokens,
    correction: context.correction,
    attempt: context.attempts,
    trigger: context.trigger,
    ...(context.decideFrom === null ? {} : { decideFrom: context.decideFrom }),
  };
}

/** @internal Serialises any error into code + message (and its `details.outcome`, if any). */
export function toFailure(error: unknown, attempts: number): CompactionFailure {
  const e = error as { code?: unknown; message?: unknown; retryable?: unknown; details?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : 'COMPACTOR_FAILED';
  const { outcome, installed } = (e?.details ?? {}) as { outcome?: unknown; installed?: unknown };
  return {
    code,
    message: typeof e?.message === 'string' ? e.message : String(error),
    retryable: typeof e?.retryable === 'boolean' ? e.retryable : code !== 'COMPACTION_NO_PROGRESS',
    attempts,
    noProgress: code === 'COMPACTION_NO_PROGRESS',
    ...(typeof outcome === 'string'
      ? { details: { outcome, ...(typeof installed === 'string' ? { installed } : {}) } }
      : {}),
  };
}

/** The threshold in tokens: `floor(maxTokens * compactAt)`. */
export function thresholdOf(limits: Limits): number {
  return Math.floor(limits.maxTokens * limits.compactAt);
}

/**
 * Estimated tokens of the next request: fixed parts + checkpoint + live messages, corrected by
 * the learned factor, + reply room.
 */
export function requestTokensOf(
  c: Pick<
    SessionMachineContext,
    'descriptionTokens' | 'contextTokens' | 'checkpointTokens' | 'liveTokens' | 'limits' | 'correction'
  >,
): number {
  return requestTokens(
    c.descriptionTokens + c.contextTokens + c.checkpointTokens + c.liveTokens,
    c.correction,
    c.limits.replyReserveTokens,
  );
}

/**
 * @internal Whether the session should compact now: automatic compaction is on, there is something
 * live, the request reaches the threshold, and a no-progress failure (if any) has seen enough new
 * messages since to be worth another try.
 */
export function compactionDue(c: SessionMachineContext): boolean {
  return (
    c.autoCompact &&
    c.liveCount > 0 &&
    !fixedPartsHopeless(c) && // compactionHopeless instead: no compaction can help
    c.uncounted === 0 && // over the threshold by upper bounds only, maybe: wait for the exact counts
    requestTokensOf(c) >= thresholdOf(c.limits) &&
    !compactionBlocked(c)
  );
}

/**
 * @internal Whether the no-progress guard holds compactions back: the last one could not bring the
 * request under the threshold, and the live messages have not grown by `keepRecentTokens` since.
 * The session's trigger and the runtime's requests (src/runtime/conversation.ts) wait alike.
 */
export function compactionBlocked(
  c: Pick<SessionMachineContext, 'blockedAtLiveTokens' | 'liveTokens' | 'limits'>,
): boolean {
  return (
    c.blockedAtLiveTokens !== null &&
    c.liveTokens - c.blockedAtLiveTokens < Math.max(1, c.limits.keepRecentTokens)
  );
}

/**
 * @internal Whether the description and context alone, with the reply's room, reach the compaction
 * threshold: no compaction can bring a request under it (`thresholdOutOfReach`,
 * src/core/fixed-parts-room.ts), so none is started by itself.
 */
export function fixedPartsHopeless(
  c: Pick<SessionMachineContext, 'descriptionTokens' | 'contextTokens' | 'limits' | 'correction'>,
): boolean {
  return thresholdOutOfReach(c.descriptionTokens + c.contextTokens, c.correction, c.limits);
}

/**
 * @internal Whether the session would compact now but no compaction can help: it fails at once
 * with {@link hopelessFailure} instead, and calls no compactor.
 */
export function compactionHopeless(c: SessionMachineContext): boolean {
  return c.autoCompact && c.liveCount > 0 && fixedPartsHopeless(c);
}

/** Delay before retry number `attempts` (1-based): base · 2^(attempts-1), capped. */
export function retryDelayOf(
  c: Pick<SessionMachineContext, 'retryBaseMs' | 'retryMaxMs'>,
  attempts: number,
): number {
  return Math.min(c.retryMaxMs, c.retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

export function notImplemented(name: string): never {
  throw new Error(
    `[dagent-sessions] [session] the "${name}" effect was not provided; ` +
      `use sessionMachine.provide({ actors: { ${name} } })`,
  );
}

export const replyAll = (waiters: ((reply: CompactReply) => void)[], reply: CompactReply) => {
  for (const waiter of waiters) waiter(reply);
};

/** What every end of a compaction resets: its waiters have been answered. */
export const settled = { compactWaiters: [] as ((reply: CompactReply) => void)[], requestedKeepTokens: null };

export function closedError(sessionId: string) {
  return {
    code: 'SESSION_UNAVAILABLE',
    message:
      `[dagent-sessions] [session] session ${sessionId} is closing; ` +
      `nothing was written. Send it again: the runtime reopens the session on next use`,
    retryable: true,
  };
}

/** @internal The action that refuses appends reaching a closing session: it writes nothing more. */
export const refuseClosing = {
  type: 'refuseAppends',
  params: ({ context }: { context: { sessionId: string } }) => ({ error: closedError(context.sessionId) }),
} as const;

/** @internal The action of a clear, reset or edit that failed (the `clear` actor's error): its callers hear why. */
export const clearFailed = {
  type: 'clearFailed',
  params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }),
} as const;

/** @internal The failure of a compaction that ran but left the request over the threshold. */
export function noProgressFailure(context: SessionMachineContext, reason: string): CompactionFailure {
  return {
    code: 'COMPACTION_NO_PROGRESS',
    message:
      `[dagent-sessions] [compaction] session ${context.sessionId}: compaction could ` +
      `not bring the request under the threshold of ${thresholdOf(context.limits)} tokens (${reason}); ` +
      `the agent description, context or checkpoint alone may be too large`,
    retryable: false,
    attempts: context.attempts,
    noProgress: true,
  };
}

/**
 * @internal The failure of a session whose description and context alone reach the threshold
 * (`thresholdOutOfReach`): no compaction was started, since none could help (they are never
 * compacted). Past `maxTokens` no request can be built either; below it requests still are. It
 * lifts when a smaller part comes (`FIXED.CHANGED`); a `compact` asked for still runs. The Restate
 * runtime reports the same failure (src/restate/hopeless-session.ts).
 */
export function hopelessFailure(
  context: Pick<
    SessionMachineContext,
    'sessionId' | 'descriptionTokens' | 'contextTokens' | 'correction' | 'attempts'
  > & { limits: Pick<Limits, 'maxTokens' | 'compactAt' | 'replyReserveTokens'> },
): CompactionFailure {
  const local = context.descriptionTokens + context.contextTokens;
  const fixed = requestTokens(local, context.correction, 0);
  const parts =
    `[dagent-sessions] [compaction] session ${context.sessionId}: the agent description ` +
    `(${context.descriptionTokens} tokens) and the context (${context.contextTokens} tokens) `;
  return {
    code: 'COMPACTION_NO_PROGRESS',
    message: noCompactionCanHelp(local, context.correction, context.limits)
      ? parts +
        `take ${fixed} tokens of every request, and with the reply's room ` +
        `(${context.limits.replyReserveTokens}) pass maxTokens ${context.limits.maxTokens}: no compaction ` +
        `can help (they are never compacted), so none was started and no request can be built. ` +
        `Shorten them (setContext, setAgentDescription) or give this agent type a larger maxTokens`
      : parts + thresholdOutOfReachReason(fixed, context.limits),
    retryable: false,
    attempts: context.attempts,
    noProgress: true,
  };
}

/** @internal The failure of a compaction that did not answer in time (it was cancelled). */
export function timeoutFailure(context: SessionMachineContext): CompactionFailure {
  return {
    code: 'COMPACTOR_TIMEOUT',
    message:
      `[dagent-sessions] [compaction] session ${context.sessionId}: the compactor did not answer ` +
      `within ${context.compactionTimeoutMs} ms; it was cancelled and nothing changed on disk`,
    retryable: true,
    attempts: context.attempts,
    noProgress: false,
  };
}

/**
 * @internal The actor's figures after messages moved to the archive (a compaction or a clear): live
 * counts drop by what was archived, and the watermark never moves back.
 */
export function afterArchive(
  context: SessionMachineContext,
  archived: {
    foldedTokens: number;
    messages: number;
    checkpointTokens: number;
    checkpointVersion: number;
    archivedThroughSeq: number;
  },
): Partial<SessionMachineContext> {
  return {
    liveTokens: context.liveTokens - archived.foldedTokens,
    liveCount: context.liveCount - archived.messages,
    checkpointTokens: archived.checkpointTokens,
    checkpointVersion: archived.checkpointVersion,
    archivedThroughSeq: Math.max(context.archivedThroughSeq, archived.archivedThroughSeq),
  };
}

/** @internal The actor's figures after a compaction's output. */
export function afterCompaction(
  context: SessionMachineContext,
  output: CompactOutput,
): Partial<SessionMachineContext> {
  if (output.kind === 'nothing-to-fold') return { lastCompaction: context.lastCompaction };
  return {
    ...afterArchive(context, { ...output, messages: output.messagesCompacted }),
    lastCompaction: output,
  };
}

/** Snapshot of a session actor, as far as {@link machineStateOf} needs it. */
export interface SessionSnapshotLike {
  status: string;
  /** The state value: `'loading'`, `{ ready: { writer: 'idle', compaction: 'idle' } }`... */
  value: unknown;
}

/**
 * The state a caller sees: `loading`, `idle`, `appending`, `compacting`, `failed` or `closed`.
 * Compaction states win over the writer's, since they last longer and matter more. Read from the
 * state value, not by `snapshot.matches` (up to 8 calls per snapshot, and every append makes
 * three snapshots that the runtime looks at).
 */
export function machineStateOf(snapshot: SessionSnapshotLike): SessionMachineState {
  const value = snapshot.value;
  if (value === 'loading') return 'loading';
  if (value === 'unavailable') return 'failed';
  if (value === 'closing' || value === 'closed' || snapshot.status !== 'active') return 'closed';
  const ready = (value as { ready?: { writer?: unknown; compaction?: unknown } } | null)?.ready;
  const compaction = ready?.compaction;
  if (
    compaction === 'clearing' ||
    (typeof compaction === 'object' && compaction !== null && 'compacting' in compaction)
  )
    return 'compacting';
  if (compaction === 'failed') return 'failed';
  if (ready?.writer === 'appending') return 'appending';
  return 'idle';
}
