/**
 * The session actor: a pure statechart. Its effects (load, persist, compact, close) are named
 * actors that the runtime provides with `machine.provide()` and tests replace with fakes.
 *
 * ```
 * loading ──► ready (parallel) ───────────────────────────────► closing ──► closed
 *    │          writer:     idle ⇄ appending (group commit)
 *    │          compaction: idle ─► compacting ─► idle
 *    │                         ▲    (summarising: cancellable → committing: not)
 *    │                         └──── failed (backoff retry) ◄─┘
 *    └──► unavailable (a file did not load; appends are refused with the reason)
 * ```
 *
 * The two regions run side by side so that appends are persisted at once while a compaction
 * runs; the compaction folds only messages up to the watermark fixed when it started. The
 * statechart, not a flag, prevents recursion: `compacting` cannot be entered while active, and
 * `COMPACT` received meanwhile is coalesced into the running compaction.
 */
import { assign, emit, not, sendTo, type ActorRefFrom } from 'xstate';
import { initialContext, persistInputOf, sessionSetup } from './session.setup.js';
import {
  UNDECIDED_NONE,
  clearFailed,
  closedError,
  refuseClosing,
  requestTokensOf,
  summariseInputOf,
  thresholdOf,
  toFailure,
} from './session.helpers.js';

export { machineStateOf, requestTokensOf, retryDelayOf, thresholdOf, toFailure } from './session.helpers.js';
export type { SessionSnapshotLike } from './session.helpers.js';

export type {
  AppendReply,
  AppendRequest,
  ClearInput,
  ClearMode,
  ClearOutput,
  ClearReply,
  CompactInput,
  CompactOutput,
  CompactReply,
  CompactionCommit,
  CompactionFailure,
  CommitInput,
  LoadOutput,
  NewMessage,
  PendingAppend,
  PersistInput,
  PersistOutput,
  PersistRequest,
  SessionMachineContext,
  SessionMachineEmitted,
  SessionMachineEvent,
  SessionMachineInput,
  SummariseOutput,
} from './session.types.js';
export { createWriter, type PersistWrite, type WriterLogic, type WriterOptions } from './session.writer.js';

