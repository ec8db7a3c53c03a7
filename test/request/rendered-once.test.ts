/**
 * A session's next request renders and counts only what changed: its frozen checkpoint is rendered
 * once, each frozen message's section once, and the texts the last build counted (the joins, the
 * headings, the description, the head) are not counted again (src/request/flattened-sections.ts,
 * build-request.ts, remembered-counts.ts). The request is the same as one built from scratch.
 */
import { describe, expect, it } from 'vitest';
import type { Checkpoint, Message } from '../../src/core/types.js';
import { buildRequest, type RequestInput } from '../../src/request/build-request.js';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';
import { REQUEST_LIMITS as LIMITS, storedMessage } from '../helpers/fixtures.js';

/** The exact estimator, with the texts it was asked to count. */
class ListingEstimator extends TiktokenEstimator {
  readonly counted: string[] = [];
  override estimate(text: string): number {
    this.counted.push(text);
    return super.estimate(text);
  }
}

const SUMMARY: Checkpoint['summary'] = {
  completed: ['ran the suite', 'fixed the parser'],
  inProgress: ['refactoring module x'],
  pending: ['write docs'],
  decisions: ['keep the old format'],
  blockers: [],
};

function checkpointOf(summary: Checkpoint['summary']): Checkpoint {
  return {
    version: 2,
    createdAt: '',
    updatedAt: '',
    summary,
    compactionInfo: {} as Checkpoint['compactionInfo'],
    tokens: 0,
  };
}

/** Deep-frozen, as the runtime holds them, with a tally of the reads of what a rendering reads. */
function watched<T extends object>(value: T, key: keyof T, reads: { n: number }): T {
  const inner = value[key];
  const copy = { ...value };
  delete copy[key];
  Object.defineProperty(copy, key, {
    enumerable: true,
    get: () => {
      reads.n++;
      return inner;
    },
  });
  return Object.freeze(copy);
}

function input(estimator: TiktokenEstimator, checkpoint: Checkpoint, messages: Message[]): RequestInput {
  return {
    agentDescription: { role: 'developer', instructions: 'Write code.' },
    context: { featureName: 'parser', featureGoal: 'parse it all' },
    checkpoint,
    messages,
    userMessage: null,
    format: 'flattened',
    limits: LIMITS,
    estimator,
  };
}

describe('what a request renders and counts once', () => {
  it('renders a frozen checkpoint and frozen messages once, and counts nothing it counted before', () => {
    const estimator = new ListingEstimator();
    const summaryReads = { n: 0 };
    const contentReads = { n: 0 };
    const checkpoint = watched(checkpointOf(SUMMARY), 'summary', summaryReads);
    const messages = [
      Object.freeze(storedMessage(0, 'user', 'fix the build')),
      watched(storedMessage(1, 'assistant', 'on it'), 'content', contentReads),
    ];
    const first = buildRequest(input(estimator, checkpoint, messages));
    expect(summaryReads.n).toBeGreaterThan(0);
    expect(contentReads.n).toBeGreaterThan(0);

    summaryReads.n = 0;
    contentReads.n = 0;
    estimator.counted.length = 0;
    const second = buildRequest(input(estimator, checkpoint, messages));
    // Before: the checkpoint and every message were rendered again, and the short texts counted again.
    expect(summaryReads.n).toBe(0);
    expect(contentReads.n).toBe(0);
    expect(estimator.counted).toEqual([]);
    expect(second).toEqual(first);

    // A new message: its section alone is counted (and the join after it).
    messages.push(Object.freeze(storedMessage(2, 'user', 'and the tests')));
    const third = buildRequest(input(estimator, checkpoint, messages));
    expect(estimator.counted).toEqual(['### user\nand the tests', '\n\n']);

    // The same requests as plain, unfrozen copies and an estimator that remembers nothing build.
    const plain = (ms: Message[]) => ms.map((m) => ({ ...m }));
    const fresh = input(new TiktokenEstimator(), checkpointOf(SUMMARY), plain(messages));
    expect(third).toEqual(buildRequest(fresh));
    expect(first).toEqual(buildRequest({ ...fresh, messages: plain(messages.slice(0, 2)) }));
  });

  it('renders a checkpoint or message that is not frozen anew: an edit between builds shows', () => {
    const estimator = new TiktokenEstimator();
    const summary = structuredClone(SUMMARY);
    const checkpoint = checkpointOf(summary);
    const message = storedMessage(0, 'user', [{ type: 'text', text: 'fix the build' }]);
    buildRequest(input(estimator, checkpoint, [message]));
    summary.completed.push('renamed the lexer');
    (message.content as { text: string }[])[0]!.text = 'fix the lexer';
    const edited = buildRequest(input(estimator, checkpoint, [message]));
    expect(edited.systemPrompt).toContain('renamed the lexer');
    expect(edited.systemPrompt).toContain('fix the lexer');
  });
});
