/**
 * Counts of a session's fixed parts: remembered per estimator for the last texts counted (most
 * sessions of an agent type share its description), never across estimators.
 */
import { describe, expect, it } from 'vitest';
import type { AgentDescription } from '../../src/core/types.js';
import { countPart } from '../../src/runtime/fixed-counts.js';
import { createTokenEstimator, type TokenEstimator } from '../../src/tokens/token-estimator.js';

/** An estimator that counts characters times `factor` and says how often it was asked. */
function counting(name: string, factor: number): TokenEstimator & { calls: number } {
  const base = createTokenEstimator({ mode: 'approximate' });
  const estimator = Object.assign(Object.create(base) as TokenEstimator, {
    name,
    calls: 0,
    estimate(text: string) {
      estimator.calls++;
      return text.length * factor;
    },
  });
  return estimator;
}

const DESCRIPTION: AgentDescription = { role: 'dev', instructions: 'Write the parser', tools: ['Edit'] };

describe('countPart', () => {
  it('counts a text once per estimator, and gives each estimator its own count', () => {
    const one = counting('one', 1);
    const two = counting('two', 2);
    const first = countPart(one, 'description', DESCRIPTION);
    expect(countPart(one, 'description', structuredClone(DESCRIPTION))).toEqual(first);
    expect(one.calls).toBe(1);
    const other = countPart(two, 'description', DESCRIPTION);
    expect(other.tokens).toBe(first.tokens * 2);
    expect(other.hash).toBe(first.hash);
    expect(other.counter).not.toBe(first.counter);
    expect(two.calls).toBe(1);
  });

  it('counts a changed text again, and forgets the oldest of many texts', () => {
    const one = counting('one', 1);
    const base = countPart(one, 'description', DESCRIPTION).tokens;
    const longer = countPart(one, 'description', { ...DESCRIPTION, instructions: 'Write the parser now' });
    expect(longer.tokens).toBe(base + 4);
    expect(one.calls).toBe(2);
    for (let i = 0; i < 40; i++) countPart(one, 'context', { featureName: `f${i}` });
    expect(one.calls).toBe(42);
    countPart(one, 'description', DESCRIPTION);
    expect(one.calls).toBe(43);
  });
});
