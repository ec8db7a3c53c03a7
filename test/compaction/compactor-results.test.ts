/**
 * Whatever a compactor returns is checked before anything is written (issue 9, item 5): a result
 * that is not a checkpoint summary, or one far over its token budget, is COMPACTOR_MALFORMED and
 * changes nothing on disk; a compactor that throws a foreign error is COMPACTOR_FAILED with the
 * original as cause. The session goes on as before: its history, its checkpoint and its requests.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import type { CheckpointSummary, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'results' };

/** A custom compactor (as a host may write one) answering whatever a test says. */
class AnsweringCompactor implements Compactor {
  readonly name = 'answering';
  readonly maxInputTokens = 200_000;
  constructor(readonly answer: (input: CompactionInput) => unknown) {}
  async compact(input: CompactionInput, _options: CompactOptions): Promise<CheckpointSummary> {
    return this.answer(input) as CheckpointSummary;
  }
}

const oversized = (): CheckpointSummary => ({
  completed: Array.from(
    { length: 40 },
    (_, i) => `step ${i}: ${'a long account of what happened '.repeat(30)}`,
  ),
  inProgress: [],
  pending: [],
  decisions: [],
  blockers: [],
});

const CASES: [string, (input: CompactionInput) => unknown, string][] = [
  ['a string', () => 'here is your summary: all done', 'COMPACTOR_MALFORMED'],
  ['null', () => null, 'COMPACTOR_MALFORMED'],
  ['an object missing sections', () => ({ completed: ['x'] }), 'COMPACTOR_MALFORMED'],
  [
    'sections that are not lists of strings',
    () => ({ ...oversized(), pending: 'later', blockers: [3] }),
    'COMPACTOR_MALFORMED',
  ],
  ['a summary far over its budget', () => oversized(), 'COMPACTOR_MALFORMED'],
  [
    'a foreign error',
    () => {
      throw new TypeError('cannot read the model answer');
    },
    'COMPACTOR_FAILED',
  ],
];

describe('what a compactor returns is checked before anything is written', () => {
  it.each(CASES)('%s: %s, nothing changes', async (_name, answer, code) => {
    const root = await tempRoot();
    const options = {
      root,
      estimator: createTokenEstimator({ mode: 'approximate' as const }),
      limits: { maxTokens: 4_000, checkpointTokens: 400 },
      compaction: { retryBaseMs: 1e9, retryMaxMs: 1e9 },
    };
    const good = await createSessionRuntime(options);
    const { id } = await good.createSession(KEY);
    for (let i = 0; i < 20; i++) {
      await good.addMessage(id, {
        role: i % 2 ? 'assistant' : 'user',
        content: `message ${i}: ${'ran the tests '.repeat(8)}`,
      });
    }
    await good.compact(id, { keepRecentTokens: 100 }); // a first, good checkpoint
    for (let i = 20; i < 30; i++) {
      await good.addMessage(id, {
        role: i % 2 ? 'assistant' : 'user',
        content: `message ${i}: ${'fixed a bug '.repeat(8)}`,
      });
    }
    const history = await good.getHistory(id);
    const checkpoint = await good.getCheckpoint(id);
    await good.close();
    const dir = path.join(root, '.dagent', 'sessions', id);
    const before = await snapshotDir(dir);

    const runtime = await createSessionRuntime({ ...options, compactor: new AnsweringCompactor(answer) });
    const error = (await runtime.compact(id, { keepRecentTokens: 100 }).then(
      () => null,
      (e: unknown) => e,
    )) as SessionError | null;
    expect(isSessionError(error, code as SessionError['code']), String(error)).toBe(true);
    if (code === 'COMPACTOR_FAILED') expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect(error!.message).toContain('nothing changed on disk');
    expect(await snapshotDir(dir)).toEqual(before);
    expect(await runtime.getCheckpoint(id)).toEqual(checkpoint);
    expect(await runtime.getHistory(id)).toEqual(history);
    // Requests still fit.
    const request = await runtime.previewRequest(id, 'what next?');
    expect(request.totalTokens).toBeLessThanOrEqual(4_000);
    await runtime.close();

    // And a later runtime loads the session as it was.
    const later = await createSessionRuntime(options);
    expect(await later.getCheckpoint(id)).toEqual(checkpoint);
    expect(await later.getHistory(id)).toEqual(history);
    await later.buildRequest(id, 'what next?');
    await later.close();
  });
});
