/**
 * One walk through every channel, shared by the transport tests: whatever carries the calls
 * (handlers, Electron's IPC, HTTP), the same calls give the same answers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { expect } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import type { SessionAPI } from '../../src/ipc/channels.js';
import { ipcErrorCodeOf } from '../../src/ipc/channels.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';
import { startMessagesApiServer } from '../support/messages-api-server.js';

/** The DAGent PM chat {@link walkRuntime} puts in its root, for `migrate`. */
export const WALK_CHAT = '.dagent-worktrees/feature-walk/.dagent/chat.json';

/**
 * The runtime {@link walkEveryChannel} needs: a root holding one DAGent PM chat (in a v3.0 feature
 * worktree) for `migrate`, and a client of our own Messages API server on loopback for `send`.
 */
export async function walkRuntime(): Promise<{ runtime: SessionRuntime; close(): Promise<void> }> {
  const root = await tempRoot();
  await mkdir(path.dirname(path.join(root, WALK_CHAT)), { recursive: true });
  await writeFile(
    path.join(root, WALK_CHAT),
    JSON.stringify({
      entries: [
        { role: 'user', content: 'Add a walk-through page.', timestamp: '2024-12-14T09:05:00.000Z' },
        { role: 'assistant', content: 'One task: task-walk.', timestamp: 1734167160000 },
      ],
    }),
  );
  const server = await startMessagesApiServer();
  const client = new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
  const runtime = await createSessionRuntime({ root, client });
  return {
    runtime,
    async close() {
      await runtime.close();
      await server.close();
    },
  };
}

export const KEY: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'f1',
  taskId: 't1',
  taskState: 'in_dev',
};

/** Asserts that a value crosses JSON and structured clone unchanged (no undefined, no class instance). */
export function expectJsonSafe(value: unknown): void {
  expect(JSON.parse(JSON.stringify(value)) as unknown).toStrictEqual(value);
  expect(structuredClone(value)).toStrictEqual(value);
}

