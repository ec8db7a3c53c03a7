/**
 * A compaction counts each checkpoint draft it keeps once: the fit returns the count it took of
 * the draft it keeps (`fitCheckpointCounted`), and the compactor's view of the ledger comes with
 * its count (`compactorViewCounted`), instead of the draft being rendered and counted again. The
 * counts are the estimator's own, so every figure is what it was.
 */
import { describe, expect, it } from 'vitest';
import type { CompactInput } from '../../machines/session.machine.js';
import { summariseCompaction } from '../../src/compaction/run-compaction.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import {
  compactorView,
  compactorViewCounted,
  fitCheckpoint,
  fitCheckpointCounted,
  recordMessages,
} from '../../src/compaction/ledger/index.js';
import type { Checkpoint, Message } from '../../src/core/types.js';
import { renderCheckpoint } from '../../src/request/format.js';
import { resolveLimits } from '../../src/runtime/limits.js';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';
import { TallyingEstimator } from '../helpers/tallying-estimator.js';

/** A working session: requests, tool calls and their results, files edited and commands run. */
function session(estimator: TiktokenEstimator, turns: number): Message[] {
  const messages: Message[] = [];
  const push = (role: 'user' | 'assistant', content: Message['content']) => {
    const seq = messages.length;
    const message = { id: `m${seq}`, seq, role, content, timestamp: '2026-01-01T00:00:00.000Z', tokens: 0 };
    messages.push({ ...message, tokens: estimator.estimateMessage(message) });
  };
  for (let i = 0; i < turns; i++) {
    push('user', `Please fix the parser bug number ${i} in src/parser-${i}.ts and run the tests again`);
    push('assistant', [
      { type: 'text', text: `Looking at src/parser-${i}.ts now.` },
      {
        type: 'tool_use',
        id: `e${i}`,
        name: 'Edit',
        input: { file_path: `src/parser-${i}.ts`, old_string: 'a', new_string: 'b' },
      },
      { type: 'tool_use', id: `b${i}`, name: 'Bash', input: { command: `npm test -- parser-${i}` } },
    ]);
    push('user', [
      { type: 'tool_result', tool_use_id: `e${i}`, content: 'edited' },
      {
        type: 'tool_result',
        tool_use_id: `b${i}`,
        content: i % 3 === 0 ? `1 failed: parser-${i}` : 'all passed',
      },
    ]);
  }
  return messages;
}

describe('a compaction counts the drafts it keeps once', () => {
  it('counts the checkpoint it commits once, with the same figures', async () => {
    const estimator = new TallyingEstimator();
    const messages = session(estimator, 40);
    const limits = resolveLimits({ maxTokens: 3_000 });
    const input: CompactInput = {
      sessionId: 'feature--f--dev',
      watermarkSeq: messages.at(-1)!.seq,
      limits,
      keepRecentTokens: limits.keepRecentTokens,
      fixedTokens: 50,
      correction: 1,
      attempt: 0,
      trigger: 'manual',
    };
    const { output, commit } = await summariseCompaction(
      {
        dir: { messages, checkpoint: null, commit: async () => undefined },
        compactor: new OfflineCompactor({ estimator }),
        estimator,
        now: () => new Date('2026-01-01T00:00:00Z'),
        elapsed: () => 0,
      },
      input,
      new AbortController().signal,
    );
    expect(output.kind).toBe('compacted');
    const checkpoint = commit!.checkpoint;
    const kept = renderCheckpoint(checkpoint.summary, checkpoint.checks, checkpoint.ledger);
    // Before, the fit counted the draft it kept, and the compaction counted it again: 2.
    expect(estimator.counted.get(kept)).toBe(1);
    expect(checkpoint.tokens).toBe(new TiktokenEstimator().estimateCheckpoint(checkpoint));
  });

  it('returns the parts fitCheckpoint returns, with their count', () => {
    const estimator = new TiktokenEstimator();
    const ledger = summariseLedger(estimator);
    for (const budget of [40, 120, 400, 5_000]) {
      const summary = {
        completed: ['parser fixed'],
        inProgress: ['lexer'],
        pending: [],
        decisions: [],
        blockers: [],
      };
      const fitted = fitCheckpointCounted({ summary, ledger }, budget, estimator);
      expect(fitted.parts).toEqual(fitCheckpoint({ summary, ledger }, budget, estimator));
      expect(fitted.tokens).toBe(estimator.estimateCheckpoint(fitted.parts as Checkpoint));
      const view = compactorViewCounted(ledger, budget, 4 * budget, estimator);
      expect({ budgetTokens: view.budgetTokens, ledger: view.ledger }).toEqual(
        compactorView(ledger, budget, 4 * budget, estimator),
      );
      const empty = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };
      expect(view.ledgerTokens).toBe(
        estimator.estimateCheckpoint({ summary: empty, ledger: view.ledger } as never),
      );
    }
  });
});

/** The ledger a compaction of the working session records. */
function summariseLedger(estimator: TiktokenEstimator) {
  return recordMessages(null, session(estimator, 30));
}
