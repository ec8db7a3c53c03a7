/**
 * @internal Token counts remembered by their text, bounded in entries and in the characters held.
 * @example
 * ```ts
 * const cache = new CountCache()
 * const tokens = cache.recall(text) ?? count(text) // then: cache.remember(text, tokens)
 * ```
 */
import { createHash } from 'node:crypto';

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

/**
 * @internal Counts remembered by text, least recently used forgotten first: short texts by
 * themselves, long ones by their hash. The counting worker's batcher keeps one per encoding, and a
 * request build one per estimator (src/request/remembered-counts.ts).
 */
export class CountCache {
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
