/**
 * The session statechart's setup: its types, the effects it names (provided by the runtime, faked
 * by tests), its named actions, guards and delays. The chart itself is in session.machine.ts.
 */
import { and, assign, enqueueActions, fromPromise, not, setup, stateIn } from 'xstate';
import { countedTokens } from '../src/core/request-size.js';
import {
  afterArchive,
  afterCompaction,
  compactionDue,
  compactionHopeless,
  hopelessFailure,
  noProgressFailure,
  notImplemented,
  replyAll,
  requestTokensOf,
  retryDelayOf,
  settled,
  thresholdOf,
  timeoutFailure,
  toFailure,
} from './session.helpers.js';
import type {
  AppendRequest,
  ClearInput,
  ClearOutput,
  CommitInput,
  CompactInput,
  CompactOutput,
  LoadOutput,
  PendingAppend,
  PersistInput,
  PersistOutput,
  SessionMachineContext,
  SessionMachineEmitted,
  SessionMachineEvent,
  SessionMachineInput,
  SummariseOutput,
} from './session.types.js';
import { createWriter } from './session.writer.js';

/** The appends an `APPEND` or `APPEND.MANY` event carries, in order (none for another event). */
function appendsOf(event: SessionMachineEvent): readonly AppendRequest[] {
  if (event.type === 'APPEND') return [event];
  return event.type === 'APPEND.MANY' ? event.appends : [];
}

function pendingOf(a: AppendRequest, seq: number): PendingAppend {
  const pending: PendingAppend = { message: { ...a.message, seq }, reply: a.reply, uncounted: a.uncounted };
  if (a.exact !== undefined) pending.exact = a.exact;
  return pending;
}

/** @internal The `persist` effect's input: the writer's batch, its uncounted seqs and their counts. */
export function persistInputOf(sessionId: string, inFlight: readonly PendingAppend[]): PersistInput {
  const uncounted = inFlight.filter((p) => p.uncounted === true);
  const input: PersistInput = {
    sessionId,
    messages: inFlight.map((p) => p.message),
    uncounted: uncounted.map((p) => p.message.seq),
  };
  const exact = new Map<number, () => number | undefined>();
  for (const p of uncounted) if (p.exact !== undefined) exact.set(p.message.seq, p.exact);
  if (exact.size > 0) input.exactOf = (seq) => exact.get(seq)?.();
  input.acknowledge = (counted) => replyDurable(withCounts(inFlight, counted));
  return input;
}

/** The batch with the exact counts the write brought (those appends are counted now). */
function withCounts(inFlight: readonly PendingAppend[], counted: PersistOutput['counted']): PendingAppend[] {
  if (counted.length === 0) return inFlight as PendingAppend[];
  const bySeq = new Map(counted.map((c) => [c.seq, c.tokens]));
  return inFlight.map((p) => {
    const tokens = bySeq.get(p.message.seq);
    if (tokens === undefined || p.uncounted !== true) return p;
    return { ...p, uncounted: false, message: Object.freeze({ ...p.message, tokens }) };
  });
}

/** Answers the callers of a durable batch, each with its stored message. */
function replyDurable(inFlight: readonly PendingAppend[]): void {
  for (const pending of inFlight) pending.reply({ ok: true, message: pending.message });
}

/** @internal The context a session actor starts with. */
export function initialContext(input: SessionMachineInput): SessionMachineContext {
  const context: SessionMachineContext = {
    sessionId: input.sessionId,
    limits: input.limits,
    autoCompact: input.autoCompact ?? true,
    correction: input.correction ?? 1,
    compactionTimeoutMs: input.compactionTimeoutMs ?? 150_000,
    retryBaseMs: input.retryBaseMs ?? 1_000,
    retryMaxMs: input.retryMaxMs ?? 300_000,
    liveTokens: 0,
    liveCount: 0,
    uncounted: 0,
    undecidedFrom: null,
    decideFrom: null,
    lastSeq: -1,
    nextSeq: 0,
    archivedThroughSeq: -1,
    descriptionTokens: 0,
    contextTokens: 0,
    checkpointTokens: 0,
    checkpointVersion: 0,
    queue: [],
    inFlight: [],
    compactWaiters: [],
    requestedKeepTokens: null,
    trigger: 'threshold',
    watermarkSeq: -1,
    attempts: 0,
    failure: null,
    blockedAtLiveTokens: null,
    lastCompaction: null,
    loadError: null,
    closeRequested: false,
    pendingClear: null,
    committing: null,
    clearing: null,
  };
  // Every `assign` copies the context with `Object.assign({}, context, update)`. From an object
  // literal of this many properties, V8 makes that copy a dictionary-mode object, and so every copy
  // after it: ~15 us a copy instead of ~1.3 (a few copies per append). A spread copy has a map
  // that Object.assign copies on its fast path (see docs/architecture.md, "Context copies").
  return { ...context };
}

