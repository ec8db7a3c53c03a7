/**
 * @internal Counts of the long texts a request counts again at every build, remembered by their
 * text per estimator: the checkpoint as rendered, and the system prompt's head that holds it, are
 * the same from one request of a session to the next until its next compaction. Counting them
 * anew cost about 3 ms a request in the replay of the real transcripts at a 20k limit (2.6 of its
 * 3.1 ms); a lookup compares the text with those of the same length (a `memcmp` of a few
 * microseconds). The count is the estimator's own for the same text: the request does not change.
 */
import type { TokenEstimator } from '../tokens/token-estimator.js';

/** @internal Texts shorter than this are counted every time: cheap, and too many to keep. */
export const REMEMBER_FROM_CHARS = 1024;
/** @internal Remembered texts per estimator, at most (the oldest are forgotten first). */
const MAX_TEXTS = 256;
/** @internal Characters of the remembered texts per estimator, at most (they are held in memory). */
const MAX_CHARS = 4 * 1024 * 1024;

interface Remembered {
  /** By length, then by text: no hash of a long text is taken, and equal lengths are few. */
  byLength: Map<number, { text: string; tokens: number }[]>;
  /** In the order remembered, to forget the oldest. */
  order: string[];
  chars: number;
}

const REMEMBERED = new WeakMap<TokenEstimator, Remembered>();

/**
 * @internal `estimator.estimate(text)`, remembered for texts of {@link REMEMBER_FROM_CHARS}
 * characters or more.
 */
export function rememberedCount(estimator: TokenEstimator, text: string): number {
  if (text.length < REMEMBER_FROM_CHARS) return estimator.estimate(text);
  let memo = REMEMBERED.get(estimator);
  if (memo === undefined) {
    memo = { byLength: new Map(), order: [], chars: 0 };
    REMEMBERED.set(estimator, memo);
  }
  const same = memo.byLength.get(text.length);
  const known = same?.find((entry) => entry.text === text);
  if (known !== undefined) return known.tokens;
  const tokens = estimator.estimate(text);
  if (same === undefined) memo.byLength.set(text.length, [{ text, tokens }]);
  else same.push({ text, tokens });
  memo.order.push(text);
  memo.chars += text.length;
  while (memo.order.length > MAX_TEXTS || memo.chars > MAX_CHARS) forgetOldest(memo);
  return tokens;
}

function forgetOldest(memo: Remembered): void {
  const oldest = memo.order.shift()!;
  memo.chars -= oldest.length;
  const same = memo.byLength.get(oldest.length)!;
  same.splice(
    same.findIndex((entry) => entry.text === oldest),
    1,
  );
  if (same.length === 0) memo.byLength.delete(oldest.length);
}
