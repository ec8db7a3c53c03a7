/**
 * The ledger through the real runtime: recorded at every compaction whatever the compactor
 * returns, given to the compactor, kept within the checkpoint budget, counted in every request,
 * and made from a schema-1 checkpoint found on disk.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import type { CheckpointSummary, SessionLedger } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';
import { call, say } from './ledger-helpers.js';

const KEY = { type: 'task', agentType: 'dev', featureId: 'f1', taskId: 't1', taskState: 'in_dev' } as const;
const EMPTY: CheckpointSummary = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };

/** A compactor that remembers what it was given and returns nothing of its own. */
class Silent implements Compactor {
  readonly name = 'silent';
  readonly maxInputTokens = 100_000;
  readonly ledgers: Array<SessionLedger | null | undefined> = [];
  async compact(input: CompactionInput, _options: CompactOptions): Promise<CheckpointSummary> {
    this.ledgers.push(structuredClone(input.ledger));
    return EMPTY;
  }
}

describe('the ledger through the runtime', () => {
  it('is recorded at every compaction whatever the compactor returns, and the compactor is given it', async () => {
    const compactor = new Silent();
    const runtime = await createSessionRuntime({ root: await tempRoot(), durable: false, compactor });
    try {
      const { id } = await runtime.createSession(KEY);
      for (const m of [
        say('user', 'Add a --json flag to the list command.'),
        ...call('a', 'Edit', { file_path: 'src/cli.ts', old_string: 'a', new_string: 'b' }, 'updated'),
        ...call('b', 'Bash', { command: 'npm test' }, '2 failed, 9 passed', true),
      ])
        await runtime.addMessage(id, m);
      await runtime.compact(id, { keepRecentTokens: 0 });
      const checkpoint = await runtime.getCheckpoint(id);
      expect(checkpoint?.schemaVersion).toBe(2);
      expect(checkpoint?.summary).toEqual(EMPTY);
      expect(checkpoint?.ledger?.files.map((f) => [f.path, f.action])).toEqual([['src/cli.ts', 'edited']]);
      expect(checkpoint?.ledger?.problems.map((p) => p.key)).toEqual(['npm test']);
      expect(checkpoint?.ledger?.requests.map((r) => r.text)).toEqual([
        'Add a --json flag to the list command.',
      ]);
      expect(compactor.ledgers.at(-1)?.problems.map((p) => p.key)).toEqual(['npm test']);
      // The request carries the ledger, and its size counts it.
      const request = await runtime.buildRequest(id, 'Go on.', { format: 'messages' });
      expect(request.systemPrompt).toContain('- `npm test` failed (2 failed, 9 passed)');
      expect(request.breakdown.checkpoint).toBe(createTokenEstimator().estimateCheckpoint(checkpoint!));
      // A second compaction settles the problem once the same command passes.
      for (const m of call('c', 'Bash', { command: 'npm test' }, '11 passed'))
        await runtime.addMessage(id, m);
      await runtime.compact(id, { keepRecentTokens: 0 });
      const next = await runtime.getCheckpoint(id);
      expect(next?.ledger?.problems).toEqual([]);
      expect(next?.ledger?.commands[0]).toMatchObject({
        command: 'npm test',
        runs: 2,
        status: 'ok',
        passed: 11,
      });
    } finally {
      await runtime.close();
    }
  });

  it("keeps the checkpoint within its budget, dropping the least needed first and the user's words last", async () => {
    const runtime = await createSessionRuntime({
      root: await tempRoot(),
      durable: false,
      limits: { maxTokens: 8_000, checkpointTokens: 400 },
    });
    try {
      const { id } = await runtime.createSession(KEY);
      await runtime.addMessage(id, say('user', 'Keep the public API stable.'));
      for (let i = 0; i < 120; i++)
        for (const m of call(`r${i}`, 'Read', { file_path: `src/module${i}.ts` }, 'export {}'))
          await runtime.addMessage(id, m);
      await runtime.compact(id, { keepRecentTokens: 0 });
      const checkpoint = await runtime.getCheckpoint(id);
      expect(checkpoint?.tokens).toBeLessThanOrEqual(400);
      expect(checkpoint?.ledger?.requests.map((r) => r.text)).toEqual(['Keep the public API stable.']);
      expect(checkpoint?.ledger?.files.length).toBeLessThan(120); // files only read go first
    } finally {
      await runtime.close();
    }
  });

  it(
    'reads a schema-1 checkpoint found on disk and writes ' +
      'schema 2 at the next compaction, losing nothing',
    async () => {
      const root = await tempRoot();
      const fixture = path.resolve(
        path.dirname(fileURLToPath(import.meta.url)),
        '../../fixtures/store/v1-session',
      );
      const id = 'task--f1--t1--in_dev--dev';
      await cp(fixture, path.join(root, '.dagent', 'sessions', id), { recursive: true });
      const runtime = await createSessionRuntime({ root, durable: false });
      try {
        const before = await runtime.getCheckpoint(id);
        expect(before?.schemaVersion).toBeUndefined();
        for (const m of call('z', 'Bash', { command: 'npm run build' }, 'built'))
          await runtime.addMessage(id, m);
        await runtime.compact(id, { keepRecentTokens: 0 });
        const after = await runtime.getCheckpoint(id);
        expect(after?.schemaVersion).toBe(2);
        expect(after?.version).toBe((before?.version ?? 0) + 1);
        // The old summary's items are all still there; the new facts are in the ledger.
        expect(after?.summary.completed).toEqual(expect.arrayContaining(before?.summary.completed ?? []));
        expect(after?.summary.decisions).toEqual(before?.summary.decisions);
        expect(after?.ledger?.commands.map((c) => c.command)).toEqual(['npm run build']);
        expect(after?.ledger?.throughSeq).toBeGreaterThan(before?.compactionInfo.archivedThroughSeq ?? 0);
      } finally {
        await runtime.close();
      }
    },
  );
});
