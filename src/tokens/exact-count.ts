/**
 * Exact token counting, guarded against the tokenizers' slow cases.
 *
 * The tokenizers merge the bytes of each pre-tokenised piece in time that grows faster than the
 * piece's length (js-tiktoken quadratically: a 4,000-letter word takes most of a second and a
 * megabyte without whitespace would take hours). Ordinary words, numbers and punctuation are short
 * pieces, so only homogeneous runs (letters, punctuation or whitespace) longer than
 * {@link LONG_RUN_BYTES} bytes are treated specially: their count is extrapolated from an exactly
 * counted prefix. Everything else is counted exactly, in chunks of at most {@link MAX_CHUNK}
 * characters cut where the tokenizer itself would cut.
 */
import type { TokenEncoder } from './encoding-cache.js';

/** @internal Largest piece of text handed to the encoder at once. */
export const MAX_CHUNK = 20_000;
/** @internal Homogeneous runs up to this many UTF-8 bytes are counted exactly. */
export const LONG_RUN_BYTES = 256;

// Candidates: runs the tokenizer would keep as one piece (letters with marks, punctuation,
// whitespace) long enough to pass LONG_RUN_BYTES (86 UTF-16 units of 3-byte characters do). The
// regex matches at most 4,096 code points of a run and RUN_TAIL_RE takes the rest, 4,096 at a
// time: an unbounded `{86,}` over a run of millions of letters overflowed the regex engine's
// stack (RangeError "Maximum call stack size exceeded": such a text could not be counted at all).
const CANDIDATE_RE = /([\p{L}\p{M}]{86,4096})|([^\s\p{L}\p{N}]{86,4096})|(\s{86,4096})/gu;
const RUN_TAIL_RE = [/[\p{L}\p{M}]{1,4096}/uy, /[^\s\p{L}\p{N}]{1,4096}/uy, /\s{1,4096}/uy];
const LETTER_RE = /\p{L}/u;

/**
 * @internal The most UTF-8 bytes one token of `cl100k_base` or `o200k_base` stands for: the
 * longest byte string among their ranks (`test/tokens/count-floor.test.ts` derives it from the
 * ranks of gpt-tokenizer, which counts, and of js-tiktoken, which counts text holding U+FEFF).
 */
export const MAX_TOKEN_BYTES = 128;

/** A lone surrogate (a half of a pair without the other half): the `u` flag matches no half of a pair. */
const LONE_SURROGATE_RE = /[\uD800-\uDFFF]/u;
/** Whether `text` holds no lone surrogate: `String.prototype.isWellFormed` (Node 20), else the regex. */
const isWellFormed = (text: string): boolean => {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return native === undefined ? !LONE_SURROGATE_RE.test(text) : native.call(text);
};

/**
 * @internal A proven lower bound of {@link countExact}, known without counting: the text's UTF-8
 * bytes over {@link MAX_TOKEN_BYTES}. Every count is a sum over pieces that the encoder splits
 * into tokens of at most that many bytes each, or a long run's count extrapolated from its
 * sample at the sample's own tokens per byte (at least 1 / MAX_TOKEN_BYTES, so the run's is too).
 * 0 for text holding a lone surrogate, whose bytes a long run's extrapolation measures otherwise.
 *
 * @example countFloor('x'.repeat(1_000)) // 8
 */
export function countFloor(text: string): number {
  if (text.length === 0 || !isWellFormed(text)) return 0;
  return Math.ceil(Buffer.byteLength(text, 'utf8') / MAX_TOKEN_BYTES);
}

/**
 * @internal Tokens of `text` for `encoder`: exact unless the text holds homogeneous runs longer
 * than {@link LONG_RUN_BYTES}. Special-token text such as `<|endoftext|>` counts as plain text.
 */
export function countExact(encoder: TokenEncoder, text: string): number {
  if (text.length === 0) return 0;
  if (text.length < 86) return encode(encoder, text);
  let total = 0;
  let last = 0;
  for (
    let match = nextCandidate(text, 0);
    match;
    match = nextCandidate(text, match.index + match[0].length)
  ) {
    if (utf8Length(match[0], LONG_RUN_BYTES + 1) <= LONG_RUN_BYTES) continue;
    total += countChunked(encoder, text.slice(last, match.index));
    total += countLongRun(encoder, match[0]);
    last = match.index + match[0].length;
  }
  return total + countChunked(encoder, text.slice(last));
}

/**
 * @internal The first long run starting at or after `from`: the matches of
 * `text.matchAll(/[\p{L}\p{M}]{86,}|[^\s\p{L}\p{N}]{86,}|\s{86,}/gu)`, one by one, runs of any
 * length whole, but the regex only runs where a one-pass scan found a window that a match could
 * fill (the Unicode regex over a whole text costs more than counting the text with gpt-tokenizer).
 */
