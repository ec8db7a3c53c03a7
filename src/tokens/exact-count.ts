/**
 * Exact token counting, guarded against the tokenizers' slow cases.
 *
 * The tokenizers merge the bytes of each pre-tokenised piece in time that grows faster than the
 * piece's length (js-tiktoken quadratically: a 4,000-letter word takes most of a second and a
 * megabyte without whitespace would take hours). Ordinary words, numbers and punctuation are short pieces, so only homogeneous runs (letters,
 * punctuation or whitespace) longer than {@link LONG_RUN_BYTES} bytes are treated specially: their
 * count is extrapolated from an exactly counted prefix. Everything else is counted exactly, in
 * chunks of at most {@link MAX_CHUNK} characters cut where the tokenizer itself would cut.
 */
import type { TokenEncoder } from './encoding-cache.js';

/** @internal Largest piece of text handed to the encoder at once. */
export const MAX_CHUNK = 20_000;
/** @internal Homogeneous runs up to this many UTF-8 bytes are counted exactly. */
export const LONG_RUN_BYTES = 256;

// Candidates: runs the tokenizer would keep as one piece (letters with marks, punctuation,
// whitespace) long enough to pass LONG_RUN_BYTES (86 UTF-16 units of 3-byte characters do).
const CANDIDATE_RE = /[\p{L}\p{M}]{86,}|[^\s\p{L}\p{N}]{86,}|\s{86,}/gu;
const LETTER_RE = /\p{L}/u;

/**
 * @internal Tokens of `text` for `encoder`: exact unless the text holds homogeneous runs longer
 * than {@link LONG_RUN_BYTES}. Special-token text such as `<|endoftext|>` counts as plain text.
 */
export function countExact(encoder: TokenEncoder, text: string): number {
  if (text.length === 0) return 0;
  if (text.length < 86) return encode(encoder, text);
  let total = 0;
  let last = 0;
  for (const match of text.matchAll(CANDIDATE_RE)) {
    if (utf8Length(match[0], LONG_RUN_BYTES + 1) <= LONG_RUN_BYTES) continue;
    total += countChunked(encoder, text.slice(last, match.index));
    total += countLongRun(encoder, match[0]);
    last = match.index + match[0].length;
  }
  return total + countChunked(encoder, text.slice(last));
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

function isWhitespace(code: number): boolean {
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
