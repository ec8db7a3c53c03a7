/**
 * Replays a conversation through a session as an agent loop would: append each message, and
 * before every assistant turn (a request to the model) make sure the request fits, waiting for
 * the compaction it needs. Measures what happened.
 */
import { performance } from 'node:perf_hooks';
import type { CompactionEscalation, MessageInput } from '../core/types.js';
import type { SessionEvent } from '../runtime/events.js';
import type { SessionRuntime } from '../runtime/create-session-runtime.js';

/** One compaction seen during a replay. */
export interface ReplayCompaction {
  /** Index of the replayed message after which it completed. */
  afterMessage: number;
  tokensBefore: number;
  tokensAfter: number;
  messagesCompacted: number;
  durationMs: number;
  compactor: string;
  /** The step of the no-progress guard it took ({@link CompactionEscalation}). */
  escalation: CompactionEscalation;
}

/** What a replay reports. */
export interface ReplayReport {
  messages: number;
  compactions: ReplayCompaction[];
  failures: { code: string; reason: string }[];
  /** Requests checked (one before each assistant turn). */
  requests: number;
  /** Largest request estimate at request time, in tokens. */
  largestRequest: number;
  /** Requests over the limit (must be 0). */
  requestsOverLimit: number;
  limit: number;
  threshold: number;
  appendP50Ms: number;
  appendP99Ms: number;
  totalMs: number;
  /** Messages in the session's full history afterwards (archive + live). */
  historyMessages: number;
  /** Whether the history holds every replayed message, identical, in order. */
  historyIntact: boolean;
}

/** Options of {@link replayConversation}. */
export interface ReplayOptions {
  onProgress?: (done: number, total: number) => void;
}

/** @internal The q-quantile of sorted numbers. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

/**
 * Appends `messages` to session `sessionId` one by one and checks the request size before each
 * assistant turn, waiting for compaction when the request would pass the threshold.
 * @throws whatever the runtime throws (a message the runtime refuses, a closed runtime).
 * @example
 * ```ts
 * const report = await replayConversation(runtime, session.id, transcript.messages)
 * report.requestsOverLimit // 0
 * ```
 */
export async function replayConversation(
  runtime: SessionRuntime,
  sessionId: string,
  messages: readonly MessageInput[],
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const started = performance.now();
  const compactions: ReplayCompaction[] = [];
  const failures: { code: string; reason: string }[] = [];
  let index = 0;
  const unsubscribe = runtime.subscribe((event: SessionEvent) => {
    if (event.sessionId !== sessionId) return;
    if (event.type === 'session.compaction.completed') {
      compactions.push({
        afterMessage: index,
        tokensBefore: event.tokensBefore,
        tokensAfter: event.tokensAfter,
        messagesCompacted: event.messagesCompacted,
        durationMs: event.durationMs,
        compactor: event.compactor,
        escalation: event.escalation,
      });
    } else if (event.type === 'session.compaction.failed') {
      failures.push({ code: event.code, reason: event.reason });
    }
  });
  const latencies: number[] = [];
  const before = (await runtime.getHistory(sessionId)).length;
  let requests = 0;
  let largestRequest = 0;
  let requestsOverLimit = 0;
  let limit = 0;
  let threshold = 0;
  try {
    for (index = 0; index < messages.length; index++) {
      const message = messages[index]!;
      if (message.role === 'assistant') {
        // The agent is about to call the model with everything so far.
        let size = await runtime.estimateSize(sessionId);
        if (size.needsCompaction) {
          await runtime.compact(sessionId).catch(() => undefined); // a failure is reported by its event
          size = await runtime.estimateSize(sessionId);
        }
        requests++;
        limit = size.limit;
        threshold = size.threshold;
        largestRequest = Math.max(largestRequest, size.total);
        if (size.total > size.limit) requestsOverLimit++;
      }
      const t0 = performance.now();
      await runtime.addMessage(sessionId, message);
      latencies.push(performance.now() - t0);
      options.onProgress?.(index + 1, messages.length);
    }
    const final = await runtime.estimateSize(sessionId);
    limit = final.limit;
    threshold = final.threshold;
    const history = await runtime.getHistory(sessionId);
    const replayed = history.slice(before);
    const historyIntact =
      replayed.length === messages.length &&
      replayed.every(
        (m, i) =>
          m.role === messages[i]!.role && JSON.stringify(m.content) === JSON.stringify(messages[i]!.content),
      );
    latencies.sort((a, b) => a - b);
    return {
      messages: messages.length,
      compactions,
      failures,
      requests,
      largestRequest,
      requestsOverLimit,
      limit,
      threshold,
      appendP50Ms: quantile(latencies, 0.5),
      appendP99Ms: quantile(latencies, 0.99),
      totalMs: performance.now() - started,
      historyMessages: history.length,
      historyIntact,
    };
  } finally {
    unsubscribe();
  }
}