export function nextCandidate(text: string, from: number): RegExpExecArray | null {
  const end = possibleRunEnd(text, from);
  if (end < 0) return null;
  // No match starts before end - 85: its 86th unit would have ended the scan earlier.
  let start = Math.max(from, end - 85);
  if (start > from && isLowSurrogate(text.charCodeAt(start)) && isHighSurrogate(text.charCodeAt(start - 1)))
    start--;
  CANDIDATE_RE.lastIndex = start;
  const match = CANDIDATE_RE.exec(text);
  if (match === null) return null;
  const tail = RUN_TAIL_RE[match[1] !== undefined ? 0 : match[2] !== undefined ? 1 : 2]!;
  let runEnd = match.index + match[0].length;
  tail.lastIndex = runEnd;
  while (tail.test(text)) runEnd = tail.lastIndex;
  if (runEnd > match.index + match[0].length) match[0] = text.slice(match.index, runEnd);
  return match;
}

// Per UTF-16 unit, which runs of CANDIDATE_RE it can belong to (bits below); 0: not computed.
const COMPUTED = 1;
const IN_LETTERS = 2;
const IN_PUNCTUATION = 4;
const IN_SPACES = 8;
const unitClasses = new Uint8Array(0x10000);

function classesOf(code: number): number {
  const known = unitClasses[code]!;
  if (known !== 0) return known;
  let bits = COMPUTED;
  // A surrogate is half of a code point of any class.
  if (code >= 0xd800 && code <= 0xdfff) bits |= IN_LETTERS | IN_PUNCTUATION | IN_SPACES;
  else {
    const char = String.fromCharCode(code);
    if (/[\p{L}\p{M}]/u.test(char)) bits |= IN_LETTERS;
    if (/[^\s\p{L}\p{N}]/u.test(char)) bits |= IN_PUNCTUATION;
    if (/\s/u.test(char)) bits |= IN_SPACES;
  }
  unitClasses[code] = bits;
  return bits;
}

/**
 * @internal The first index at or after `from` where 86 consecutive UTF-16 units of one class of
 * CANDIDATE_RE end (-1 if none). A match is at least 86 code points, so at least 86 such units:
 * no index means no match, an index only means the regex must look there.
 */
export function possibleRunEnd(text: string, from: number): number {
  let letters = 0;
  let punctuation = 0;
  let spaces = 0;
  for (let i = from; i < text.length; i++) {
    const bits = classesOf(text.charCodeAt(i));
    letters = bits & IN_LETTERS ? letters + 1 : 0;
    punctuation = bits & IN_PUNCTUATION ? punctuation + 1 : 0;
    spaces = bits & IN_SPACES ? spaces + 1 : 0;
    if (letters >= 86 || punctuation >= 86 || spaces >= 86) return i;
  }
  return -1;
}

/** @internal Tokens of a long homogeneous run, extrapolated from its first {@link LONG_RUN_BYTES} bytes. */
function countLongRun(encoder: TokenEncoder, run: string): number {
  let end = 0;
  let bytes = 0;
  while (end < run.length && bytes < LONG_RUN_BYTES) {
    const code = run.charCodeAt(end);
    const width = isHighSurrogate(code) ? 2 : 1;
    bytes += utf8Length(run.slice(end, end + width), 4);
    end += width;
  }
  const sampleTokens = encode(encoder, run.slice(0, end));
  return Math.max(1, Math.ceil((sampleTokens * utf8Length(run, Infinity)) / bytes));
}

/** @internal Exact tokens of text without long runs, encoded in chunks of at most {@link MAX_CHUNK}. */
function countChunked(encoder: TokenEncoder, text: string): number {
  let total = 0;
  let start = 0;
  while (text.length - start > MAX_CHUNK) {
    const cut = safeCut(text, start, start + MAX_CHUNK);
    total += encode(encoder, text.slice(start, cut));
    start = cut;
  }
  return total + encode(encoder, text.slice(start));
}

/**
 * @internal A cut position in `(start, limit]` where the tokenizer's own pieces begin, so that the
 * two halves count the same as the whole: before a space that follows a non-space (the space opens
 * the next word's piece), else before a letter that follows a newline, else (never in real text)
 * at `limit`, not inside a surrogate pair.
 */
export function safeCut(text: string, start: number, limit: number): number {
  const floor = start + Math.floor((limit - start) / 2);
  for (let i = limit; i > floor; i--) {
    if (text.charCodeAt(i) === 32 && !isWhitespace(text.charCodeAt(i - 1))) return i;
  }
  for (let i = limit; i > floor; i--) {
    if (text.charCodeAt(i - 1) === 10 && LETTER_RE.test(text.charAt(i))) return i;
  }
  return isHighSurrogate(text.charCodeAt(limit - 1)) ? limit - 1 : limit;
}

function encode(encoder: TokenEncoder, text: string): number {
  return text.length === 0 ? 0 : encoder.count(text);
}

/** @internal Whitespace as the tokenizers' `\s` sees it (outside the characters counted whole). */
export function isWhitespace(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    code === 0xa0 ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x3000
  );
}

/** @internal UTF-8 length of `text`, counting stops once it passes `stopAfter`. */
function utf8Length(text: string, stopAfter: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= stopAfter; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (isHighSurrogate(code)) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
