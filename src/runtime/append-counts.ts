/**
 * @internal The exact counts of appends taken off the caller's path (see append.ts) while the write
 * is in flight: a turn's few short texts on the main thread inside the write's `fdatasync`, the
 * others on the counting worker (the other core). A count known when the batch is
 * durable (the usual case for a few KB: the worker answers before the fdatasync ends) is taken by
 * the write's `persist` effect: the acknowledgement carries it and the actor takes it with the
 * write, and the actor gets one event for the append instead of two. A later one is handed to
 * the session afterwards (`COUNTED`, one event per worker answer), which reads, compactions,
 * clears and close wait for. One that waits counts on its own thread, idle meanwhile, the few
 * texts the worker has not started, from the last back while the worker goes from the first
 * (`countHere`): each text is counted once, by one of them.
 */
import type { SessionActorRef } from '../../machines/session.machine.js';
import { isInternalMessage } from '../core/request-size.js';
import type { Message, MessageInput } from '../core/types.js';
import { BY_TEXT_MAX_CHARS } from '../tokens/count-batcher.js';
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
  /** The append's bound: what counting it here would cost at most, in UTF-8 bytes (plus framing). */
  bound: number;
  /**
   * Counts it on this thread now, unless known already or being counted by the worker (then its
   * answer is waited for): the first answer settles `promise`.
   */
  countHere(): void;
}

/**
 * A count asked for by `countLater`: one object per append, its methods shared (a burst holds 200
 * of them until the worker answers). The first answer is kept; `promise` settles with it.
 */
class PendingCount implements Counting {
  value?: number;
  failed?: boolean;
  taken?: boolean;
  readonly bound: number;
  readonly promise: Promise<number>;
  readonly #estimator: TokenEstimator;
  readonly #input: MessageInput;
  #askedHere = false;
  #answer!: (count: number) => void;
  #fail!: (error: unknown) => void;

  constructor(estimator: TokenEstimator, input: MessageInput, bound: number) {
    this.#estimator = estimator;
    this.#input = input;
    this.bound = bound;
    this.promise = new Promise<number>(
      (resolve, reject) => ((this.#answer = resolve), (this.#fail = reject)),
    );
    this.promise.catch(ignore); // a failure is `failed`: the bound stays (a write that failed waits for none)
  }

  /**
   * Asks for the count: on this thread with `here` (by a read that waits for it, unless the worker
   * has started it, see count-batcher.ts), else with the turn's others. The same code and encoding
   * either way (the same number).
   */
  ask(here: boolean): void {
    if (this.#askedHere) return;
    this.#askedHere = here;
    this.#estimator.estimateMessageLater!(this.#input, here ? { countHere: true } : undefined).then(
      (count) => this.#settle(count, null),
      (error: unknown) => this.#settle(undefined, error),
    );
  }

  countHere(): void {
    this.ask(true);
  }

  #settle(count: number | undefined, error: unknown): void {
    if (this.value !== undefined || this.failed === true) return;
    if (count === undefined) {
      this.failed = true;
      this.#fail(error);
    } else {
      this.value = count;
      this.#answer(count);
    }
  }
}

const ignore = (): void => undefined;

/** Counts of one session waiting to be handed over together (one store call, one event). */
interface CountBatch {
  entry: LoadedSession;
  ref: SessionActorRef | undefined;
  counts: { seq: number; tokens: number; bound: number; internal: boolean }[];
  failed: number;
  /** Resolves once handed over (held by the store, sent to the actor). */
  done: Promise<void>;
}

/**
 * @internal The most tokens (by their bounds: UTF-8 bytes plus framing) that the appends of one turn
 * may have to be counted on the main thread, inside their write's `fdatasync`. Counting there
 * costs more than in a tight loop (measured inside the runtime on a loaded 2-core machine: 130-150
 * us for 300 characters, 360-380 us for 1 KB): short texts fit the `fdatasync` with room to spare
 * (the append's p50 did not move), a 1 KB one made it 120-430 us slower. More goes to the counting
 * worker: neither a burst of appends nor a long text holds the main thread.
 */
export const COUNT_HERE_PER_TURN = 512;

/**
 * @internal The most tokens (by their bounds: UTF-8 bytes plus framing) of acknowledged appends
 * still at the counting worker that a read waiting for them counts on its own thread (it waits, so
 * the thread is idle): all of them, from the last back, or, past this, none (a burst's: the worker
 * answers those it was given together). Texts the worker has started are waited for, not counted
 * twice (count-batcher.ts), and each is of at most `BY_TEXT_MAX_CHARS`: about 5 ms of counting
 * at most, under what a message counted on the caller's thread may take
 * (`DEFAULT_OFF_THREAD_CHARS`: 10-15 ms). Measured in the replay, reads alternated per call in one
 * process: 2 KB before (docs/architecture.md, "A read's counts (round 13)").
 */
export const READ_COUNTS_HERE = 32 * 1024;

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

