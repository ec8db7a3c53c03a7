/**
 * The count of a compaction's checkpoint, persisted after its commit, is the count the compaction
 * took (`checkpointCount`): the checkpoint is not rendered and counted a second time. When the
 * committed checkpoint renders otherwise (newer checks kept by the commit), it is counted again.
 * On baseline-stop23 the runtime counted the committed checkpoint twice.
 */
import { describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { Checkpoint, CheckpointSummary, MessageInput, SessionKey } from '../../src/core/types.js';
import { renderCheckpoint } from '../../src/request/format.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { checkpointCount, countPart } from '../../src/runtime/fixed-counts.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';
import { TallyingEstimator } from '../helpers/tallying-estimator.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'commit-count' };

/** A turn of work: a request, an edit and a test run, and their results. */
function turn(i: number): MessageInput[] {
  return [
    { role: 'user', content: `Please fix parser bug ${i} in src/parser-${i}.ts and run the tests` },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: `Looking at src/parser-${i}.ts now.` },
        { type: 'tool_use', id: `e${i}`, name: 'Edit', input: { file_path: `src/parser-${i}.ts` } },
        { type: 'tool_use', id: `b${i}`, name: 'Bash', input: { command: `npm test -- parser-${i}` } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: `e${i}`, content: 'edited' },
        { type: 'tool_result', tool_use_id: `b${i}`, content: i % 3 === 0 ? `1 failed: parser-${i}` : 'ok' },
      ],
    },
  ];
}

describe("a compaction's checkpoint count", () => {
  it('is persisted as the compaction took it, not counted again, and holds on load', async () => {
    const root = await tempRoot();
    // Approximate: a compaction then counts each distinct rendering once (countOnce), so a second
    // count of the committed checkpoint can only come from after the commit.
    const estimator = new TallyingEstimator({ mode: 'approximate' });
    const compactor = new OfflineCompactor({ estimator });
    const runtime = await createSessionRuntime({ root, estimator, compactor });
    const { id } = await runtime.createSession(KEY);
    for (let i = 0; i < 12; i++) for (const message of turn(i)) await runtime.addMessage(id, message);
    expect(await runtime.compact(id, { keepRecentTokens: 0 })).toMatchObject({ kind: 'compacted' });
    await runtime.close(); // the writes after the commit are done

    const store = await JsonFileSessionStore.open({ root, readOnly: true });
    const head = await store.load(id);
    await store.close();
    const checkpoint = head!.checkpoint!;
    const text = renderCheckpoint(checkpoint.summary, checkpoint.checks, checkpoint.ledger);
    // Before: once by the compaction, once more for the count written after the commit.
    expect(estimator.counted.get(text)).toBe(1);
    // The count persisted is the exact count of what was committed, under the hash a load checks.
    const fresh = new TiktokenEstimator({ mode: 'approximate' });
    expect(head!.counts.checkpoint).toEqual(countPart(fresh, 'checkpoint', checkpoint));
  });

  it('is counted again when the committed checkpoint renders otherwise', () => {
    const estimator = new TallyingEstimator();
    const summary: CheckpointSummary = {
      completed: ['parser fixed'],
      inProgress: [],
      pending: ['lexer'],
      decisions: [],
      blockers: [],
    };
    const base = { summary, tokens: 0 } as unknown as Checkpoint;
    const counted = { ...base, tokens: estimator.estimateCheckpoint(base) };
    estimator.counted.clear();
    expect(checkpointCount(estimator, structuredClone(counted), counted)).toEqual(
      countPart(new TiktokenEstimator(), 'checkpoint', counted),
    );
    expect(estimator.counted.size).toBe(0);
    // The commit kept checks recorded meanwhile: what it holds is counted, not what was made.
    const withChecks = {
      ...counted,
      checks: [{ checkId: 'tests', passed: false, error: 'x' }],
    } as Checkpoint;
    const count = checkpointCount(estimator, withChecks, counted);
    expect(count.tokens).toBe(new TiktokenEstimator().estimateCheckpoint(withChecks));
    expect(count.tokens).not.toBe(counted.tokens);
    expect(estimator.counted.size).toBe(1);
  });
});
