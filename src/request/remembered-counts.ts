/**
 * @internal Counts of the texts a request counts again at every build, remembered per estimator.
 * The checkpoint as rendered, and the system prompt's head that holds it, are the same from one
 * request of a session to the next until its next compaction: counting them anew cost about 3 ms a
 * request in the replay of the real transcripts at a 20k limit (2.6 of its 3.1 ms). They are kept
 * in the count cache the counting worker's batcher uses (`CountCache`, bounded in entries and
 * characters). The few texts of the last builds (those, the description, the context, the joins)
 * are also kept as they are and found by comparing the texts, before the count cache hashes a long
 * one (SHA-1) or a short one is counted again: a session's next build renders the same texts. The
 * count is the estimator's own for the same text: the request does not change.
 */
import type { ContentBlock } from '../core/types.js';
import { CountCache } from '../tokens/count-cache.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';

/** @internal Texts shorter than this are kept in the count cache only among the last few. */
export const REMEMBER_FROM_CHARS = 1024;
/** @internal How many of the texts last counted are kept as they are, per estimator. */
export const RECENT_TEXTS = 8;

/** What an estimator counted last: texts and counts in a ring, the oldest replaced first. */
interface Recent {
  texts: string[];
  counts: number[];
  next: number;
}

const REMEMBERED = new WeakMap<TokenEstimator, { cache: CountCache; recent: Recent }>();

/** What `estimator` counted lately, made the first time it is asked for. */
function memoOf(estimator: TokenEstimator): { cache: CountCache; recent: Recent } {
  let memo = REMEMBERED.get(estimator);
  if (memo === undefined) {
    memo = { cache: new CountCache(), recent: { texts: [], counts: [], next: 0 } };
    REMEMBERED.set(estimator, memo);
  }
  return memo;
}

/** Keeps `tokens` among the last texts counted, the oldest replaced. */
function keepRecent({ recent }: { recent: Recent }, text: string, tokens: number): void {
  recent.texts[recent.next] = text;
  recent.counts[recent.next] = tokens;
  recent.next = (recent.next + 1) % RECENT_TEXTS;
}

/**
 * @internal The count {@link rememberedCount} would give `text` without counting it: among the
 * last texts, or in the count cache; undefined when it would have to count.
 */
export function recalledCount(estimator: TokenEstimator, text: string): number | undefined {
  const memo = memoOf(estimator);
  const at = memo.recent.texts.indexOf(text);
  if (at >= 0) return memo.recent.counts[at]!;
  return text.length < REMEMBER_FROM_CHARS ? undefined : memo.cache.recall(text);
}

/**
 * @internal Remembers `tokens` as the count of `text`: `estimator.estimate(text)` made elsewhere
 * (on the counting worker, or persisted with the session), kept as {@link rememberedCount} keeps its own.
 */
export function rememberCount(estimator: TokenEstimator, text: string, tokens: number): void {
  const memo = memoOf(estimator);
  if (text.length >= REMEMBER_FROM_CHARS) memo.cache.remember(text, tokens);
  keepRecent(memo, text, tokens);
}

/**
 * @internal `estimator.estimate(text)`, remembered: among the last {@link RECENT_TEXTS} texts, and
 * in a count cache for texts of {@link REMEMBER_FROM_CHARS} characters or more.
 */
export function rememberedCount(estimator: TokenEstimator, text: string): number {
  const memo = memoOf(estimator);
  const { recent } = memo;
  // The same string (a constant) or an equal one: V8 compares lengths first, then the characters.
  const at = recent.texts.indexOf(text);
  if (at >= 0) return recent.counts[at]!;
  let tokens: number | undefined;
  if (text.length < REMEMBER_FROM_CHARS) tokens = estimator.estimate(text);
  else {
    tokens = memo.cache.recall(text);
    if (tokens === undefined) memo.cache.remember(text, (tokens = estimator.estimate(text)));
  }
  keepRecent(memo, text, tokens);
  return tokens;
}

/** Counts of a lone frozen block, per estimator (a messages-form list's placeholder). */
const LONE_BLOCKS = new WeakMap<TokenEstimator, WeakMap<object, number>>();

/**
 * @internal `estimator.estimateContent(blocks)` (0 for none), remembered when the blocks are one
 * frozen block: the placeholder a list starting with the assistant gets, the same object for every
 * build (counting it again cost about 0.1 ms a build in the replay of the real transcripts).
 */
export function rememberedBlocksCount(estimator: TokenEstimator, blocks: readonly ContentBlock[]): number {
  if (blocks.length === 0) return 0;
  const only = blocks.length === 1 ? blocks[0] : undefined;
  if (only === undefined || !Object.isFrozen(only)) return estimator.estimateContent([...blocks]);
  let counts = LONE_BLOCKS.get(estimator);
  if (counts === undefined) LONE_BLOCKS.set(estimator, (counts = new WeakMap()));
  let tokens = counts.get(only);
  if (tokens === undefined) counts.set(only, (tokens = estimator.estimateContent([only])));
  return tokens;
}
