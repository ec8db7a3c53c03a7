/**
 * The options of the {@link TiktokenEstimator}: what they are, their defaults, and the checks that
 * refuse a bad one before anything is counted.
 */
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import { TOKEN_ENCODINGS, type TokenEncoding } from './encoding-cache.js';

/**
 * Messages with at least this many characters of text are counted on the counting worker by
 * {@link TiktokenEstimator.estimateMessageAsync}: about 10-15 ms of counting on the main thread
 * with gpt-tokenizer. Below it the worker's round trip costs more than the count it saves (a
 * 20 KB message: 1.6 ms counted here, 4-5 ms through the worker).
 */
export const DEFAULT_OFF_THREAD_CHARS = 128 * 1024;

/**
 * Options of {@link createTokenEstimator} and {@link TiktokenEstimator}. A name that is none of
 * these is refused with `INVALID_ARGUMENT` naming it (a misspelt `encodng` is not taken as cl100k_base).
 *
 * @example
 * ```ts
 * createTokenEstimator({ mode: 'exact', encoding: 'o200k_base' });
 * ```
 */
export interface TokenEstimatorOptions {
  /**
   * `exact` (default) counts with gpt-tokenizer, giving js-tiktoken's counts; `approximate` uses a fast
   * heuristic, loading nothing.
   */
  mode?: 'exact' | 'approximate';
  /** The js-tiktoken encoding of exact mode. Default `cl100k_base`. */
  encoding?: TokenEncoding;
  /**
   * Messages with at least this many characters of text are counted on the shared counting
   * worker by the async methods. Default {@link DEFAULT_OFF_THREAD_CHARS}; `Infinity` never.
   */
  offThreadChars?: number;
}

/** Every option of {@link TokenEstimatorOptions} (the compiler keeps this in step with the type). */
const OPTION_NAMES = optionNames({
  mode: true,
  encoding: true,
  offThreadChars: true,
} satisfies Record<keyof TokenEstimatorOptions, true>);

/**
 * @internal The options with their defaults, checked.
 * @throws SessionError `INVALID_ARGUMENT` for an unknown name, mode or encoding, or a bad threshold.
 */
export function checkedOptions(options: TokenEstimatorOptions): Required<TokenEstimatorOptions> {
  // A misspelt `encodng` would otherwise count in cl100k_base without a word.
  checkOptionNames(
    options,
    OPTION_NAMES,
    (what) => new SessionError('INVALID_ARGUMENT', 'tokens', `createTokenEstimator: ${what}`),
  );
  const mode = options.mode ?? 'exact';
  const encoding = options.encoding ?? 'cl100k_base';
  if (mode !== 'exact' && mode !== 'approximate') {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'tokens',
      `unknown mode ${JSON.stringify(mode)}; use "exact" or "approximate"`,
    );
  }
  if (!TOKEN_ENCODINGS.includes(encoding)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'tokens',
      `unknown encoding ${JSON.stringify(encoding)}; use ${TOKEN_ENCODINGS.join(' or ')}`,
    );
  }
  const offThreadChars = options.offThreadChars ?? DEFAULT_OFF_THREAD_CHARS;
  if (!(typeof offThreadChars === 'number' && offThreadChars >= 0)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'tokens',
      `offThreadChars must be a number >= 0 (Infinity: never), got ${String(offThreadChars)}`,
    );
  }
  return { mode, encoding, offThreadChars };
}
