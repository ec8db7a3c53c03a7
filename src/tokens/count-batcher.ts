/**
 * @internal Exact counts of appended messages, off the main thread: the texts asked for within
 * one turn of the event loop go to the counting worker as one request (a burst of 200 appends is
 * one round trip, counted on the other core), and counts are remembered by a hash of their text,
 * so that a retried or repeated text is not counted twice. Should the worker fail, the text is
 * counted here instead: the count is the same either way. A short text whose caller waits for its
 * write meanwhile can be counted here at once (`countNow`), remembered alike.
 */
import { createHash } from 'node:crypto';
import { sharedCountingWorker } from './counting-worker.js';
import type { TokenEncoding } from './encoding-cache.js';

/** Texts whose counts are remembered (least recently used ones are forgotten first). */
const CACHE_ENTRIES = 4096;

/** @internal Counts texts exactly, batched on the counting worker. */
export interface CountBatcher {
  /** The exact count of `text`, as `countExact` on the main thread would give it. */
  count(text: string): Promise<number>;
  /** The same count taken on this thread now (or remembered): for a short text whose caller waits anyway. */
  countNow(text: string): number;
}

/**
 * @internal Creates a batcher for one encoding.
 * @param countHere - The main thread's exact count, used when the worker fails.
 */
export function createCountBatcher(
  encoding: TokenEncoding,
  countHere: (text: string) => number,
): CountBatcher {
  const cache = new Map<string, number>();
  interface Batch {
    texts: string[];
    keys: string[];
    waiters: { resolve: (n: number) => void; reject: (e: unknown) => void }[];
  }
  let batch: Batch | null = null;

  function remember(key: string, tokens: number): void {
    cache.set(key, tokens);
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  }

  async function flush(current: Batch): Promise<void> {
    let counts: number[];
    try {
      counts = await sharedCountingWorker().count(encoding, current.texts);
    } catch {
      try {
        counts = current.texts.map(countHere);
      } catch (error) {
        for (const waiter of current.waiters) waiter.reject(error);
        return;
      }
    }
    for (const [i, waiter] of current.waiters.entries()) {
      remember(current.keys[i]!, counts[i]!);
      waiter.resolve(counts[i]!);
    }
  }

  const keyOf = (text: string): string => createHash('sha1').update(text).digest('base64');
  function recalled(key: string): number | undefined {
    const known = cache.get(key);
    if (known !== undefined) {
      cache.delete(key); // most recently used last
      cache.set(key, known);
    }
    return known;
  }

  return {
    countNow(text: string): number {
      if (text.length === 0) return 0;
      const key = keyOf(text);
      const known = recalled(key);
      if (known !== undefined) return known;
      const tokens = countHere(text);
      remember(key, tokens);
      return tokens;
    },
    count(text: string): Promise<number> {
      if (text.length === 0) return Promise.resolve(0);
      const key = keyOf(text);
      const known = recalled(key);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise<number>((resolve, reject) => {
        if (batch === null) {
          const current: Batch = { texts: [], keys: [], waiters: [] };
          batch = current;
          // Everything asked for in this turn goes in one request.
          setImmediate(() => {
            if (batch === current) batch = null;
            void flush(current);
          });
        }
        batch.texts.push(text);
        batch.keys.push(key);
        batch.waiters.push({ resolve, reject });
      });
    },
  };
}
