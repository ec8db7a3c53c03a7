/**
 * A request counts the long texts it builds from one request to the next (the checkpoint as
 * rendered, the system prompt's head) once per estimator: the next build of the same session
 * finds their counts by their text (src/request/remembered-counts.ts). The request is the same.
 */
import { describe, expect, it } from 'vitest';
import type { Checkpoint, Message } from '../../src/core/types.js';
import { buildRequest, type RequestInput } from '../../src/request/build-request.js';
import { RECENT_TEXTS, REMEMBER_FROM_CHARS, rememberedCount } from '../../src/request/remembered-counts.js';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';
import { REQUEST_LIMITS as LIMITS, storedMessage } from '../helpers/fixtures.js';

/** The exact estimator, with the lengths of the texts it was asked to count. */
class TallyingEstimator extends TiktokenEstimator {
  readonly counted: number[] = [];
  override estimate(text: string): number {
    this.counted.push(text.length);
    return super.estimate(text);
  }
}

const lines = (what: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${what} ${i}: ${Math.random()}`);
const CHECKPOINT: Checkpoint = {
  version: 3,
  createdAt: '',
  updatedAt: '',
  summary: {
    completed: lines('ran the suite', 40),
    inProgress: lines('refactoring module', 10),
    pending: lines('write docs for', 10),
    decisions: [],
    blockers: [],
  },
  checks: [{ checkId: 'unit', passed: true }],
  compactionInfo: {} as Checkpoint['compactionInfo'],
  tokens: 0,
};

function input(estimator: TiktokenEstimator, messages: Message[]): RequestInput {
  return {
    agentDescription: null,
    context: null,
    checkpoint: CHECKPOINT,
    messages,
    userMessage: 'Continue',
    format: 'flattened',
    limits: LIMITS,
    estimator,
  };
}

describe('counts a request remembers', () => {
  it("counts a session's checkpoint and head once across its requests, and builds the same request", () => {
    const estimator = new TallyingEstimator();
    const messages = [storedMessage(0, 'user', 'fix the build', 5)];
    const first = buildRequest(input(estimator, messages));
    expect(estimator.counted.some((length) => length >= REMEMBER_FROM_CHARS)).toBe(true);

    estimator.counted.length = 0;
    messages.push(storedMessage(1, 'assistant', 'on it', 4));
    const second = buildRequest(input(estimator, messages));
    // Before: the checkpoint and the head holding it were counted again at every request.
    expect(estimator.counted.filter((length) => length >= REMEMBER_FROM_CHARS)).toEqual([]);

    // The same requests as an estimator that remembers nothing would build.
    const fresh = () => new TallyingEstimator();
    expect(second).toEqual(buildRequest(input(fresh(), messages)));
    expect(first).toEqual(buildRequest(input(fresh(), messages.slice(0, 1))));
  });

  it('counts a changed text anew, and short texts again once out of the last few', () => {
    const estimator = new TallyingEstimator();
    const long = 'the build is green again. '.repeat(60);
    const changed = long.replace('green', 'red!!');
    expect(rememberedCount(estimator, long)).toBe(estimator.estimate(long));
    estimator.counted.length = 0;
    rememberedCount(estimator, long);
    expect(estimator.counted).toEqual([]);
    expect(changed.length).toBe(long.length);
    expect(rememberedCount(estimator, changed)).toBe(new TiktokenEstimator().estimate(changed));
    expect(estimator.counted).toEqual([changed.length]);
    // A short text is found among the last few counted, and counted again once they moved on.
    rememberedCount(estimator, 'short');
    rememberedCount(estimator, 'short');
    expect(estimator.counted).toEqual([changed.length, 5]);
    for (let i = 0; i < RECENT_TEXTS; i++) rememberedCount(estimator, `other ${i}`);
    estimator.counted.length = 0;
    rememberedCount(estimator, 'short');
    rememberedCount(estimator, long); // in the count cache still
    expect(estimator.counted).toEqual([5]);
  });
});
