/**
 * createSession(key, { checkpoint }): a session that starts with what is known already (a
 * migrated DAGent conversation's summary): version 0, nothing archived, in every request, and
 * the first compaction folds into it.
 */
import { resolveLimits } from '../../src/runtime/limits.js';
import { describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { isSessionError } from '../../src/core/errors.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { InitialCheckpoint } from '../../src/runtime/initial-checkpoint.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'task', agentType: 'qa', featureId: 'f1', taskId: 't1', taskState: 'in_qa' };
const START: InitialCheckpoint = {
  summary: {
    completed: ['Ran the cart suite: 11 of 12 passed'],
    pending: ['Re-run after the fix'],
    decisions: ['Negative quantities are rejected with HTTP 400'],
  },
  checks: [{ checkId: 'test', passed: false, error: 'quantity update' }],
};

describe('createSession with an initial checkpoint', () => {
  it('starts the session with it as version 0: in requests, and folded into by the first compaction', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, compactor: new OfflineCompactor() });
    const info = await runtime.createSession(KEY, { checkpoint: START });
    expect(info).toMatchObject({ checkpointVersion: 0, stats: { totalCompactions: 0 } });
    const checkpoint = await runtime.getCheckpoint(info.id);
    expect(checkpoint).toMatchObject({
      version: 0,
      summary: { ...START.summary, inProgress: [], blockers: [] },
      checks: [{ ...START.checks![0], at: expect.any(String) }],
      compactionInfo: { compactor: 'initial', archivedThroughSeq: -1, segment: 0 },
    });
    expect(checkpoint!.tokens).toBeGreaterThan(0);
    expect((await runtime.estimateSize(info.id)).breakdown.checkpoint).toBe(checkpoint!.tokens);
    const request = await runtime.buildRequest(info.id, 'Status?');
    expect(request.systemPrompt).toContain('Negative quantities are rejected with HTTP 400');

    // Idempotent: a second createSession does not replace it.
    await runtime.createSession(KEY, { checkpoint: { summary: { completed: ['other'] } } });
    expect((await runtime.getCheckpoint(info.id))?.summary.completed).toEqual(START.summary.completed);

    for (const text of ['Re-ran the suite: 12 of 12 pass.', 'Decided: ship it.'])
      await runtime.addMessage(info.id, { role: 'assistant', content: text });
    const compacted = await runtime.compact(info.id, { keepRecentTokens: 0 });
    expect(compacted).toMatchObject({ kind: 'compacted', checkpointVersion: 1, messagesCompacted: 2 });
    const after = await runtime.getCheckpoint(info.id);
    expect(after?.summary.decisions).toContain('Negative quantities are rejected with HTTP 400');
    expect(after?.checks?.map((c) => c.checkId)).toEqual(['test']);
    expect((await runtime.getSession(info.id)).stats.totalCompactions).toBe(1);
    expect(await runtime.getHistory(info.id)).toHaveLength(2);
    await runtime.close();

    const reopened = await createSessionRuntime({ root, readOnly: true });
    expect((await reopened.getCheckpoint(info.id))?.version).toBe(1);
    await reopened.close();
  });

  it.each([
    ['not an object', 'summary', /checkpoint: must be an object/],
    ['no summary', {}, /summary must be an object with the lists completed/],
    ['an unknown section', { summary: { notes: ['x'] } }, /unknown section "notes"/],
    [
      'goals that are not a list of strings',
      { summary: { goals: 'x' } },
      /summary\.goals must be a list of strings/,
    ],
    [
      'an item that is not a string',
      { summary: { pending: [1] } },
      /summary\.pending must be a list of strings/,
    ],
    ['an unknown field', { summary: {}, version: 3 }, /unknown field "version"/],
    ['a bad check', { summary: {}, checks: [{ checkId: 'x' }] }, /checks\[0\]\.passed must be true or false/],
  ])('refuses %s, writing nothing', async (_, checkpoint, message) => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const error = await runtime
      .createSession(KEY, { checkpoint: checkpoint as InitialCheckpoint })
      .catch((e: unknown) => e);
    expect(isSessionError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(await runtime.listSessions()).toEqual([]);
    await runtime.close();
  });

  it("refuses one over the session's checkpoint budget, saying so; over IPC too", async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, limits: { maxTokens: 4_000 } });
    const big = {
      summary: { completed: Array.from({ length: 400 }, (_, i) => `step ${i} of the long plan, done`) },
    };
    const budget = resolveLimits({ maxTokens: 4_000 }).checkpointTokens;
    const error = await runtime.createSession(KEY, { checkpoint: big }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`counts \\d+ tokens, over the session's checkpoint budget of ${budget}`),
    );
    const handlers = createSessionHandlers(runtime);
    expect(await handlers['session:create'](KEY, { checkpoint: big })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await handlers['session:create'](KEY, { checkpoint: START })).toMatchObject({
      ok: true,
      value: { checkpointVersion: 0 },
    });
    await runtime.close();
  });
});
