/**
 * Harness reviews and merge conflict resolutions recorded as decisions (seed 7.2, 7.3): approved
 * or rejected with the reasons, a later one superseding an earlier one of the same task, durable
 * through clears and compactions whatever the compactor writes, and shown in every request.
 */
import { describe, expect, it } from 'vitest';
import { fitCheckpoint, recordDecision, recordMessages } from '../../src/compaction/ledger/index.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { isSessionError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { createTaskLoop, type TaskAgentInput } from '../../src/integration/task-loop.js';
import { loadTask } from '../../src/integration/task.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const TASK = loadTask({ id: 'parser', featureId: 'calc', title: 'Write the parser', state: 'in_review' });

describe('decisions in the ledger', () => {
  it('a later decision of the same kind and subject supersedes the earlier one; others stay', () => {
    const rejected = recordDecision(null, {
      kind: 'review',
      subject: 'parser',
      approved: false,
      reasons: ['no test for empty input', 'errors are swallowed'],
      by: 'harness',
    });
    const merged = recordDecision(rejected, {
      kind: 'merge',
      subject: 'parser',
      resolution: "kept main's tokenizer, re-applied the parser on top",
      files: ['src/tokens.ts'],
      reasons: ['main fixed unicode digits meanwhile'],
    });
    const approved = recordDecision(merged, {
      kind: 'review',
      subject: 'parser',
      approved: true,
      reasons: ['fixed'],
    });
    expect(approved.decisions).toMatchObject([
      {
        key: 'review:parser',
        outcome: 'approved',
        count: 2,
        reasons: ['fixed'],
        text: 'review of parser: approved',
      },
      {
        key: 'merge:parser',
        outcome: 'resolved',
        count: 1,
        files: ['src/tokens.ts'],
        text: "merge conflict in parser (src/tokens.ts) resolved: kept main's tokenizer, re-applied the parser on top",
      },
    ]);
    expect(rejected.decisions).toHaveLength(1); // not changed
    const error = (() => {
      try {
        return recordDecision(null, { kind: 'review', subject: 'parser' } as never);
      } catch (e) {
        return e;
      }
    })();
    expect(isSessionError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/a review needs "approved": true or false/);
  });

  it('keeps decisions when the checkpoint is cut to its budget: files and commands go first', () => {
    const estimator = createTokenEstimator();
    const messages: Message[] = Array.from({ length: 40 }, (_, i) => ({
      id: `m${i}`,
      seq: i,
      role: 'assistant',
      timestamp: 't',
      tokens: 10,
      content: [{ type: 'tool_use', id: `t${i}`, name: 'Edit', input: { file_path: `src/file-${i}.ts` } }],
    }));
    let ledger = recordMessages(null, messages);
    ledger = recordDecision(ledger, {
      kind: 'review',
      subject: 'parser',
      approved: false,
      reasons: ['no tests'],
    });
    const summary = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };
    const fitted = fitCheckpoint({ summary, ledger }, 80, estimator);
    expect(fitted.ledger.decisions).toHaveLength(1);
    expect(fitted.ledger.files.length).toBeLessThan(40);
  });

  it(
    'are recorded by a task loop with its iteration and by the host, ' +
      'shown in requests, kept through compactions',
    async () => {
      const root = await tempRoot();
      const runtime = await createSessionRuntime({ root, compactor: new OfflineCompactor() });
      const seen: TaskAgentInput[] = [];
      const review = await createTaskLoop({
        runtime,
        task: TASK,
        state: 'in_review',
        agent: async (input) => {
          seen.push(input);
          const approved = input.iteration > 1;
          return {
            messages: [{ role: 'assistant', content: approved ? 'Approved.' : 'Changes needed.' }],
            checks: [{ checkId: 'review', passed: approved }],
            decisions: [
              {
                kind: 'review',
                subject: 'parser',
                approved,
                reasons: approved ? ['empty input tested now'] : ['no test for empty input'],
                by: 'harness',
              },
            ],
          };
        },
      });
      expect(review.agentType).toBe('harness');
      const result = await review.run();
      expect(result.outcome).toBe('checks-passed');
      expect(seen[1]!.request.systemPrompt).toContain(
        '### Reviews and decisions (newest first)\n- review of parser: rejected (harness) because: no ' +
          'test for empty input',
      );
      const after = await runtime.getCheckpoint(review.sessionId);
      expect(after?.ledger?.decisions).toMatchObject([
        {
          key: 'review:parser',
          outcome: 'approved',
          count: 2,
          iteration: 2,
          by: 'harness',
          at: expect.any(String),
        },
      ]);

      // The host records the merge's resolution in the dev session; its next request shows it, and a
      // compaction (whatever the compactor writes) keeps it.
      const dev = await runtime.createSession({
        type: 'task',
        agentType: 'dev',
        featureId: 'calc',
        taskId: 'parser',
        taskState: 'in_dev',
      });
      const recorded = await runtime.recordDecision(dev.id, {
        kind: 'merge',
        subject: 'parser',
        resolution: 'rebased on main, kept both error types',
        files: ['src/errors.ts'],
        reasons: ['main added ParseError meanwhile'],
        by: 'merge',
      });
      expect(recorded.version).toBe(1);
      await runtime.addMessage(dev.id, { role: 'user', content: 'Carry on with the parser.' });
      await runtime.addMessage(dev.id, { role: 'assistant', content: 'On it.' });
      await runtime.compact(dev.id, { keepRecentTokens: 0 });
      const request = await runtime.buildRequest(dev.id, 'Next?');
      expect(request.systemPrompt).toContain(
        '- merge conflict in parser (src/errors.ts) resolved: rebased on main, kept both error types ' +
          '(merge) because: main added ParseError meanwhile',
      );
      const bad = await runtime
        .recordDecision(dev.id, { kind: 'merge', subject: 'parser' } as never)
        .catch((e: unknown) => e);
      expect(isSessionError(bad, 'INVALID_ARGUMENT')).toBe(true);
      expect((bad as Error).message).toMatch(/"resolution" must be a non-empty string/);
      await runtime.close();
    },
  );
});