/** @internal The setup the session chart is made with. */
export const sessionSetup = setup({
  types: {
    context: {} as SessionMachineContext,
    events: {} as SessionMachineEvent,
    input: {} as SessionMachineInput,
    emitted: {} as SessionMachineEmitted,
  },
  actors: {
    load: fromPromise<LoadOutput, { sessionId: string }>(async () => notImplemented('load')),
    persist: createWriter(async () => notImplemented('persist')),
    summarise: fromPromise<SummariseOutput, CompactInput>(async () => notImplemented('summarise')),
    commit: fromPromise<CompactOutput, CommitInput>(async () => notImplemented('commit')),
    close: fromPromise<undefined, { sessionId: string; requestTokens: number }>(async () =>
      notImplemented('close'),
    ),
    clear: fromPromise<ClearOutput, ClearInput>(async () => notImplemented('clear')),
  },
  actions: {
    /**
     * The writer's batch is durable: figures updated, its callers answered (unless the effect did
     * already), `message.appended` emitted.
     */
    persistDone: enqueueActions(({ context, enqueue }, params: PersistOutput) => {
      // Counts taken while the batch was written replace their bounds before anyone sees them.
      const inFlight = withCounts(context.inFlight, params.counted);
      const messages = inFlight.map((p) => p.message);
      const tokens = countedTokens(messages); // internal messages are never sent
      const last = messages[messages.length - 1];
      const uncounted = inFlight.filter((p) => p.uncounted === true).length;
      enqueue.assign({
        liveTokens: context.liveTokens + tokens,
        liveCount: context.liveCount + messages.length,
        uncounted: context.uncounted + uncounted,
        // The threshold decision after this batch waits for its exact counts (compactionDue).
        undecidedFrom: context.undecidedFrom ?? (uncounted > 0 ? messages[0]!.seq : null),
        lastSeq: last ? last.seq : context.lastSeq,
        inFlight: [],
      });
      // Unless the effect answered them already, as soon as the batch was durable.
      if (params.acknowledged !== true) enqueue(() => replyDurable(inFlight));
      enqueue.emit({
        type: 'message.appended',
        sessionId: context.sessionId,
        messages,
        liveTokens: context.liveTokens + tokens,
      });
    }),
    /** The writer's batch failed: nothing of it was acknowledged. */
    persistFailed: enqueueActions(({ context, enqueue }, params: { error: unknown }) => {
      const inFlight = context.inFlight;
      enqueue(() => inFlight.forEach((pending) => pending.reply({ ok: false, error: params.error })));
      enqueue.assign({ inFlight: [] });
    }),
    /** A threshold compaction starts: it decides from the first message whose count came late, if any. */
    decideThreshold: assign(({ context }) => ({
      trigger: 'threshold' as const,
      decideFrom: context.undecidedFrom,
      undecidedFrom: null,
    })),
    /** Exact counts replace upper bounds: the live figure goes down, a waiting compaction may go. */
    counted: assign(({ context }, params: { delta: number; count: number }) => ({
      liveTokens: context.liveTokens + params.delta,
      uncounted: Math.max(0, context.uncounted - params.count),
    })),
    /** The summary took longer than `compactionTimeoutMs`: failed, retried after the backoff. */
    compactionTimedOut: enqueueActions(({ context, enqueue }) => {
      const failure = timeoutFailure(context);
      enqueue.assign({ failure, ...settled });
      enqueue.emit({
        type: 'compaction.failed',
        sessionId: context.sessionId,
        failure,
        willRetryInMs: retryDelayOf(context, context.attempts),
      });
      const waiters = context.compactWaiters;
      enqueue(() => replyAll(waiters, { ok: false, error: failure }));
    }),
    /** A clear, reset or edit failed: nothing was written; its callers hear why. */
    clearFailed: enqueueActions(({ context, enqueue }, params: { error: unknown }) => {
      const waiters = context.clearing?.waiters ?? [];
      enqueue.assign({ clearing: null });
      enqueue(() => waiters.forEach((w) => w({ ok: false, error: params.error })));
    }),
    /** A COMPACT while one is running (or the session loads): its caller waits for that one. */
    joinCompaction: assign(({ context, event }) =>
      event.type === 'COMPACT' && event.reply
        ? { compactWaiters: [...context.compactWaiters, event.reply] }
        : {},
    ),
    /** The compaction ended under the threshold: figures updated, callers answered. */
    compactionDone: enqueueActions(({ context, enqueue }, output: CompactOutput) => {
      enqueue.assign(afterCompaction(context, output));
      enqueue.assign({ attempts: 0, failure: null, blockedAtLiveTokens: null, ...settled });
      const waiters = context.compactWaiters;
      enqueue(() => replyAll(waiters, { ok: true, result: output }));
      if (output.kind === 'compacted')
        enqueue.emit({ type: 'compaction.completed', sessionId: context.sessionId, result: output });
    }),
    /** It ran, but the request is still over the threshold: do not loop. */
    compactionStuck: enqueueActions(({ context, enqueue }, output: CompactOutput) => {
      const failure = noProgressFailure(context, output.reason);
      const next = afterCompaction(context, output);
      enqueue.assign({
        ...next,
        failure,
        blockedAtLiveTokens: next.liveTokens ?? context.liveTokens,
        ...settled,
      });
      if (output.kind === 'compacted')
        enqueue.emit({ type: 'compaction.completed', sessionId: context.sessionId, result: output });
      enqueue.emit({ type: 'compaction.failed', sessionId: context.sessionId, failure, willRetryInMs: null });
      const waiters = context.compactWaiters;
      enqueue(() => replyAll(waiters, { ok: false, error: failure }));
    }),
    /** No compaction can help (the fixed parts alone reach the threshold): failed without one, and told. */
    failHopeless: enqueueActions(({ context, enqueue }) => {
      const failure = hopelessFailure(context);
      enqueue.assign({ failure, blockedAtLiveTokens: null });
      enqueue.emit({ type: 'compaction.failed', sessionId: context.sessionId, failure, willRetryInMs: null });
    }),
    /** The summary or the commit failed: nothing was written. */
    compactionFailed: enqueueActions(({ context, enqueue }, params: { error: unknown }) => {
      const failure = toFailure(params.error, context.attempts);
      enqueue.assign({
        failure,
        ...settled,
        ...(failure.noProgress ? { blockedAtLiveTokens: context.liveTokens } : {}),
      });
      enqueue.emit({
        type: 'compaction.failed',
        sessionId: context.sessionId,
        failure,
        willRetryInMs: failure.retryable ? retryDelayOf(context, context.attempts) : null,
      });
      const waiters = context.compactWaiters;
      enqueue(() => replyAll(waiters, { ok: false, error: params.error }));
    }),
    /** A clear, reset or edit committed: figures updated, its callers answered, `cleared` emitted. */
    clearDone: enqueueActions(({ context, enqueue }, params: { result: ClearOutput; fresh: boolean }) => {
      const r = params.result;
      enqueue.assign({
        ...afterArchive(context, { ...r, messages: r.archivedMessages }),
        clearing: null,
        ...(params.fresh ? { failure: null, attempts: 0, blockedAtLiveTokens: null } : {}),
      });
      const waiters = context.clearing?.waiters ?? [];
      enqueue(() => waiters.forEach((w) => w({ ok: true, result: r })));
      enqueue.emit({ type: 'cleared', sessionId: context.sessionId, result: r });
    }),
    /**
     * A compaction cancelled while summarising: nothing was written, its callers hear
     * `COMPACTION_CANCELLED`, and it does not start again by itself until the live messages grow
     * by `keepRecentTokens` (as after a no-progress failure) or `COMPACT` is sent.
     */
    compactionCancelled: enqueueActions(({ context, enqueue }) => {
      const waiters = context.compactWaiters;
      enqueue.assign({ ...settled, attempts: 0, failure: null, blockedAtLiveTokens: context.liveTokens });
      const error = {
        code: 'COMPACTION_CANCELLED',
        message:
          `[dagent-sessions] [compaction] session ${context.sessionId}: ` +
          `the compaction was cancelled; nothing changed on disk`,
        retryable: true,
      };
      enqueue(() => replyAll(waiters, { ok: false, error }));
      enqueue.emit({
        type: 'compaction.cancelled',
        sessionId: context.sessionId,
        watermarkSeq: context.watermarkSeq,
      });
    }),
    /** Appends wait for their seqs while loading (given on entry to `ready`): queued with seq -1. */
    queueLoadingAppends: assign(({ context, event }) => ({
      queue: context.queue.concat(appendsOf(event).map((a) => pendingOf(a, -1))),
    })),
    /** Appends take their seqs in order and wait for the writer (one copy of the queue per event). */
    queueAppends: assign(({ context, event }) => {
      const seq = context.nextSeq;
      const appends = appendsOf(event);
      return {
        queue: context.queue.concat(appends.map((a, i) => pendingOf(a, seq + i))),
        nextSeq: seq + appends.length,
      };
    }),
    /** Appends that find the writer free take their seqs and are its next batch at once. */
    takeAppends: assign(({ context, event }) => {
      const seq = context.nextSeq;
      const appends = appendsOf(event);
      return {
        inFlight: context.queue.concat(appends.map((a, i) => pendingOf(a, seq + i))),
        queue: [],
        nextSeq: seq + appends.length,
      };
    }),
    /** The writer's next batch: every append queued while it wrote the last one. */
    takeQueue: assign(({ context }) => ({ inFlight: context.queue, queue: [] })),
    /** Appends refused (session unavailable or closing): each caller hears the error. */
    refuseAppends: ({ event }, params: { error: unknown }) => {
      for (const a of appendsOf(event)) a.reply({ ok: false, error: params.error });
    },
    /** The first write in doubt: kept (not retryable) and told, whatever state the actor is in. */
    takeDoubt: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'WRITE.IN_DOUBT') return;
      const inDoubt = { ...toFailure(event.error, 0), retryable: false };
      enqueue.assign({ inDoubt });
      enqueue.emit({ type: 'write.in-doubt', sessionId: context.sessionId, failure: inDoubt });
    }),
    /** The compaction region fails with the doubt: no compaction may commit until a load. */
    failWithDoubt: assign(({ context }) => ({ failure: context.inDoubt ?? context.failure })),
    queueClear: assign(({ context, event }) => {
      if (event.type !== 'CLEAR') return {};
      // Requests queued together run as one: a reset wins over a clear, a clear over an edit, and
      // every caller hears the result. Changes run in order; a reset empties those queued before it.
      const before = context.pendingClear;
      const modes = [before?.mode, event.mode];
      const mode = modes.includes('reset') ? 'reset' : modes.includes('clear') ? 'clear' : 'edit';
      const earlier = event.mode === 'reset' ? [] : (before?.changes ?? []);
      return {
        pendingClear: {
          mode,
          changes: event.change === undefined ? earlier : [...earlier, event.change],
          waiters: [...(before?.waiters ?? []), event.reply],
        },
      };
    }),
  },
  guards: {
    /** A write of this actor's session is in doubt (`WRITE.IN_DOUBT`): only a new actor's load ends it. */
    isInDoubt: ({ context }) => context.inDoubt !== undefined,
    /** A failure of before the doubt (a retry timer's) is still the session's: the doubt takes its place. */
    doubtNotYetFailure: ({ context }) => context.inDoubt !== undefined && context.failure !== context.inDoubt,
    shouldCompact: ({ context }) => compactionDue(context),
    compactionHopeless: ({ context }) => compactionHopeless(context),
    // Every count is in and no compaction is due: the delayed decisions were all "not yet".
    decidedNotYet: ({ context }) => context.undecidedFrom !== null && context.uncounted === 0,
    // After a no-progress failure: a change of context or description, or enough new messages.
    noProgressMayLift: ({ context }) => context.failure?.noProgress === true && compactionDue(context),
    hasQueue: ({ context }) => context.queue.length > 0,
    hasPendingClear: ({ context }) => context.pendingClear !== null,
    /** The last compaction failed (a clear that fails leaves it so). */
    hasFailed: ({ context }) => context.failure !== null,
    canRetry: ({ context: c }) =>
      c.failure !== null &&
      c.failure.retryable &&
      (c.trigger === 'manual' || requestTokensOf(c) >= thresholdOf(c.limits)),
    readyToClose: and([
      ({ context }) => context.closeRequested && context.queue.length === 0,
      stateIn({ ready: { writer: 'idle' } }),
      not(stateIn({ ready: { compaction: { compacting: 'committing' } } })),
      not(stateIn({ ready: { compaction: 'clearing' } })),
    ]),
  },
  delays: {
    compactionTimeout: ({ context }) => context.compactionTimeoutMs,
    retryDelay: ({ context }) => retryDelayOf(context, context.attempts),
  },
});