/** The session statechart: provide `load`, `persist`, `summarise`, `commit`, `clear` and `close` to run it. */
export const sessionMachine = sessionSetup.createMachine({
  id: 'session',
  context: ({ input }) => initialContext(input),
  initial: 'loading',
  states: {
    loading: {
      invoke: {
        src: 'load',
        input: ({ context }) => ({ sessionId: context.sessionId }),
        onDone: {
          target: 'ready',
          actions: assign(({ event }) => ({ ...event.output, nextSeq: event.output.lastSeq + 1 })),
        },
        onError: {
          target: 'unavailable',
          actions: assign({
            loadError: ({ event }) => ({
              code: toFailure(event.error, 0).code,
              message: toFailure(event.error, 0).message,
            }),
          }),
        },
      },
      on: {
        APPEND: { actions: 'queueLoadingAppends' },
        'APPEND.MANY': { actions: 'queueLoadingAppends' },
        COMPACT: { actions: 'joinCompaction' },
        CLEAR: { actions: 'queueClear' },
        CLOSE: { actions: assign({ closeRequested: true }) },
      },
    },
    ready: {
      // Appends queued while loading get their seqs now that the last seq is known.
      entry: assign(({ context }) => {
        let seq = context.nextSeq;
        const queue = context.queue.map((p) => ({ ...p, message: { ...p.message, seq: seq++ } }));
        return { queue, nextSeq: seq };
      }),
      type: 'parallel',
      always: { guard: 'readyToClose', target: 'closing' },
      on: {
        CLOSE: { actions: assign({ closeRequested: true }) },
        COUNTED: { actions: { type: 'counted', params: ({ event }) => event } },
        // Queued until the compaction region is free: a clear never races a compaction's commit.
        CLEAR: { actions: 'queueClear' },
        'CALIBRATION.CHANGED': {
          actions: assign(({ event }) => ({
            correction: Number.isFinite(event.correction) && event.correction > 0 ? event.correction : 1,
          })),
        },
        'FIXED.CHANGED': {
          actions: assign(({ context, event }) => ({
            descriptionTokens: event.descriptionTokens ?? context.descriptionTokens,
            contextTokens: event.contextTokens ?? context.contextTokens,
            checkpointTokens: event.checkpointTokens ?? context.checkpointTokens,
            blockedAtLiveTokens: null,
          })),
        },
      },
      states: {
        writer: {
          // One writer while ready: a batch is a `PERSIST` event to it (architecture.md, "One writer per session").
          invoke: { id: 'writer', src: 'persist' },
          initial: 'idle',
          states: {
            idle: {
              // Appends that find the writer free go out at once: one step, one copy of the context.
              on: {
                APPEND: { target: 'appending', actions: 'takeAppends' },
                'APPEND.MANY': { target: 'appending', actions: 'takeAppends' },
              },
              // Group commit: everything queued meanwhile goes in one write and one fdatasync.
              always: { guard: 'hasQueue', target: 'appending', actions: 'takeQueue' },
            },
            appending: {
              entry: sendTo('writer', ({ context }) => ({
                type: 'PERSIST' as const,
                input: persistInputOf(context.sessionId, context.inFlight),
              })),
              on: {
                'PERSIST.DONE': {
                  target: 'idle',
                  actions: {
                    type: 'persistDone',
                    params: ({ event }) => ({ ...event.output, counted: event.output?.counted ?? [] }),
                  },
                },
                'PERSIST.FAILED': {
                  target: 'idle',
                  actions: { type: 'persistFailed', params: ({ event }) => ({ error: event.error }) },
                },
              },
            },
          },
        },
        compaction: {
          initial: 'idle',
          states: {
            idle: {
              always: [
                { guard: 'isInDoubt', target: 'failed', actions: 'failWithDoubt' },
                { guard: 'hasPendingClear', target: 'clearing' },
                { guard: 'compactionHopeless', target: 'failed', actions: 'failHopeless' },
                { guard: 'shouldCompact', target: 'compacting', actions: 'decideThreshold' },
                { guard: 'decidedNotYet', actions: assign({ undecidedFrom: null }) },
              ],
              on: {
                COMPACT: {
                  target: 'compacting',
                  actions: assign(({ context, event }) => ({
                    trigger: 'manual' as const,
                    ...UNDECIDED_NONE,
                    requestedKeepTokens: event.keepRecentTokens ?? null,
                    compactWaiters: event.reply
                      ? [...context.compactWaiters, event.reply]
                      : context.compactWaiters,
                  })),
                },
              },
            },
            compacting: {
              entry: [
                assign(({ context }) => ({ watermarkSeq: context.lastSeq, attempts: context.attempts + 1 })),
                emit(({ context }) => ({
                  type: 'compaction.started' as const,
                  sessionId: context.sessionId,
                  watermarkSeq: context.lastSeq,
                  trigger: context.trigger,
                  attempt: context.attempts,
                  tokensBefore: requestTokensOf(context),
                })),
              ],
              initial: 'summarising',
              states: {
                // The compactor at work: cancellable (its signal aborts), nothing written yet.
                summarising: {
                  invoke: {
                    src: 'summarise',
                    input: ({ context }) => summariseInputOf(context),
                    onDone: [
                      {
                        guard: ({ event }) => event.output.commit !== null,
                        target: 'committing',
                        actions: assign({
                          committing: ({ event }) => ({
                            ...event.output.commit!,
                            output: event.output.output,
                          }),
                        }),
                      },
                      {
                        guard: ({ event }) => event.output.output.underThreshold,
                        target: '#session.ready.compaction.idle',
                        actions: { type: 'compactionDone', params: ({ event }) => event.output.output },
                      },
                      {
                        target: '#session.ready.compaction.failed',
                        actions: { type: 'compactionStuck', params: ({ event }) => event.output.output },
                      },
                    ],
                    onError: {
                      target: '#session.ready.compaction.failed',
                      actions: { type: 'compactionFailed', params: ({ event }) => ({ error: event.error }) },
                    },
                  },
                  after: {
                    compactionTimeout: {
                      target: '#session.ready.compaction.failed',
                      actions: 'compactionTimedOut',
                    },
                  },
                  on: {
                    // Leaving the state stops the `summarise` actor: its AbortSignal fires and it
                    // throws before writing. Not handled in `committing`: a commit is never cut.
                    'COMPACTION.CANCEL': {
                      target: '#session.ready.compaction.idle',
                      actions: 'compactionCancelled',
                    },
                  },
                },
                // Writing archive, checkpoint and chat as one commit: no timeout, no cancellation.
                committing: {
                  invoke: {
                    src: 'commit',
                    input: ({ context }) => context.committing!,
                    onDone: [
                      {
                        guard: ({ event }) => event.output.underThreshold,
                        target: '#session.ready.compaction.idle',
                        actions: { type: 'compactionDone', params: ({ event }) => event.output },
                      },
                      {
                        target: '#session.ready.compaction.failed',
                        actions: { type: 'compactionStuck', params: ({ event }) => event.output },
                      },
                    ],
                    onError: {
                      target: '#session.ready.compaction.failed',
                      actions: { type: 'compactionFailed', params: ({ event }) => ({ error: event.error }) },
                    },
                  },
                  exit: assign({ committing: null }),
                },
              },
              // Coalesced: the caller waits for the compaction already running.
              on: { COMPACT: { actions: 'joinCompaction' } },
            },
            clearing: {
              // The job leaves the queue as it starts: a request arriving meanwhile waits for the next
              // run, with its own watermark and changes, instead of hearing this one's result.
              entry: assign(({ context }) => ({
                watermarkSeq: context.lastSeq,
                clearing: context.pendingClear,
                pendingClear: null,
              })),
              invoke: {
                src: 'clear',
                input: ({ context }) => ({
                  sessionId: context.sessionId,
                  watermarkSeq: context.lastSeq,
                  mode: context.clearing?.mode ?? 'clear',
                  changes: context.clearing?.changes ?? [],
                  limits: context.limits,
                }),
                onDone: [
                  {
                    // An edit archives nothing: a failed compaction stays failed (its retry timer restarts).
                    guard: ({ context, event }) => event.output.mode === 'edit' && context.failure !== null,
                    target: 'failed',
                    actions: {
                      type: 'clearDone',
                      params: ({ event }) => ({ result: event.output, fresh: false }),
                    },
                  },
                  {
                    target: 'idle',
                    // A reset or clear is a fresh start for the compaction too.
                    actions: {
                      type: 'clearDone',
                      params: ({ event }) => ({ result: event.output, fresh: true }),
                    },
                  },
                ],
                // Nothing was written: a failed compaction stays failed (its retry timer restarts).
                onError: [
                  { guard: 'hasFailed', target: 'failed', actions: clearFailed },
                  { target: 'idle', actions: clearFailed },
                ],
              },
            },
            failed: {
              after: { retryDelay: { guard: 'canRetry', target: 'compacting' } },
              on: {
                COMPACT: {
                  target: 'compacting',
                  actions: assign(({ context, event }) => ({
                    trigger: 'manual' as const,
                    ...UNDECIDED_NONE,
                    attempts: 0,
                    blockedAtLiveTokens: null,
                    requestedKeepTokens: event.keepRecentTokens ?? null,
                    compactWaiters: event.reply
                      ? [...context.compactWaiters, event.reply]
                      : context.compactWaiters,
                  })),
                },
              },
              // After a no-progress failure, a change of context or description, or enough new
              // messages, may make progress possible. Other failures wait for their retry timer.
              always: [
                // A failure of before the doubt (a retry timer's) gives way to it.
                { guard: 'doubtNotYetFailure', actions: 'failWithDoubt' },
                { guard: 'hasPendingClear', target: 'clearing' },
                {
                  guard: 'noProgressMayLift',
                  target: 'compacting',
                  actions: assign({ trigger: 'threshold', ...UNDECIDED_NONE }),
                },
                {
                  // The context or description shrank: the request fits again.
                  guard: ({ context: c }) =>
                    c.failure?.noProgress === true && requestTokensOf(c) < thresholdOf(c.limits),
                  target: 'idle',
                  actions: assign({ failure: null, blockedAtLiveTokens: null, attempts: 0 }),
                },
              ],
            },
          },
        },
      },
    },
    unavailable: {
      on: {
        APPEND: {
          actions: { type: 'refuseAppends', params: ({ context }) => ({ error: context.loadError }) },
        },
        'APPEND.MANY': {
          actions: { type: 'refuseAppends', params: ({ context }) => ({ error: context.loadError }) },
        },
        COMPACT: { actions: ({ context, event }) => event.reply?.({ ok: false, error: context.loadError }) },
        CLEAR: { actions: ({ context, event }) => event.reply({ ok: false, error: context.loadError }) },
        CLOSE: 'closed',
      },
    },
    closing: {
      on: {
        APPEND: { actions: refuseClosing },
        'APPEND.MANY': { actions: refuseClosing },
        COMPACT: {
          actions: ({ context, event }) =>
            event.reply?.({ ok: false, error: closedError(context.sessionId) }),
        },
        CLEAR: {
          actions: ({ context, event }) => event.reply({ ok: false, error: closedError(context.sessionId) }),
        },
      },
      invoke: {
        src: 'close',
        input: ({ context }) => ({ sessionId: context.sessionId, requestTokens: requestTokensOf(context) }),
        onDone: 'closed',
        onError: 'closed',
      },
    },
    closed: {
      type: 'final',
    },
  },
  on: {
    APPEND: { actions: 'queueAppends' },
    'APPEND.MANY': { actions: 'queueAppends' },
    // In any state (a write while loading, the record written while closing): the first write in
    // doubt is the session's failure until a new actor loads the files (`ready` fails with it).
    'WRITE.IN_DOUBT': { guard: not('isInDoubt'), actions: 'takeDoubt' },
  },
});

/** A running session actor. */
export type SessionActorRef = ActorRefFrom<typeof sessionMachine>;
