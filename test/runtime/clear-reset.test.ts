import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { exists, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'task', agentType: 'qa', featureId: 'f', taskId: 't', taskState: 'in_qa' };
const say = (i: number): MessageInput => ({
  role: i % 2 ? 'assistant' : 'user',
  content: `message ${i}: ran npm test, fixed src/a${i}.ts. ${'words '.repeat(40)}`,
});

describe('clearMessages, reset, recordChecks, exportSession, archiveSession', () => {
  it('clearMessages archives the live messages and keeps the checkpoint; history keeps every message', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), limits: { maxTokens: 4_000 } });
    const events: SessionEvent[] = [];
    runtime.subscribe((e) => events.push(e));
    const { id } = await runtime.createSession(KEY);
    for (let i = 0; i < 30; i++) await runtime.addMessage(id, say(i));
    await runtime.compact(id);
    const before = await runtime.getCheckpoint(id);
    const result = await runtime.clearMessages(id);
    expect(result.archivedMessages).toBeGreaterThan(0);
    expect(await runtime.getMessages(id)).toEqual([]);
    const after = await runtime.getCheckpoint(id);
    expect(after?.summary).toEqual(before?.summary);
    expect(after?.version).toBe((before?.version ?? 0) + 1);
    expect((await runtime.getHistory(id)).map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect((await runtime.estimateSize(id)).breakdown.messages).toBe(0);
    expect(events.some((e) => e.type === 'session.cleared')).toBe(true);
    // Nothing to clear: no new version, no segment.
    expect(await runtime.clearMessages(id)).toEqual({
      archivedMessages: 0,
      segment: null,
      checkpointVersion: after?.version,
    });
    await runtime.close();
  });

  it('recordChecks keeps checks across compactions and clears, replacing by checkId; reset empties them', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot(), limits: { maxTokens: 4_000 } });
    const { id } = await runtime.createSession(KEY);
    const first = await runtime.recordChecks(id, [
      { checkId: 'tests', passed: false, error: '2 failing' },
      { checkId: 'lint', passed: true },
    ]);
    expect(first.version).toBe(0);
    for (let i = 0; i < 30; i++) await runtime.addMessage(id, say(i));
    await runtime.recordChecks(id, [{ checkId: 'tests', passed: true }]);
    await runtime.compact(id);
    await runtime.clearMessages(id);
    const checks = (await runtime.getCheckpoint(id))?.checks ?? [];
    expect(checks.map((c) => [c.checkId, c.passed])).toEqual([
      ['tests', true],
      ['lint', true],
    ]);
    expect(checks.every((c) => typeof c.at === 'string')).toBe(true);
    await expect(runtime.recordChecks(id, [{ checkId: '', passed: true }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(runtime.recordChecks(id, 'nope' as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const reset = await runtime.reset(id);
    const emptied = await runtime.getCheckpoint(id);
    expect(emptied?.checks).toBeUndefined();
    expect(emptied?.summary).toEqual({
      completed: [],
      inProgress: [],
      pending: [],
      decisions: [],
      blockers: [],
    });
    expect(emptied?.version).toBe(reset.checkpointVersion);
    expect(await runtime.getHistory(id)).toHaveLength(30);
    await runtime.close();
  });

  it('a clear asked for during a compaction waits for it, and messages appended meanwhile survive', async () => {
    const compactor = new ScriptedCompactor();
    compactor.behaviour = 'hang';
    const runtime = await createSessionRuntime({
      root: await tempRoot(),
      compactor,
      limits: { maxTokens: 4_000 },
      compaction: { timeoutMs: 200, retryBaseMs: 60_000 },
    });
    const { id } = await runtime.createSession(KEY);
    for (let i = 0; i < 30; i++) await runtime.addMessage(id, say(i));
    const compaction = runtime.compact(id, { keepRecentTokens: 0 }).catch((e: unknown) => e);
    for (let i = 0; i < 100 && (await runtime.getSession(id)).state !== 'compacting'; i++)
      await new Promise((r) => setTimeout(r, 2));
    expect((await runtime.getSession(id)).state).toBe('compacting');
    const clearing = runtime.clearMessages(id);
    await runtime.addMessage(id, say(30));
    const result = await clearing; // after the compaction timed out
    expect(await compaction).toMatchObject({ code: 'COMPACTOR_TIMEOUT' });
    expect(result.archivedMessages).toBeGreaterThanOrEqual(30);
    expect((await runtime.getHistory(id)).map((m) => m.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i));
    await runtime.close();
  });

  it('exportSession holds session, checkpoint and full history as JSON; an archived session is read-only', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, limits: { maxTokens: 4_000 } });
    const { id } = await runtime.createSession(KEY, { context: { featureName: 'Export' } });
    for (let i = 0; i < 30; i++) await runtime.addMessage(id, say(i));
    await runtime.compact(id);
    const exported = await runtime.exportSession(id);
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
    expect(exported.history).toHaveLength(30);
    expect(exported.checkpoint?.version).toBe(1);
    expect(exported.context).toEqual({ featureName: 'Export' });
    const archived = await runtime.archiveSession(id);
    expect(archived.status).toBe('archived');
    await expect(runtime.addMessage(id, say(31))).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
    await expect(runtime.clearMessages(id)).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
    expect(await runtime.getHistory(id)).toHaveLength(30);
    await runtime.close();
    const again = await createSessionRuntime({ root });
    expect((await again.getSession(id)).status).toBe('archived');
    expect(await exists(path.join(root, '.dagent', 'sessions', id, 'archive', '000001.json'))).toBe(true);
    await again.close();
  });
});