/** Drives `api` through every method in a session's life and returns what each answered. */
export async function walkEveryChannel(api: SessionAPI): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  const record = <T>(name: string, value: T): T => {
    expectJsonSafe(value);
    seen[name] = value;
    return value;
  };

  const info = record(
    'create',
    await api.create(KEY, { context: { featureName: 'Checkout', dependencies: ['auth'] } }),
  );
  expect(info.id).toBe('task--f1--t1--in_dev--dev');
  const id = info.id;
  expect(record('get', await api.get(id)).key).toEqual(KEY);
  // Loaded again from its files: the same session (nothing was in doubt).
  expect(record('reopen', await api.reopen(id))).toMatchObject({ id, key: KEY, error: null });
  expect(record('list', await api.list()).map((s) => s.id)).toContain(id);

  await api.addMessage(id, {
    role: 'user',
    content: 'Implement the checkout form. ' + 'details '.repeat(50),
  });
  await api.addMessage(id, {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Running the tests' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'npm test' } },
    ],
    metadata: { turn: 1, tags: ['ü', '日本'] },
  });
  await api.addMessage(id, {
    role: 'user',
    content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '3 passed' }],
  });
  const last = record(
    'addMessage',
    await api.addMessage(id, { role: 'assistant', content: 'All green. ' + 'summary '.repeat(50) }),
  );
  expect(last.seq).toBe(3);

  expect(record('getMessages', await api.getMessages(id))).toHaveLength(4);
  expect(record('getHistory', await api.getHistory(id))).toHaveLength(4);
  expect(record('getCheckpoint', await api.getCheckpoint(id))).toBeNull();
  expect(record('estimateSize', await api.estimateSize(id)).liveMessages).toBe(4);
  const built = record('buildRequest', await api.buildRequest(id, 'What next?', { format: 'messages' }));
  expect(built.messages.length).toBe(5);
  expect(record('previewRequest', await api.previewRequest(id)).userPrompt).toBe('');
  expect((await api.previewRequest(id, [{ type: 'text', text: 'hi' }])).userPrompt).toContain('hi');

  const compacted = record('compact', await api.compact(id, { keepRecentTokens: 0 }));
  expect(compacted.kind).toBe('compacted');
  expect(compacted.messagesCompacted).toBeGreaterThan(0);
  const checkpoint = record('getCheckpoint(after compact)', await api.getCheckpoint(id));
  expect(checkpoint?.version).toBe(compacted.checkpointVersion);
  expect(record('getCheckpointVersions', await api.getCheckpointVersions(id))).toContain(
    compacted.checkpointVersion,
  );
  // Nothing runs now: the answer says so.
  expect(record('cancelCompaction', await api.cancelCompaction(id))).toBe(false);

  await api.addMessage(id, { role: 'user', content: 'One more thing' });
  const cleared = record('clearMessages', await api.clearMessages(id));
  expect(cleared.archivedMessages).toBeGreaterThan(0);
  expect(await api.getMessages(id)).toEqual([]);
  expect((await api.getCheckpoint(id))?.summary).toEqual(checkpoint?.summary);

  await api.addMessage(id, { role: 'user', content: 'Start over' });
  record('reset', await api.reset(id));
  expect((await api.getCheckpoint(id))?.summary.completed).toEqual([]);

  expect(await api.setContext(id, { featureName: 'Checkout v2' })).toBeUndefined();
  expect(await api.setAgentDescription(id, { role: 'Developer', tools: ['Bash'] })).toBeUndefined();

  const exported = record('export', await api.export(id));
  expect(exported.history.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(exported.context).toEqual({ featureName: 'Checkout v2' });
  expect(exported.agentDescription).toEqual({ role: 'Developer', tools: ['Bash'] });

  // The channels DAGent had: context, description, checks, a turn, recent messages, metrics, migration.
  expect(record('getContext', await api.getContext(id))).toEqual({ featureName: 'Checkout v2' });
  expect(record('getAgentDescription', await api.getAgentDescription(id))).toEqual({
    role: 'Developer',
    tools: ['Bash'],
  });
  const checked = record(
    'recordChecks',
    await api.recordChecks(id, [
      { checkId: 'tests', passed: false, error: '1 failing' },
      { checkId: 'lint', passed: true },
    ]),
  );
  expect(checked.checks?.map((c) => [c.checkId, c.passed])).toEqual([
    ['tests', false],
    ['lint', true],
  ]);
  const turn = record('send', await api.send(id, 'Summarise what was done.', { maxTokens: 300 }));
  expect(turn.message).toMatchObject({ role: 'assistant', seq: 7 });
  expect(turn.usage.inputTokens).toBeGreaterThan(0);
  const recent = record('getRecentMessages', await api.getRecentMessages(id, 3));
  expect(recent.map((m) => m.seq)).toEqual([5, 6, 7]);
  expect(recent[1]).toMatchObject({ role: 'user', content: 'Summarise what was done.' });
  expect((await api.getRecentMessages(id)).map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  const metrics = record('getMetrics', await api.getMetrics(id));
  expect(metrics).toMatchObject({
    id,
    key: KEY,
    status: 'active',
    messages: { total: 8, live: 2, archived: 6 },
    compactions: { total: (await api.getCheckpoint(id))?.version },
  });
  expect(metrics.tokens.request).toBeGreaterThan(metrics.tokens.live);
  expect(metrics.tokens.threshold).toBeLessThan(metrics.tokens.limit);
  const overall = record('getRuntimeMetrics', await api.getRuntimeMetrics());
  expect(overall.sessions).toMatchObject({ total: 1, byStatus: { active: 1, archived: 0 } });
  expect(overall.sessions.byAgentType).toEqual({ dev: 1 });
  expect(overall.messages.total).toBe(8);
  const dry = record('migrate(dry run)', await api.migrate({ dryRun: true }));
  expect(dry.files.map((f) => [f.file, f.status, f.messages])).toEqual([[WALK_CHAT, 'would-migrate', 2]]);
  const migrated = record('migrate', await api.migrate());
  expect(migrated.files.map((f) => [f.status, f.sessionId, f.checkpoint])).toEqual([
    ['migrated', 'feature--feature-walk--pm', 'made'],
  ]);
  expect((await api.getHistory('feature--feature-walk--pm')).map((m) => m.timestamp)).toEqual([
    '2024-12-14T09:05:00.000Z',
    '2024-12-14T09:06:00.000Z',
  ]);
  expect((await api.migrate()).totals).toMatchObject({ alreadyMigrated: 1, messagesMigrated: 0 });
  expect((await api.getRuntimeMetrics()).sessions.total).toBe(2);

  // A hand edit and a decision, each a new checkpoint version that requests render.
  const current = (await api.getCheckpoint(id))!;
  const edited = record(
    'editCheckpoint',
    await api.editCheckpoint(id, {
      summary: { pending: ['Ship the checkout form'] },
      ledger: { problems: [] },
    }),
  );
  expect(edited.version).toBe(current.version + 1);
  expect(edited.summary.pending).toEqual(['Ship the checkout form']);
  expect((await api.previewRequest(id)).systemPrompt).toContain('### Next\n- Ship the checkout form');
  const decided = record(
    'recordDecision',
    await api.recordDecision(id, {
      kind: 'review',
      subject: 't1',
      approved: false,
      reasons: ['no test for an empty cart'],
      by: 'harness',
    }),
  );
  expect(decided.version).toBe(edited.version + 1);
  expect(decided.ledger?.decisions?.[0]).toMatchObject({ key: 'review:t1', outcome: 'rejected' });
  expect((await api.previewRequest(id)).systemPrompt).toContain(
    '- review of t1: rejected (harness) because: no test for an empty cart',
  );
  // An internal message is kept, and shown only when asked for.
  await api.addMessage(id, { role: 'system', content: 'heartbeat', metadata: { internal: true } });
  expect((await api.getRecentMessages(id, 1)).map((m) => m.seq)).toEqual([7]);
  expect((await api.getRecentMessages(id, 1, { includeInternal: true })).map((m) => m.seq)).toEqual([8]);
  expect(await api.getRecentMessages(id, undefined, { includeInternal: true })).toHaveLength(9);
  expect((await api.previewRequest(id)).systemPrompt).not.toContain('heartbeat');

  // A keyed turn sent twice (a retry after a lost answer) is stored once; caching can be turned off.
  const keyed = await api.send(id, 'Anything left?', { maxTokens: 300, idempotencyKey: 'walk-turn-1' });
  const again = await api.send(id, 'Anything left?', { maxTokens: 300, idempotencyKey: 'walk-turn-1' });
  expect(again.message).toEqual(keyed.message);
  expect(again.replayed).toBe(true);
  expect((await api.getRecentMessages(id, 3)).map((m) => m.seq)).toEqual([7, 9, 10]);
  const uncached = await api.buildRequest(id, 'Next?', { format: 'messages', cache: false });
  expect(JSON.stringify(uncached)).not.toContain('cache_control');
  expect(JSON.stringify(await api.buildRequest(id, 'Next?', { format: 'messages' }))).toContain(
    'cache_control',
  );

  expect(record('archive', await api.archive(id)).status).toBe('archived');
  const refused = await api.addMessage(id, { role: 'user', content: 'too late' }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(ipcErrorCodeOf(refused)).toBe('SESSION_ARCHIVED');
  expect((refused as Error).message).toMatch(/^SESSION_ARCHIVED: \[dagent-sessions\]/);
  const noEdit = await api.editCheckpoint(id, { summary: { pending: ['later'] } }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(ipcErrorCodeOf(noEdit)).toBe('SESSION_ARCHIVED');
  return seen;
}
