/**
 * @internal The exact counts of appends taken off the caller's path (see append.ts), on the
 * counting worker (the other core) while the write is in flight. A count known when the batch is
 * durable (the usual case for a few KB: the worker answers before the fdatasync ends) is taken by
 * the write's `persist` effect: the acknowledgement carries it and the actor takes it with the
 * write. A later one is handed to the session afterwards (`COUNTED`, one event per worker
 * answer), which reads, compactions, clears and close wait for.
 */
import type { SessionActorRef } from '../../machines/session.machine.js';
import { isInternalMessage } from '../core/request-size.js';
import type { Message, MessageInput } from '../core/types.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import type { LoadedSession, SessionRegistry } from './session-registry.js';

/**
 * @internal An exact count being taken: `value` once known, `failed` if it could not be taken; `taken` once
 * the write's `persist` effect took it (it hands it to the store and the actor: nothing left to do).
 */
export interface Counting {
  promise: Promise<number>;
  value?: number;
  failed?: boolean;
  taken?: boolean;
  /** Counts it on this thread now (for a small message), if the worker has not answered yet. */
  now?: () => void;
}

/**
 * Messages with bounds up to this (about as many UTF-8 bytes) are counted on the main thread by a
 * read that finds their count still on the worker (a few tenths of a millisecond: less than the
 * worker's round trip when the disk syncs fast). Larger ones are waited for: counting them here
 * would stall the event loop, which is what the worker is for.
 */
export const COUNT_NOW_BOUND = 16_384;

/** Counts of one session waiting to be handed over together (one store call, one event). */
interface CountBatch {
  entry: LoadedSession;
  ref: SessionActorRef | undefined;
  counts: { seq: number; tokens: number; bound: number; internal: boolean }[];
  failed: number;
  /** Resolves once handed over (held by the store, sent to the actor). */
  done: Promise<void>;
}

/** @internal What the counts need of the runtime. */
export interface AppendCountsDeps {
  registry: Pick<SessionRegistry, 'entry'>;
  estimator: TokenEstimator;
  /** The session's actor while it runs, without loading it (exact counts are sent to it). */
  refOf(id: string): SessionActorRef | undefined;
}

/** @internal Counting of appends, for one runtime. */
export function createAppendCounts(deps: AppendCountsDeps) {
  const { estimator } = deps;

  /**
   * Counts exactly on the counting worker (batched with the others of this event-loop turn); a
   * small message can also be counted here, at once, by a read that needs its count (`now`).
   */
  function countLater(input: MessageInput, bound: number): Counting {
    let end!: { resolve: (n: number) => void; reject: (e: unknown) => void };
    const counting: Counting = { promise: new Promise((resolve, reject) => (end = { resolve, reject })) };
    counting.promise.catch(() => undefined); // seen through `failed`
    const done = (value: number | null, error?: unknown) => {
      if (counting.value !== undefined || counting.failed === true) return; // the first one counts
      if (value === null) {
        counting.failed = true;
        end.reject(error);
      } else end.resolve((counting.value = value));
    };
    estimator.estimateMessageLater!(input).then(
      (value) => done(value),
      (error: unknown) => done(null, error),
    );
    if (bound <= COUNT_NOW_BOUND) {
      counting.now = () => {
        try {
          done(estimator.estimateMessage(input)); // the same count as the worker's
        } catch (error) {
          done(null, error);
        }
      };
    }
    return counting;
  }

  /** The count for the write's `persist` effect: once it takes it, it records it. */
  function exactOf(counting: Counting): () => number | undefined {
    return () => {
      if (counting.value !== undefined) counting.taken = true;
      return counting.value;
    };
  }

  const batches = new Map<LoadedSession, CountBatch>();

  /** Hands a message's exact count (or its failure: the bound stays) to the session, batched. */
  function deliver(
    entry: LoadedSession,
    ref: SessionActorRef | undefined,
    message: Message,
    exact: number | null,
  ): Promise<void> {
    let batch = batches.get(entry);
    if (!batch) {
      let handedOver!: () => void;
      const done = new Promise<void>((resolve) => (handedOver = resolve));
      const fresh: CountBatch = { entry, ref, counts: [], failed: 0, done };
      batches.set(entry, (batch = fresh));
      // The counts of one worker answer arrive together: one store call and one event for them.
      queueMicrotask(() => {
        batches.delete(entry);
        void handOver(fresh).finally(handedOver);
      });
    }
    if (exact === null) batch.failed++;
    else {
      // An internal message is never sent: its bound is not in the figures, nor is its count.
      batch.counts.push({
        seq: message.seq,
        tokens: exact,
        bound: message.tokens,
        internal: isInternalMessage(message),
      });
    }
    return batch.done;
  }

  async function handOver(batch: CountBatch): Promise<void> {
    let delta = 0;
    try {
      const live = await batch.entry.dir.recordCounts(batch.counts);
      const bySeq = new Map(batch.counts.map((c) => [c.seq, c]));
      for (const c of live) {
        const given = bySeq.get(c.seq)!;
        if (!given.internal) delta += c.tokens - given.bound;
      }
    } catch {
      // The store refused (closed, read-only): the figures keep the bounds; a load counts again.
    }
    const count = batch.counts.length + batch.failed;
    if (batch.ref?.getSnapshot().status === 'active') batch.ref.send({ type: 'COUNTED', delta, count });
  }

  /** The message to return: with its exact count if known already; else counted in the background. */
  function settle(id: string, message: Message, counting: Counting): Message {
    const entry = deps.registry.entry(id);
    if (!entry) return message;
    const ref = deps.refOf(id);
    const set = (entry.counting ??= new Set());
    const hold = (work: Promise<void>) => {
      set.add(work);
      void work.finally(() => set.delete(work));
    };
    if (counting.value !== undefined) {
      hold(deliver(entry, ref, message, counting.value));
      return Object.freeze({ ...message, tokens: counting.value });
    }
    // Held until handed over: a compaction, clear or close waits for it (a read counts it now).
    const now = counting.now === undefined ? undefined : { bound: message.tokens, now: counting.now };
    if (now !== undefined) (entry.countNow ??= new Set()).add(now);
    hold(
      counting.promise
        .then(
          (value) => deliver(entry, ref, message, value),
          () => deliver(entry, ref, message, null),
        )
        .finally(() => now !== undefined && entry.countNow?.delete(now)),
    );
    return message;
  }

  return { countLater, exactOf, settle };
}
