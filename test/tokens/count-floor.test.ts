/**
 * `countFloor`, the lower bound of an exact count that the runtime refuses a description or
 * context by without counting it: its bytes over MAX_TOKEN_BYTES, which is derived here from the
 * encodings' ranks (the longest byte string a token stands for), not assumed.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TOKEN_ENCODINGS, getEncoder } from '../../src/tokens/encoding-cache.js';
import { MAX_TOKEN_BYTES, countExact, countFloor } from '../../src/tokens/exact-count.js';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';

const require = createRequire(import.meta.url);

/** The longest token, in bytes, of gpt-tokenizer's ranks (strings as UTF-8, byte lists as they are). */
function longestGptToken(encoding: string): number {
  const module = require(`gpt-tokenizer/cjs/bpeRanks/${encoding}`) as { default?: unknown };
  const ranks = (module.default ?? module) as (string | number[] | undefined)[];
  let longest = 0;
  for (const token of ranks) {
    if (token === undefined) continue;
    longest = Math.max(longest, typeof token === 'string' ? Buffer.byteLength(token) : token.length);
  }
  return longest;
}

/** The longest token, in bytes, of js-tiktoken's ranks (base64 tokens after each line's offset). */
function longestTiktokenToken(encoding: string): number {
  const file = require(`js-tiktoken/ranks/${encoding}`) as { bpe_ranks: string };
  let longest = 0;
  for (const line of file.bpe_ranks.split('\n')) {
    const fields = line.split(' ');
    for (let i = 2; i < fields.length; i++)
      longest = Math.max(longest, Buffer.from(fields[i]!, 'base64').length);
  }
  return longest;
}

describe('countFloor', () => {
  it.each(TOKEN_ENCODINGS)('MAX_TOKEN_BYTES is the longest token of %s in both rank sets', (encoding) => {
    expect(longestGptToken(encoding)).toBe(MAX_TOKEN_BYTES);
    expect(longestTiktokenToken(encoding)).toBe(MAX_TOKEN_BYTES);
  });

  it('is at most the exact count, long runs (extrapolated) included', () => {
    const texts = [
      'word '.repeat(10_000),
      ' '.repeat(100_000),
      '='.repeat(50_000),
      'a'.repeat(70_000),
      'é'.repeat(30_000) + '漢字'.repeat(20_000),
      '😀'.repeat(10_000),
      `${'-'.repeat(300)}\n`.repeat(200),
      '\ufeff' + 'x y '.repeat(1_000),
    ];
    for (const encoding of TOKEN_ENCODINGS) {
      const encoder = getEncoder(encoding);
      for (const text of texts) expect(countFloor(text)).toBeLessThanOrEqual(countExact(encoder, text));
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 2_000 }), (text) => {
          expect(countFloor(text)).toBeLessThanOrEqual(countExact(encoder, text));
        }),
        { numRuns: 300 },
      );
    }
  });

  it('is the bytes over MAX_TOKEN_BYTES, and 0 for text holding a lone surrogate', () => {
    expect(countFloor('')).toBe(0);
    expect(countFloor('x'.repeat(1_000))).toBe(Math.ceil(1_000 / MAX_TOKEN_BYTES));
    expect(countFloor('é'.repeat(1_000))).toBe(Math.ceil(2_000 / MAX_TOKEN_BYTES));
    expect(countFloor('x'.repeat(1_000) + '\ud800')).toBe(0);
    expect(new TiktokenEstimator().estimateFloor('x'.repeat(1_000))).toBe(8);
    expect(new TiktokenEstimator({ mode: 'approximate' }).estimateFloor('x'.repeat(1_000))).toBe(0);
  });
});
