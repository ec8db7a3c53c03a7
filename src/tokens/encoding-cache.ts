/**
 * The js-tiktoken encoders, loaded lazily and once per process. Loading cl100k_base takes
 * 200-400 ms and well over 100 MB, so every estimator instance shares one encoder per encoding.
 */
import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { SessionError, describeError } from '../core/errors.js';

/** The encodings a {@link TiktokenEstimator} can count with. */
export type TokenEncoding = 'cl100k_base' | 'o200k_base';

/** @internal Every supported encoding, for validation. */
export const TOKEN_ENCODINGS: readonly TokenEncoding[] = ['cl100k_base', 'o200k_base'];

const encoders = new Map<TokenEncoding, Tiktoken>();
const loads = new Map<TokenEncoding, number>();
// The ranks are loaded with require() (their CJS build) so that counting can stay synchronous.
const require = createRequire(import.meta.url);

/**
 * @internal The shared encoder of `encoding`, loaded on first use.
 * @throws SessionError `INVALID_ARGUMENT` for an unknown encoding, `IO_ERROR` when the ranks do not load.
 */
export function getEncoder(encoding: TokenEncoding): Tiktoken {
  const cached = encoders.get(encoding);
  if (cached !== undefined) return cached;
  if (!TOKEN_ENCODINGS.includes(encoding)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'tokens',
      `unknown encoding ${JSON.stringify(encoding)}; use ${TOKEN_ENCODINGS.join(' or ')}`,
    );
  }
  let ranks: TiktokenBPE;
  try {
    ranks = require(`js-tiktoken/ranks/${encoding}`) as TiktokenBPE;
  } catch (error) {
    throw new SessionError(
      'IO_ERROR',
      'tokens',
      `could not load the ${encoding} ranks of js-tiktoken: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  const encoder = new Tiktoken(ranks);
  encoders.set(encoding, encoder);
  loads.set(encoding, (loads.get(encoding) ?? 0) + 1);
  return encoder;
}

/** @internal How many times `encoding` was loaded in this process (1 at most, once used). */
export function encoderLoadCount(encoding: TokenEncoding): number {
  return loads.get(encoding) ?? 0;
}

/** @internal Whether `encoding` is loaded already (no load is triggered). */
export function isEncoderLoaded(encoding: TokenEncoding): boolean {
  return encoders.has(encoding);
}
