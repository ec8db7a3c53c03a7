/**
 * The upper bound a session counts with until a message's exact count is known: never below the
 * exact count, for both encodings, on generated text of every kind (long runs, which the exact
 * counter extrapolates, included) and on text blocks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textTokenBound } from '../../src/core/token-bound.js';
import type { ContentBlock } from '../../src/core/types.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';

const estimators = [createTokenEstimator(), createTokenEstimator({ encoding: 'o200k_base' })];

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({ unit: fc.constantFrom('a', ' ', '\n', '.', 'é', '中', '😀', '\ufeff', '0'), maxLength: 2_000 }),
  // Homogeneous runs past LONG_RUN_BYTES: counted by extrapolation.
  fc
    .tuple(fc.constantFrom('x', '=', ' ', 'ж', '字', '🙂'), fc.integer({ min: 90, max: 3_000 }))
    .map(([c, n]) => c.repeat(n)),
);

describe('textTokenBound', () => {
  it('is never below the exact count of a string or of text blocks, in cl100k_base and o200k_base', () => {
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 4 }), (content, parts) => {
        const blocks: ContentBlock[] = parts.map((t) => ({ type: 'text', text: t }));
        for (const estimator of estimators) {
          expect(estimator.estimateMessage({ role: 'user', content })).toBeLessThanOrEqual(
            textTokenBound(content)!,
          );
          expect(estimator.estimateMessage({ role: 'user', content: blocks })).toBeLessThanOrEqual(
            textTokenBound(blocks)!,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('has no bound for content that is not text only: media cost by pixels or pages, not bytes', () => {
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } };
    expect(textTokenBound([{ type: 'text', text: 'see' }, image as ContentBlock])).toBeNull();
    expect(
      textTokenBound([{ type: 'tool_use', id: 't', name: 'run', input: {} } as ContentBlock]),
    ).toBeNull();
    expect(textTokenBound('hé')).toBe(3 + 4);
    expect(
      createTokenEstimator({ mode: 'approximate' }).boundMessage({ role: 'user', content: 'x' }),
    ).toBeNull();
  });
});
