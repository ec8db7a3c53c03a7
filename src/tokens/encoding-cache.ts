/**
 * The encoders, loaded lazily and once per process, shared by every estimator instance.
 *
 * Counting uses gpt-tokenizer: on the real transcripts it counts the same as js-tiktoken 15-35x
 * faster and loads in a fifth of the time. The two disagree only on text holding U+FEFF (a byte
 * order mark inside the text: gpt-tokenizer merges it wrong), so such text is counted as js-tiktoken
 * counts it (`bom-count.ts`: its pattern and ranks, read only when such text appears, without
 * building its encoder). Counts therefore stay those of js-tiktoken, which is what counts persisted
 * by older versions were taken with (`test/tokens/encoding-cache.test.ts` compares the two on
 * generated text of every kind and on the real transcripts).
 */
import { createRequire } from 'node:module';
import { SessionError, describeError } from '../core/errors.js';
import { countHoldingBom, referenceRanks, type ReferenceRanks, type TiktokenRankFile } from './bom-count.js';
import { countLinesApart } from './line-counts.js';

/** The encodings a {@link TiktokenEstimator} can count with. */
export type TokenEncoding = 'cl100k_base' | 'o200k_base';

/** @internal Every supported encoding, for validation. */
export const TOKEN_ENCODINGS: readonly TokenEncoding[] = ['cl100k_base', 'o200k_base'];

/** @internal Counts the tokens of a text with one encoding; special-token text counts as plain text. */
export interface TokenEncoder {
  readonly encoding: TokenEncoding;
  count(text: string): number;
}

interface GptEncoding {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

const encoders = new Map<TokenEncoding, TokenEncoder>();
const references = new Map<TokenEncoding, ReferenceRanks>();
const loads = new Map<TokenEncoding, number>();
// Loaded with require() (their CJS builds) so that counting can stay synchronous.
const require = createRequire(import.meta.url);
// Special-token text such as `<|endoftext|>` is ordinary text here.
const NO_SPECIAL = { disallowedSpecial: new Set<string>() };
const BOM = '\ufeff';

/**
 * @internal The shared encoder of `encoding`, loaded on first use.
 * @throws SessionError `INVALID_ARGUMENT` for an unknown encoding, `IO_ERROR` when the ranks do not load.
 */
export function getEncoder(encoding: TokenEncoding): TokenEncoder {
  const cached = encoders.get(encoding);
  if (cached !== undefined) return cached;
  assertEncoding(encoding);
  const fast = load<GptEncoding>(`gpt-tokenizer/encoding/${encoding}`, encoding, 'gpt-tokenizer');
  const countFast = (text: string) => fast.countTokens(text, NO_SPECIAL);
  // Only the lines holding U+FEFF are counted piece by piece (line-counts.ts).
  const countLine = (line: string) =>
    line.includes(BOM) ? countHoldingBom(reference(encoding), countFast, line) : countFast(line);
  const encoder: TokenEncoder = {
    encoding,
    count: (text) => (text.includes(BOM) ? countLinesApart(text, countLine) : countFast(text)),
  };
  encoders.set(encoding, encoder);
  loads.set(encoding, (loads.get(encoding) ?? 0) + 1);
  return encoder;
}

/** @internal js-tiktoken's pattern and ranks of `encoding`: the reference, for text holding U+FEFF. */
function reference(encoding: TokenEncoding): ReferenceRanks {
  const cached = references.get(encoding);
  if (cached !== undefined) return cached;
  const ranks = referenceRanks(
    load<TiktokenRankFile>(`js-tiktoken/ranks/${encoding}`, encoding, 'js-tiktoken'),
  );
  references.set(encoding, ranks);
  return ranks;
}

function load<T>(specifier: string, encoding: TokenEncoding, library: string): T {
  try {
    return require(specifier) as T;
  } catch (error) {
    throw new SessionError(
      'IO_ERROR',
      'tokens',
      `could not load the ${encoding} ranks of ${library}: ${describeError(error)}`,
      { cause: error },
    );
  }
}

function assertEncoding(encoding: TokenEncoding): void {
  if (!TOKEN_ENCODINGS.includes(encoding)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'tokens',
      `unknown encoding ${JSON.stringify(encoding)}; use ${TOKEN_ENCODINGS.join(' or ')}`,
    );
  }
}

/** @internal How many times `encoding` was loaded in this process (1 at most, once used). */
export function encoderLoadCount(encoding: TokenEncoding): number {
  return loads.get(encoding) ?? 0;
}

/** @internal Whether `encoding` is loaded already (no load is triggered). */
export function isEncoderLoaded(encoding: TokenEncoding): boolean {
  return encoders.has(encoding);
}
