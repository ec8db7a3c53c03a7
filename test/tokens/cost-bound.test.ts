/**
 * The bound of blocks other than text (`costBound`): never below the exact count, on every message
 * of the real transcripts and on generated tool calls, tool results and thinking; and the count the
 * runtime takes off the append's path (`estimateMessageLater`, on the worker) equals
 * `estimateMessage` for them.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContentBlock, MessageInput } from '../../src/core/types.js';
import { loadTranscript } from '../../src/integration/transcript.js';
import { costBound } from '../../src/tokens/block-cost.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';

const TRANSCRIPTS =
  process.env['DAGENT_TRANSCRIPTS'] ??
  fileURLToPath(new URL('../../../shared/transcripts/', import.meta.url));
const hasTranscripts = existsSync(TRANSCRIPTS);

const estimator = createTokenEstimator();

const text = fc.string({ unit: 'binary', maxLength: 300 });
const json = fc.jsonValue({ maxDepth: 3 });
const block: fc.Arbitrary<ContentBlock> = fc.oneof(
  text.map((t) => ({ type: 'text', text: t }) as ContentBlock),
  fc
    .record({ name: fc.string({ minLength: 1, maxLength: 20 }), input: fc.dictionary(fc.string(), json) })
    .map(({ name, input }) => ({ type: 'tool_use', id: 'toolu_1', name, input }) as ContentBlock),
  fc
    .oneof(text, fc.array(text.map((t) => ({ type: 'text', text: t }))))
    .map((content) => ({ type: 'tool_result', tool_use_id: 'toolu_1', content }) as ContentBlock),
  text.map((thinking) => ({ type: 'thinking', thinking, signature: 'sig' }) as ContentBlock),
);

describe('the bound of blocks other than text', () => {
  it('is never below the exact count of generated tool calls, tool results and thinking', () => {
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 5 }), (content) => {
        const bound = costBound(content);
        expect(bound).not.toBeNull();
        expect(bound!).toBeGreaterThanOrEqual(estimator.estimateMessage({ role: 'assistant', content }));
        expect(estimator.boundMessage({ role: 'assistant', content })).toBe(bound);
      }),
      { numRuns: 300 },
    );
  });

  it.skipIf(!hasTranscripts)(
    'holds on every message of the real transcripts, and the count off the path is the same count',
    async () => {
      const messages: MessageInput[] = [];
      for (const file of readdirSync(TRANSCRIPTS).filter((name) => name.endsWith('.json')))
        messages.push(...(await loadTranscript(path.join(TRANSCRIPTS, file))).messages);
      const blocks = messages.filter((m) => Array.isArray(m.content));
      expect(blocks.length).toBeGreaterThan(1_000);
      for (const m of messages) {
        expect(estimator.boundMessage(m)!).toBeGreaterThanOrEqual(estimator.estimateMessage(m));
      }
      const later = await Promise.all(blocks.map((m) => estimator.estimateMessageLater(m)));
      expect(later).toEqual(blocks.map((m) => estimator.estimateMessage(m)));
    },
    120_000,
  );
});
