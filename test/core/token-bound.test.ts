/**
 * The upper bound a session counts with until a message's exact count is known: never below the
 * exact count, for both encodings, on generated text of every kind (long runs, which the exact
 * counter extrapolates, included), on text blocks, and on tool calls, tool results and thinking.
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

  it('is never below the exact count of tool calls, tool results and thinking, payloads elided', () => {
    // Long base64 runs and opaque keys are elided from a tool call's text and counted at a token per 4
    // characters: the bound of their bytes must still hold.
    const payload = fc.oneof(
      fc.string({ unit: fc.constantFrom('A', 'b', '9', '+', '/'), minLength: 256, maxLength: 1_200 }),
      fc.string({ unit: 'grapheme', minLength: 65, maxLength: 300 }),
    );
    const input = fc.dictionary(
      fc.constantFrom('data', 'signature', 'command', 'path', 'x'),
      fc.oneof(
        text,
        payload,
        fc.integer(),
        fc.array(text, { maxLength: 3 }),
        fc.dictionary(fc.string(), text),
      ),
      { maxKeys: 4 },
    );
    const block: fc.Arbitrary<ContentBlock> = fc.oneof(
      fc.record({ type: fc.constant('tool_use'), id: fc.constant('t'), name: text, input }),
      fc.record({
        type: fc.constant('tool_result'),
        tool_use_id: fc.constant('t'),
        content: fc.oneof(
          text,
          fc.array(
            text.map((t) => ({ type: 'text' as const, text: t })),
            { maxLength: 3 },
          ),
        ),
      }),
      fc.record({ type: fc.constant('thinking'), thinking: text, signature: payload }),
      text.map((t) => ({ type: 'text' as const, text: t })),
    ) as fc.Arbitrary<ContentBlock>;
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 4 }), (content) => {
        const bound = textTokenBound(content);
        expect(bound).not.toBeNull();
        for (const estimator of estimators)
          expect(estimator.estimateMessage({ role: 'user', content })).toBeLessThanOrEqual(bound!);
      }),
      { numRuns: 300 },
    );
  });

  it('has no bound for content with media: they cost by pixels or pages, not bytes', () => {
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } };
    expect(textTokenBound([{ type: 'text', text: 'see' }, image as ContentBlock])).toBeNull();
    const inResult = { type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'x' }, image] };
    expect(textTokenBound([inResult as ContentBlock])).toBeNull();
    const inCall = { type: 'tool_use', id: 't', name: 'show', input: { shot: image } };
    expect(textTokenBound([inCall as ContentBlock])).toBeNull();
    expect(textTokenBound([{ type: 'redacted_thinking', data: 'AAAA' } as ContentBlock])).toBeNull();
    expect(textTokenBound([{ type: 'tool_use', id: 't', name: 'run', input: {} } as ContentBlock])).toBe(
      3 + 2 + 3 + 4,
    );
    expect(textTokenBound('hé')).toBe(3 + 4);
    expect(
      createTokenEstimator({ mode: 'approximate' }).boundMessage({ role: 'user', content: 'x' }),
    ).toBeNull();
  });
});
