/**
 * editCheckpoint: a hand edit of the checkpoint, written as a new version through the normal
 * checkpoint write path, checked by the checkpoint schema and the budget, refused for archived
 * sessions, and committed between compactions (one running is never overwritten by it, nor it by
 * the compaction).
 */
import { describe, expect, it } from 'vitest';
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { isSessionError } from '../../src/core/errors.js';
import type { CheckpointSummary, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'f1',
  taskId: 't1',
  taskState: 'in_dev',
};

/** The offline compactor, held at its call until released. */
class GatedCompactor implements Compactor {
  readonly name = 'gated';
  readonly maxInputTokens = 200_000;
  readonly #inner = new OfflineCompactor();
  #release: () => void = () => undefined;
  readonly started: Promise<void>;
  #start: () => void = () => undefined;
  constructor() {
    this.started = new Promise((resolve) => (this.#start = resolve));
  }
  release(): void {
    this.#release();
  }
  async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
    this.#start();
    await new Promise<void>((resolve) => (this.#release = resolve));
    return this.#inner.compact(input, options);
  }
}

describe('editCheckpoint', () => {
  it('writes the edit as the next version, which every request then renders; what it does not name stays', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, compactor: new OfflineCompactor() });
    const events: SessionEvent[] = [];
    runtime.subscribe((e) => events.push(e));
    const { id } = await runtime.createSession(KEY, {
      checkpoint: { summary: { goals: ['CSV export'], pending: ['Write the exporter'] } },
    });
    await runtime.addMessage(id, { role: 'user', content: 'Use papaparse for the CSV.' });
    await runtime.addMessage(id, {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'npm test' } }],
    });
    await runtime.addMessage(id, {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Exit code 1\n2 failed', is_error: true },
      ],
    });
    await runtime.compact(id, { keepRecentTokens: 0 });
    const before = (await runtime.getCheckpoint(id))!;
    expect(before.version).toBe(1);
    expect(before.ledger?.problems.map((p) => p.key)).toEqual(['npm test']);

    const edited = await runtime.editCheckpoint(id, {
      summary: {
        pending: ['Ship the exporter behind a flag'],
        decisions: ['No papaparse: the stdlib writer'],
      },
      ledger: { problems: [] }, // the person knows the failure was a flaky runner
    });
    expect(edited.version).toBe(2);
    expect(edited.compactionInfo).toMatchObject({ compactor: 'edit', messagesCompacted: 0 });
    expect(edited.summary).toMatchObject({
      goals: ['CSV export'],
      pending: ['Ship the exporter behind a flag'],
      decisions: ['No papaparse: the stdlib writer'],
    });
    expect(edited.ledger?.problems).toEqual([]);
    expect(edited.ledger?.commands).toEqual(before.ledger?.commands); // not named: kept
    expect(edited.ledger?.requests).toEqual(before.ledger?.requests);
    expect(await runtime.getCheckpoint(id)).toEqual(edited);
    expect(events.filter((e) => e.type === 'session.checkpoint.edited')).toMatchObject([
      { sessionId: id, what: 'edit', checkpointVersion: 2 },
    ]);
    expect(events.some((e) => e.type === 'session.cleared')).toBe(false);

    for (const format of ['flattened', 'messages'] as const) {
      const request = await runtime.buildRequest(id, 'Next?', { format });
      expect(request.systemPrompt).toContain('### Next\n- Ship the exporter behind a flag');
      expect(request.systemPrompt).toContain('### Decisions\n- No papaparse: the stdlib writer');
      expect(request.systemPrompt).not.toContain('Write the exporter');
      expect(request.systemPrompt).not.toContain('### Open problems');
      expect(request.breakdown.checkpoint).toBe(edited.tokens);
    }
    expect((await runtime.estimateSize(id)).breakdown.checkpoint).toBe(edited.tokens);
    expect((await runtime.getSession(id)).checkpointVersion).toBe(2);
    expect(await runtime.getHistory(id)).toHaveLength(3); // an edit archives nothing, loses nothing
    // The old version is kept: what the compaction wrote is still readable as version 1.
    expect(await runtime.getCheckpoint(id, { version: 1 })).toEqual(before);
    expect(await runtime.getCheckpointVersions(id)).toEqual([0, 1, 2]); // 0: the goals it started with
    await runtime.close();

    // Durable: another runtime reads the edited version, and the one before it.
    const reopened = await createSessionRuntime({ root, readOnly: true });
    expect(await reopened.getCheckpoint(id)).toEqual(edited);
    expect(await reopened.getCheckpoint(id, { version: 1 })).toEqual(before);
    await reopened.close();
  });

  it(
    'refuses an edit that is not a valid checkpoint, ' +
      'passes the budget, or is of an archived session, writing nothing',
    async () => {
      const root = await tempRoot();
      const runtime = await createSessionRuntime({ root, limits: { checkpointTokens: 200 } });
      const { id } = await runtime.createSession(KEY, { checkpoint: { summary: { pending: ['a'] } } });
      const files = await snapshotDir(root);
      const refusals: Array<[unknown, RegExp]> = [
        [{}, /edit must give summary, ledger or both/],
        [{ summary: 'all done' }, /edit\.summary must be an object/],
        [{ summary: { notes: ['x'] } }, /edit\.summary has unknown field "notes"/],
        [{ summary: { pending: [1] } }, /edit\.summary\.pending must be a list of strings/],
        [{ ledger: { throughSeq: 9 } }, /edit\.ledger\.throughSeq is kept by the ledger itself/],
        [{ ledger: { files: [{ path: 'a.ts' }] } }, /ledger: ledger\.files must be a list of/],
        [{ ledger: { status: { text: 'x' } } }, /ledger: ledger\.status must be null or/],
        [
          { summary: { pending: ['a long plan '.repeat(200)] } },
          /over the session's checkpoint budget of 200/,
        ],
        [{ version: 7 }, /edit has unknown field "version"/],
      ];
      for (const [edit, message] of refusals) {
        const error = await runtime.editCheckpoint(id, edit as never).catch((e: unknown) => e);
        expect(isSessionError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
        expect((error as Error).message).toMatch(message);
      }
      expect(await snapshotDir(root)).toEqual(files);
      expect((await runtime.getCheckpoint(id))?.version).toBe(0);

      await runtime.archiveSession(id);
      const archived = await runtime
        .editCheckpoint(id, { summary: { pending: ['b'] } })
        .catch((e: unknown) => e);
      expect(isSessionError(archived, 'SESSION_ARCHIVED')).toBe(true);
      expect((await runtime.getCheckpoint(id))?.summary.pending).toEqual(['a']);
      await runtime.close();
    },
  );

  it('waits for a compaction that is running, then commits on top of it: neither overwrites the other', async () => {
    const compactor = new GatedCompactor();
    const runtime = await createSessionRuntime({ root: await tempRoot(), compactor });
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, { role: 'user', content: 'Keep the report columns as they are.' });
    await runtime.addMessage(id, { role: 'assistant', content: 'Understood.' });
    const compaction = runtime.compact(id, { keepRecentTokens: 0 });
    await compactor.started;
    const edit = runtime.editCheckpoint(id, { summary: { pending: ['Add the totals row'] } });
    expect((await runtime.getSession(id)).state).toBe('compacting');
    compactor.release();
    expect((await compaction).checkpointVersion).toBe(1);
    const edited = await edit;
    expect(edited.version).toBe(2);
    expect(edited.summary.pending).toEqual(['Add the totals row']);
    expect(edited.ledger?.requests.map((r) => r.text)).toEqual(['Keep the report columns as they are.']);
    expect(edited.compactionInfo.archivedThroughSeq).toBe(1);
    expect(await runtime.getCheckpoint(id)).toEqual(edited);
    await runtime.close();
  });
});