  /** The appends of this turn of the event loop whose counts start together after it. */
  interface Turn {
    bound: number;
    counts: PendingCount[];
  }
  let turn: Turn | null = null;

  /** Starts the turn's counts after its microtasks: on this thread if they are few, else on the worker. */
  function nextTurn(): Turn {
    const current: Turn = { bound: 0, counts: [] };
    setImmediate(() => {
      if (turn === current) turn = null;
      const here = current.bound <= COUNT_HERE_PER_TURN;
      for (const counting of current.counts) counting.ask(here);
    });
    return current;
  }

  /**
   * Counts exactly, starting after the turn's microtasks: by then the append's write is usually
   * issued, so that counting is not on its way (docs/architecture.md, "Counts after the write").
   * When the turn's appends are short (their bounds add up to at most `COUNT_HERE_PER_TURN`),
   * they are counted on this thread while their `fdatasync` runs, which the caller waits for
   * anyway: the count is then known when the write is durable. Otherwise (a burst, a long text)
   * on the counting worker, batched with the others asked for in the same turn.
   */
  function countLater(input: MessageInput, bound: number): Counting {
    const current = (turn ??= nextTurn());
    current.bound += bound;
    const counting = new PendingCount(estimator, input, bound);
    current.counts.push(counting);
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
    // Answered before the actor took their batch (session-effects.ts): the count follows it.
    if (batch.entry.booking !== undefined) await batch.entry.booking;
    if (batch.ref?.getSnapshot().status === 'active') batch.ref.send({ type: 'COUNTED', delta, count });
  }

  /** Per session, the counts of acknowledged appends still being taken (at the worker, mostly). */
  const late = new WeakMap<LoadedSession, Set<Counting>>();

  function lateOf(entry: LoadedSession): Set<Counting> {
    let counts = late.get(entry);
    if (counts === undefined) {
      const known = (counts = new Set());
      late.set(entry, known);
      entry.countHere = () => countHereIfShort(known);
    }
    return counts;
  }

  /**
   * A read waits for these counts, its thread idle meanwhile: counted here, from the last back (the
   * worker goes from the first), if they add up to at most `READ_COUNTS_HERE`; a text the worker
   * has started or counted is taken from it, not counted again (count-batcher.ts). A longer text
   * (past `BY_TEXT_MAX_CHARS`, which the batcher does not follow at the worker) is left to it.
   */
  function countHereIfShort(counts: Set<Counting>): void {
    const short = [...counts].filter((counting) => counting.bound <= BY_TEXT_MAX_CHARS);
    let bound = 0;
    for (const counting of short) bound += counting.bound;
    if (bound === 0 || bound > READ_COUNTS_HERE) return;
    for (const counting of short.reverse()) counting.countHere();
  }

  /** The message to return: with its exact count if known already; else counted in the background. */
  function settle(id: string, message: Message, counting: Counting): Message {
    const entry = deps.registry.entry(id);
    if (!entry) return message;
    const ref = deps.refOf(id);
    const set = (entry.counting ??= new Set());
    const hold = (work: Promise<void>) => {
      set.add(work);
      const done = () => set.delete(work);
      work.then(done, done);
    };
    if (counting.value !== undefined) {
      hold(deliver(entry, ref, message, counting.value));
      return Object.freeze({ ...message, tokens: counting.value });
    }
    const counts = lateOf(entry);
    counts.add(counting);
    // Held until handed over: a read, compaction, clear or close waits for it.
    hold(
      counting.promise.then(
        (value) => (counts.delete(counting), deliver(entry, ref, message, value)),
        () => (counts.delete(counting), deliver(entry, ref, message, null)),
      ),
    );
    return message;
  }

  return { countLater, exactOf, settle };
}
