/**
 * @internal Exact counts of appended messages, off the main thread: the texts asked for within
 * one turn of the event loop go to the counting worker as one request (a burst of 200 appends is
 * one round trip, counted on the other core), and counts are remembered by their text, so that a
 * retried or repeated text is not counted twice. Should the worker fail, the text is
 * counted here instead: the count is the same either way. A short text whose caller waits for its
 * write meanwhile can be counted here at once (`countNow`), remembered alike; if the worker has it,
 * its count is taken from the worker's slot when the worker has counted it already, waited for when
 * the worker is counting it, and otherwise counted here and skipped by the worker: one count per
 * text, not two.
 */
import { SLOT_COUNTING, sharedCountingWorker } from './counting-worker.js';
import { BY_TEXT_MAX_CHARS, CountCache } from './count-cache.js';
import type { TokenEncoding } from './encoding-cache.js';

export { BY_TEXT_MAX_CHARS, BY_TEXT_TOTAL_CHARS } from './count-cache.js';

/** @internal Counts texts exactly, batched on the counting worker. */
export interface CountBatcher {
  /** The exact count of `text`, as `countExact` on the main thread would give it. */
  count(text: string): Promise<number>;
  /**
   * The same count taken on this thread now (or remembered): for a short text whose caller waits
   * anyway. A short text still at the worker: the worker's count if it has taken it already (the
   * answer has not come), the worker's answer (a promise) if it is counting it now, else counted
   * here, and the worker skips it.
   */
  countNow(text: string): number | Promise<number>;
}

/**
 * @internal Creates a batcher for one encoding.
 * @param countHere - The main thread's exact count, used when the worker fails.
 */
export function createCountBatcher(
  encoding: TokenEncoding,
  countHere: (text: string) => number,
): CountBatcher {
  const cache = new CountCache();
  interface Batch {
    texts: string[];
    waiters: { resolve: (n: number) => void; reject: (e: unknown) => void }[];
    /** The worker's slot per text (see `CountingWorker.count`), once posted. */
    slots: Int32Array | null;
    /** The texts counted here before the batch was posted: the worker skips them. */
    skipped: number[];
  }
  let batch: Batch | null = null;
  /** Short texts asked for and not answered yet: the same text asked for again shares the count. */
  const inflight = new Map<string, { counting: Promise<number>; batch: Batch; index: number }>();

  async function flush(current: Batch): Promise<void> {
    try {
      await answer(current);
    } finally {
      for (const text of current.texts) if (inflight.get(text)?.batch === current) inflight.delete(text);
    }
  }

  async function answer(current: Batch): Promise<void> {
    const slots = (current.slots = new Int32Array(new SharedArrayBuffer(4 * current.texts.length)));
    for (const index of current.skipped) slots[index] = -1;
    let counts: number[];
    try {
      counts = await sharedCountingWorker().count(encoding, current.texts, slots);
    } catch {
      try {
        counts = current.texts.map(countHere);
      } catch (error) {
        for (const waiter of current.waiters) waiter.reject(error);
        return;
      }
    }
    for (const [i, waiter] of current.waiters.entries()) {
      // Skipped (-1): counted here meanwhile, its waiter answered then (as is one taken from its slot).
      if (counts[i]! < 0) continue;
      cache.remember(current.texts[i]!, counts[i]!);
      waiter.resolve(counts[i]!);
    }
  }

  /**
   * What the worker has of a text (`null`: nothing): its count, taken from its slot if the worker
   * has counted it already; its answer, if the worker is counting it now; else the slot is claimed,
   * so that the worker skips it, and the caller counts it (`tokens: null`). The text's callers get
   * the count given to `answer`.
   */
  function fromWorker(
    text: string,
  ): { tokens: number | null | Promise<number>; answer: (tokens: number) => void } | null {
    const at = inflight.get(text);
    if (at === undefined) return null;
    const answer = (tokens: number) => at.batch.waiters[at.index]!.resolve(tokens);
    if (at.batch.slots === null) {
      inflight.delete(text);
      at.batch.skipped.push(at.index);
      return { tokens: null, answer };
    }
    const slot = Atomics.compareExchange(at.batch.slots, at.index, 0, -1);
    if (slot === SLOT_COUNTING) return { tokens: at.counting, answer };
    inflight.delete(text);
    return { tokens: slot > 0 ? slot - 1 : null, answer };
  }

  return {
    countNow(text: string): number | Promise<number> {
      if (text.length === 0) return 0;
      const known = cache.recall(text);
      if (known !== undefined) return known;
      const worker = fromWorker(text);
      if (worker?.tokens instanceof Promise) return worker.tokens;
      const tokens = worker?.tokens ?? countHere(text);
      cache.remember(text, tokens);
      worker?.answer(tokens);
      return tokens;
    },
    count(text: string): Promise<number> {
      if (text.length === 0) return Promise.resolve(0);
      const known = cache.recall(text);
      if (known !== undefined) return Promise.resolve(known);
      const short = text.length <= BY_TEXT_MAX_CHARS;
      const pending = short ? inflight.get(text) : undefined;
      if (pending !== undefined) return pending.counting;
      if (batch === null) {
        const fresh: Batch = { texts: [], waiters: [], slots: null, skipped: [] };
        batch = fresh;
        // Everything asked for in this turn goes in one request.
        setImmediate(() => {
          if (batch === fresh) batch = null;
          void flush(fresh);
        });
      }
      const current = batch;
      const index = current.texts.length;
      const counting = new Promise<number>((resolve, reject) => {
        current.texts.push(text);
        current.waiters.push({ resolve, reject });
      });
      if (short) inflight.set(text, { counting, batch: current, index });
      return counting;
    },
  };
}
