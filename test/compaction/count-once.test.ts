/**
 * countOnce: the estimator a compaction counts with gives the estimator's own counts, and counts
 * a text (or a checkpoint's rendering) once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countOnce } from '../../src/compaction/count-once.js';
import type { Checkpoint, CheckpointSummary } from '../../src/core/types.js';
import { createTokenEstimator, type TokenEstimator } from '../../src/tokens/token-estimator.js';

/** The real exact estimator, with the number of calls that reached it. */
function tallied(): { estimator: TokenEstimator; calls: { estimate: number; checkpoint: number } } {
  const real = createTokenEstimator();
  const calls = { estimate: 0, checkpoint: 0 };
  const estimator: TokenEstimator = {
    name: real.name,
    estimate: (text) => (calls.estimate++, real.estimate(text)),
    estimateContent: (content) => real.estimateContent(content),
    estimateMessage: (message) => real.estimateMessage(message),
    estimateMessages: (messages) => real.estimateMessages(messages),
    estimateCheckpoint: (checkpoint) => (calls.checkpoint++, real.estimateCheckpoint(checkpoint)),
  };
  return { estimator, calls };
}

const summary = (items: string[]): CheckpointSummary => ({
  completed: items,
  inProgress: [],
  pending: ['ship it'],
  decisions: [],
  blockers: [],
});

describe('countOnce', () => {
  it('gives the estimator’s own counts, for texts and checkpoints alike', () => {
    const real = createTokenEstimator();
    const once = countOnce(real);
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }), { maxLength: 6 }), (items) => {
        const text = items.join('\n');
        expect(once.estimate(text)).toBe(real.estimate(text));
        expect(once.estimate(text)).toBe(real.estimate(text));
        expect(once.estimateCheckpoint(summary(items))).toBe(real.estimateCheckpoint(summary(items)));
        const checkpoint = { summary: summary(items), ledger: null } as unknown as Checkpoint;
        expect(once.estimateCheckpoint(checkpoint)).toBe(real.estimateCheckpoint(checkpoint));
      }),
      { numRuns: 200 },
    );
  });

  it('counts a text once, and a checkpoint once per rendering (new objects included)', () => {
    const { estimator, calls } = tallied();
    const once = countOnce(estimator);
    once.estimate('the tests pass');
    once.estimate('the tests pass');
    once.estimate('the tests fail');
    expect(calls.estimate).toBe(2);
    once.estimateCheckpoint(summary(['parser']));
    once.estimateCheckpoint(summary(['parser']));
    once.estimateCheckpoint(summary(['lexer']));
    expect(calls.checkpoint).toBe(2);
  });

  it('does not remember across compactions: each countOnce starts empty', () => {
    const { estimator, calls } = tallied();
    countOnce(estimator).estimate('x');
    countOnce(estimator).estimate('x');
    expect(calls.estimate).toBe(2);
  });

  it('throws what the estimator throws for something that is not a checkpoint', () => {
    const once = countOnce(createTokenEstimator());
    expect(() => once.estimateCheckpoint(null as unknown as Checkpoint)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
