/**
 * The session statechart's setup: its types, the effects it names (provided by the runtime, faked
 * by tests), its named actions, guards and delays. The chart itself is in session.machine.ts.
 */
import { and, assign, fromPromise, not, setup, stateIn } from 'xstate';
import type { Message } from '../src/core/types.js';
import {
  compactionDue,
  notImplemented,
  requestTokensOf,
  retryDelayOf,
  thresholdOf,
} from './session.helpers.js';
import type {
  ClearMode,
  ClearOutput,
  CompactInput,
  CompactOutput,
  LoadOutput,
  SessionMachineContext,
  SessionMachineEmitted,
  SessionMachineEvent,
  SessionMachineInput,
} from './session.types.js';

/** @internal The context a session actor starts with. */
export function initialContext(input: SessionMachineInput): SessionMachineContext {
  return {
    sessionId: input.sessionId,
    limits: input.limits,
    autoCompact: input.autoCompact ?? true,
    correction: input.correction ?? 1,
    compactionTimeoutMs: input.compactionTimeoutMs ?? 150_000,
    retryBaseMs: input.retryBaseMs ?? 1_000,
    retryMaxMs: input.retryMaxMs ?? 300_000,
    liveTokens: 0,
    liveCount: 0,
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
  };
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
    persist: fromPromise<undefined, { sessionId: string; messages: Message[] }>(async () =>
      notImplemented('persist'),
    ),
    compact: fromPromise<CompactOutput, CompactInput>(async () => notImplemented('compact')),
    close: fromPromise<undefined, { sessionId: string; requestTokens: number }>(async () =>
      notImplemented('close'),
    ),
    clear: fromPromise<ClearOutput, { sessionId: string; watermarkSeq: number; mode: ClearMode }>(async () =>
      notImplemented('clear'),
    ),
  },
  actions: {
    queueClear: assign(({ context, event }) => {
      if (event.type !== 'CLEAR') return {};
      // Two requests queued together: a reset wins over a clear, and both callers hear the result.
      return {
        pendingClear: {
          mode: context.pendingClear?.mode === 'reset' ? 'reset' : event.mode,
          waiters: [...(context.pendingClear?.waiters ?? []), event.reply],
        },
      };
    }),
  },
  guards: {
    shouldCompact: ({ context }) => compactionDue(context),
    // After a no-progress failure: a change of context or description, or enough new messages.
    noProgressMayLift: ({ context }) => context.failure?.noProgress === true && compactionDue(context),
    hasQueue: ({ context }) => context.queue.length > 0,
    hasPendingClear: ({ context }) => context.pendingClear !== null,
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
