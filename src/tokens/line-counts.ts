/**
 * @internal Exact counts of a text as the sum of its lines' counts, each distinct line counted once.
 *
 * A checkpoint is counted many times while it is fitted to its budget (every draft of a bisection,
 * the compactor's view of the ledger, the previous checkpoint at the next compaction), and
 * its drafts share most of their lines. Counting each line once and adding the counts gives
 * exactly the count of the whole text, for these reasons:
 *
 * - The tokenizers count the pieces their pre-tokenising regex cuts the text into, one by one.
 *   Both supported patterns (cl100k_base, o200k_base) start a new piece after a line break that
 *   is followed by anything but whitespace or (o200k: `[\r\n/]*` ends a punctuation piece) a slash:
 *   no alternative matches a line break followed by such a character, and none looks behind.
 *   Everything before the cut is matched as in the whole text (the lookaheads `(?!\S)` and `$`
 *   only decide between alternatives that match the same whitespace run ending in a line break).
 * - `countExact` extrapolates homogeneous runs of letters, punctuation or whitespace; none of them
 *   contains a line break followed by a non-space, so every line holds the same runs as it does
 *   in the whole text.
 * - `countExact` encodes long text in chunks of {@link MAX_CHUNK} characters, cut before a space
 *   that follows a non-space (a piece boundary) in the second half of the chunk, or else somewhere
 *   less exact. The lines are counted this way only when such a space comes at least every
 *   {@link MAX_GAP} characters, so that every chunk of the whole text is cut exactly.
 * - Text holding U+FEFF is counted by another tokenizer (see encoding-cache.ts), and the rarer
 *   spaces (U+1680, U+2000-U+200A, U+202F, U+205F) are whitespace to the tokenizers but not to the
 *   chunk cut, which could then cut between two whitespace pieces: such text is counted whole.
 *
 * `test/properties/line-counts.property.test.ts` checks the equality on generated checkpoints and
 * texts of every kind, for both encodings.
 */
import { MAX_CHUNK, isWhitespace } from './exact-count.js';

/** Longest stretch without a space after a non-space (an exact chunk cut) for which lines are summed. */
const MAX_GAP = MAX_CHUNK / 4;
/** Lines a cache keeps before it starts again (about 100 bytes each in a checkpoint). */
const MAX_CACHED_LINES = 20_000;
/** U+FEFF and the spaces that the chunk cut does not take for whitespace (see the module comment). */
const COUNTED_WHOLE = /[\ufeff\u1680\u2000-\u200a\u202f\u205f]/;

/**
 * @internal A remembered count per line, bounded: emptied when it reaches {@link MAX_CACHED_LINES}.
 * @example const cache: LineCounts = new Map()
 */
export type LineCounts = Map<string, number>;

/**
 * @internal `count(text)`, computed as the sum of `count(line)` over the lines of `text` (cut after
 * a line break followed by neither whitespace nor `/`), each line looked up in `cache` first. Text
 * for which the sum could differ (see the module comment) is counted whole.
 *
 * @param text - the text, typically a rendered checkpoint.
 * @param count - the exact counter (`countExact` with a cl100k_base or o200k_base encoder).
 * @param cache - the lines counted so far, with their counts; new lines are added.
 * @returns the count of the whole text.
 * @example countByLines('## Checkpoint\n\n### Next\n- tests', (t) => estimator.estimate(t), new Map())
 */
export function countByLines(text: string, count: (text: string) => number, cache: LineCounts): number {
  const cuts = lineStarts(text);
  if (cuts === null) return count(text);
  let total = 0;
  for (let i = 0; i < cuts.length - 1; i++) {
    const line = text.slice(cuts[i], cuts[i + 1]);
    let tokens = cache.get(line);
    if (tokens === undefined) {
      tokens = count(line);
      if (cache.size >= MAX_CACHED_LINES) cache.clear();
      cache.set(line, tokens);
    }
    total += tokens;
  }
  return total;
}

/**
 * @internal Where the lines of `text` start, with 0 first and `text.length` last; null when the
 * text must be counted whole (U+FEFF or a rare space in it, or a stretch of more than
 * {@link MAX_GAP} characters without a space after a non-space).
 */
export function lineStarts(text: string): number[] | null {
  if (COUNTED_WHOLE.test(text)) return null;
  const cuts = [0];
  // Lines of at most MAX_GAP / 2 characters, each with a space after a non-space, leave no longer
  // stretch without one: the common case, checked without reading every character.
  let spaced = true;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', end + 1)) {
    const next = end + 1;
    const code = text.charCodeAt(next);
    if (next === text.length || code === 47 || isWhitespace(code)) continue;
    spaced &&= shortAndSpaced(text, cuts[cuts.length - 1]!, next);
    cuts.push(next);
  }
  spaced &&= shortAndSpaced(text, cuts[cuts.length - 1]!, text.length);
  if (!spaced && !spacedEnough(text)) return null;
  cuts.push(text.length);
  return cuts;
}

/** Whether `text` from `start` to `end` is at most MAX_GAP / 2 long and has a space after a non-space. */
function shortAndSpaced(text: string, start: number, end: number): boolean {
  if (end - start > MAX_GAP / 2) return false;
  for (let i = text.indexOf(' ', start + 1); i !== -1 && i < end; i = text.indexOf(' ', i + 1))
    if (!isWhitespace(text.charCodeAt(i - 1))) return true;
  return false;
}

/** Whether no stretch of `text` longer than MAX_GAP lacks a space after a non-space. */
function spacedEnough(text: string): boolean {
  let lastSafe = 0;
  for (let i = 1; i < text.length; i++) {
    if (text.charCodeAt(i) === 32 && !isWhitespace(text.charCodeAt(i - 1))) lastSafe = i;
    else if (i - lastSafe > MAX_GAP) return false;
  }
  return text.length - lastSafe <= MAX_GAP;
}

/** A character that `\s` of the encodings' patterns takes for whitespace (U+FEFF is one), or `/`. */
const CONTINUES_PIECE = /[\s/]/;

/**
 * @internal `countLine` summed over the lines of `text`, for text holding U+FEFF: the count of the
 * whole text when `countLine` counts each piece of the encoding's pattern apart (bom-count.ts does).
 * A line ends after a line break followed by a character that is neither whitespace, as the
 * patterns' own `\s` sees it (which includes U+FEFF and the rarer spaces), nor `/`; no piece of
 * either pattern holds such a break and the character after it (see the module comment), and
 * neither pattern looks behind, so each line is cut into the pieces it holds in the whole text.
 * Only the lines holding U+FEFF then need the slow, piece by piece count: about 10x faster on the
 * real transcripts' two tool results holding one (31,000 characters each).
 *
 * @param text - text holding U+FEFF (any text gives the same sum).
 * @param countLine - the exact count of one line.
 * @returns the sum of the lines' counts.
 * @example countLinesApart('\ufeffimport x\nprint(x)\n', (line) => encoder.count(line))
 */
export function countLinesApart(text: string, countLine: (line: string) => number): number {
  let total = 0;
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', end + 1)) {
    const next = end + 1;
    if (next === text.length || CONTINUES_PIECE.test(text.charAt(next))) continue;
    total += countLine(text.slice(start, next));
    start = next;
  }
  return total + countLine(text.slice(start));
}
