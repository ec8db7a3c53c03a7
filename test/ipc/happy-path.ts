/**
 * One walk through every channel, shared by the transport tests: whatever carries the calls
 * (handlers, Electron's IPC, HTTP), the same calls give the same answers.
 */
import { expect } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import type { SessionAPI } from '../../src/ipc/channels.js';
import { ipcErrorCodeOf } from '../../src/ipc/channels.js';

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

  expect(record('archive', await api.archive(id)).status).toBe('archived');
  const refused = await api.addMessage(id, { role: 'user', content: 'too late' }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(ipcErrorCodeOf(refused)).toBe('SESSION_ARCHIVED');
  expect((refused as Error).message).toMatch(/^SESSION_ARCHIVED: \[dagent-sessions\]/);
  return seen;
}
