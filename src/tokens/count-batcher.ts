/**
 * @internal Exact counts of appended messages, off the main thread: the texts asked for within
 * one turn of the event loop go to the counting worker as one request (a burst of 200 appends is
 * one round trip, counted on the other core), and counts are remembered by their text, so that a
 * retried or repeated text is not counted twice. Should the worker fail, the text is
 * counted here instead: the count is the same either way. A short text whose caller waits for its
 * write meanwhile can be counted here at once (`countNow`), remembered alike.
 */
import { createHash } from 'node:crypto';
import { sharedCountingWorker } from './counting-worker.js';
import type { TokenEncoding } from './encoding-cache.js';

/** Texts whose counts are remembered (least recently used ones are forgotten first). */
const CACHE_ENTRIES = 4096;
/**
 * @internal Texts up to this many characters are remembered by the text itself: a lookup hashes it
 * in V8 (1-3 us for 1 KB) instead of a SHA-1 through node:crypto (4-5 us, the text encoded to UTF-8
 * first). Longer ones by their SHA-1, whose cost is small beside their count's (V8 also hashes a
 * string of 16K+ characters by its length alone, which would make a poor key).
 */
export const BY_TEXT_MAX_CHARS = 8 * 1024;
/** @internal Characters of the texts remembered by themselves, at most (they are held in memory). */
export const BY_TEXT_TOTAL_CHARS = 4 * 1024 * 1024;

/** @internal Counts remembered by text: short texts by themselves, long ones by their hash. */
class CountCache {
  readonly #byText = new Map<string, number>();
  readonly #byHash = new Map<string, number>();
  #chars = 0;

  /** The count of `text` if remembered (it becomes the most recently used). */
  recall(text: string): number | undefined {
    const short = text.length <= BY_TEXT_MAX_CHARS;
    const map = short ? this.#byText : this.#byHash;
    const key = short ? text : hashOf(text);
    const known = map.get(key);
    if (known !== undefined) {
      map.delete(key); // most recently used last
      map.set(key, known);
    }
    return known;
  }

  remember(text: string, tokens: number): void {
    if (text.length > BY_TEXT_MAX_CHARS) {
      this.#byHash.set(hashOf(text), tokens);
      if (this.#byHash.size > CACHE_ENTRIES) this.#byHash.delete(this.#byHash.keys().next().value!);
      return;
    }
    if (!this.#byText.has(text)) this.#chars += text.length;
    this.#byText.set(text, tokens);
    while (this.#byText.size > CACHE_ENTRIES || this.#chars > BY_TEXT_TOTAL_CHARS) {
      const oldest = this.#byText.keys().next().value!;
      this.#byText.delete(oldest);
      this.#chars -= oldest.length;
    }
  }
}

const hashOf = (text: string): string => createHash('sha1').update(text).digest('base64');

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
  const cache = new CountCache();
  interface Batch {
    texts: string[];
    waiters: { resolve: (n: number) => void; reject: (e: unknown) => void }[];
  }
  let batch: Batch | null = null;
  /** Short texts asked for and not answered yet: the same text asked for again shares the count. */
  const inflight = new Map<string, Promise<number>>();

  async function flush(current: Batch): Promise<void> {
    try {
      await answer(current);
    } finally {
      for (const text of current.texts) inflight.delete(text);
    }
  }

  async function answer(current: Batch): Promise<void> {
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
      cache.remember(current.texts[i]!, counts[i]!);
      waiter.resolve(counts[i]!);
    }
  }

  return {
    countNow(text: string): number {
      if (text.length === 0) return 0;
      const known = cache.recall(text);
      if (known !== undefined) return known;
      const tokens = countHere(text);
      cache.remember(text, tokens);
      return tokens;
    },
    count(text: string): Promise<number> {
      if (text.length === 0) return Promise.resolve(0);
      const known = cache.recall(text);
      if (known !== undefined) return Promise.resolve(known);
      const short = text.length <= BY_TEXT_MAX_CHARS;
      const pending = short ? inflight.get(text) : undefined;
      if (pending !== undefined) return pending;
      const counting = new Promise<number>((resolve, reject) => {
        if (batch === null) {
          const current: Batch = { texts: [], waiters: [] };
          batch = current;
          // Everything asked for in this turn goes in one request.
          setImmediate(() => {
            if (batch === current) batch = null;
            void flush(current);
          });
        }
        batch.texts.push(text);
        batch.waiters.push({ resolve, reject });
      });
      if (short) inflight.set(text, counting);
      return counting;
    },
  };
}
