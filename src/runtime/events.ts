/**
 * The events a runtime publishes, dotted lower case so that `session.*` matches them all.
 */
import type {
  CompactOutput,
  CompactionFailure,
  SessionMachineEmitted,
} from '../../machines/session.machine.js';
import type {
  CheckResult,
  CompactionEscalation,
  Message,
  SessionKey,
  SessionMachineState,
} from '../core/types.js';
import { publicFailure } from './session-info.js';
import { callListener } from '../core/call-listener.js';

interface Base {
  sessionId: string;
  /** ISO-8601 time the runtime published the event. */
  at: string;
}

/** Every event of a runtime. */
export type SessionEvent =
  | (Base & { type: 'session.created'; key: SessionKey })
  | (Base & { type: 'session.message.appended'; message: Message; liveTokens: number })
  | (Base & {
      type: 'session.compaction.started';
      trigger: 'threshold' | 'manual';
      attempt: number;
      watermarkSeq: number;
      tokensBefore: number;
      compactor: string;
    })
  | (Base & {
      type: 'session.compaction.completed';
      compactor: string;
      tokensBefore: number;
      tokensAfter: number;
      messagesCompacted: number;
      durationMs: number;
      checkpointVersion: number;
      /** The step of the no-progress guard it took: 0, 1 or 2 ({@link CompactionEscalation}). */
      escalation: CompactionEscalation;
      result: CompactOutput;
    })
  | (Base & {
      type: 'session.compaction.failed';
      code: string;
      reason: string;
      retryable: boolean;
      attempts: number;
      willRetryInMs: number | null;
      failure: CompactionFailure;
    })
  /**
   * A write of the session (a compaction's commit, a clear, an edit, `setContext`...) is in its
   * files but not durable: its file went in place, then the directory's fsync failed. The session
   * is `failed` with this `failure` (`details.outcome` `'in-place-not-durable'`, `details.installed`
   * the file) and takes appends only until `runtime.reopenSession(id)`; `reason` says so.
   */
  | (Base & {
      type: 'session.write.in-doubt';
      code: string;
      reason: string;
      retryable: false;
      failure: CompactionFailure;
    })
  | (Base & { type: 'session.compaction.progress'; chunk?: number; chunks?: number; outputTokens?: number })
  /** `cancelCompaction` stopped a compaction before its commit: nothing was written. */
  | (Base & { type: 'session.compaction.cancelled'; watermarkSeq: number })
  | (Base & { type: 'session.state.changed'; from: SessionMachineState; to: SessionMachineState })
  | (Base & { type: 'session.context.changed'; what: 'context' | 'agentDescription' })
  | (Base & { type: 'session.cleared'; archivedMessages: number; checkpointVersion: number })
  | (Base & { type: 'session.reset'; archivedMessages: number; checkpointVersion: number })
  | (Base & {
      type: 'session.checkpoint.edited';
      /** `edit`: a hand edit (`editCheckpoint`); `decision`: `recordDecision`. */
      what: 'edit' | 'decision';
      checkpointVersion: number;
    })
  | (Base & { type: 'session.archived' })
  | (Base & { type: 'session.checks.recorded'; checks: CheckResult[] });

/** The type names of {@link SessionEvent}. */
export type SessionEventType = SessionEvent['type'];

/**
 * A subscriber. Throwing in it, or (an async one) rejecting, does not disturb the runtime nor
 * the process: the error is logged to `console.error`, whole the first time; the same error of the
 * same listener again only at its 10th, 100th, 1,000th... time, as one line with the count.
 */
export type SessionEventListener = (event: SessionEvent) => void;

/** @internal A tiny synchronous event bus that isolates listeners' errors, thrown or rejected. */
export class EventBus {
  readonly #listeners = new Set<SessionEventListener>();
  readonly #onListenerError: (error: unknown, listener: SessionEventListener) => void;

  constructor(onListenerError: (error: unknown, listener: SessionEventListener) => void) {
    this.#onListenerError = onListenerError;
  }

  /** Whether anyone is subscribed (events need not be built otherwise). */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  subscribe(listener: SessionEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: SessionEvent): void {
    for (const listener of [...this.#listeners]) {
      callListener(listener, event, this.#onListenerError);
    }
  }
}

/**
 * @internal The runtime events for one event a session actor emitted.
 * @example sessionEventsOf({ type: 'compaction.failed', ... }, 'offline', new Date().toISOString())
 */
export function sessionEventsOf(
  emitted: SessionMachineEmitted,
  compactor: string,
  at: string,
): SessionEvent[] {
  const base = { sessionId: emitted.sessionId, at };
  switch (emitted.type) {
    case 'message.appended':
      return emitted.messages.map((message) => ({
        ...base,
        type: 'session.message.appended' as const,
        // Its content and metadata were frozen when validated; the message object itself is
        // the session's: listeners get a frozen copy of it, not it.
        message: Object.freeze({ ...message }),
        liveTokens: emitted.liveTokens,
      }));
    case 'compaction.started':
      return [
        {
          ...base,
          type: 'session.compaction.started',
          trigger: emitted.trigger,
          attempt: emitted.attempt,
          watermarkSeq: emitted.watermarkSeq,
          tokensBefore: emitted.tokensBefore,
          compactor,
        },
      ];
    case 'compaction.completed': {
      const r = emitted.result;
      return [
        {
          ...base,
          type: 'session.compaction.completed',
          compactor: r.compactor,
          tokensBefore: r.tokensBefore,
          tokensAfter: r.tokensAfter,
          messagesCompacted: r.messagesCompacted,
          durationMs: r.durationMs,
          checkpointVersion: r.checkpointVersion,
          escalation: r.escalation,
          result: { ...r },
        },
      ];
    }
    case 'cleared':
      // An edit publishes its own event (`session.checkpoint.edited`) with what it was.
      if (emitted.result.mode === 'edit') return [];
      return [
        {
          ...base,
          type: emitted.result.mode === 'reset' ? 'session.reset' : 'session.cleared',
          archivedMessages: emitted.result.archivedMessages,
          checkpointVersion: emitted.result.checkpointVersion,
        },
      ];
    case 'compaction.cancelled':
      return [{ ...base, type: 'session.compaction.cancelled', watermarkSeq: emitted.watermarkSeq }];
    case 'write.in-doubt': {
      const failure = publicFailure(emitted.failure);
      return [
        {
          ...base,
          type: 'session.write.in-doubt',
          code: failure.code,
          reason: failure.message,
          retryable: false,
          failure: { ...failure },
        },
      ];
    }
    case 'compaction.failed':
      return [compactionFailedEvent(base, emitted.failure, emitted.willRetryInMs)];
  }
}

/**
 * @internal The `session.compaction.failed` event of a failure, as every runtime publishes it (the
 * Restate object's for a session no compaction can help, src/restate/hopeless-session.ts, too).
 * @example compactionFailedEvent({ sessionId, at }, failure, null)
 */
export function compactionFailedEvent(
  base: { sessionId: string; at: string },
  emitted: CompactionFailure,
  willRetryInMs: number | null,
): Extract<SessionEvent, { type: 'session.compaction.failed' }> {
  const failure = publicFailure(emitted);
  return {
    ...base,
    type: 'session.compaction.failed',
    code: failure.code,
    reason: failure.message,
    retryable: failure.retryable,
    attempts: failure.attempts,
    willRetryInMs,
    failure: { ...failure },
  };
}
