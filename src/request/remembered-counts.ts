/**
 * @internal Counts of the long texts a request counts again at every build, remembered by their
 * text per estimator: the checkpoint as rendered, and the system prompt's head that holds it, are
 * the same from one request of a session to the next until its next compaction. Counting them
 * anew cost about 3 ms a request in the replay of the real transcripts at a 20k limit (2.6 of its
 * 3.1 ms). They are kept in the count cache the counting worker's batcher uses (`CountCache`,
 * bounded in entries and characters). The count is the estimator's own for the same text: the
 * request does not change.
 */
import { CountCache } from '../tokens/count-cache.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';

/** @internal Texts shorter than this are counted every time: cheap, and too many to keep. */
export const REMEMBER_FROM_CHARS = 1024;

const REMEMBERED = new WeakMap<TokenEstimator, CountCache>();

/**
 * @internal `estimator.estimate(text)`, remembered for texts of {@link REMEMBER_FROM_CHARS}
 * characters or more.
 */
export function rememberedCount(estimator: TokenEstimator, text: string): number {
  if (text.length < REMEMBER_FROM_CHARS) return estimator.estimate(text);
  let cache = REMEMBERED.get(estimator);
  if (cache === undefined) REMEMBERED.set(estimator, (cache = new CountCache()));
  const known = cache.recall(text);
  if (known !== undefined) return known;
  const tokens = estimator.estimate(text);
  cache.remember(text, tokens);
  return tokens;
}
