import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import type { ContentBlock, MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime, type SessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { settle } from '../helpers/settle.js';
import { exists, snapshotDir, tempRoot } from '../helpers/temp-root.js';

/**
 * Resolves once `done()` holds, checked after every inspection event of the runtime's actors (the
 * supervisor's snapshot changes when an actor is stopped and forgotten): a wait on events, not on
 * the clock. Pass `inspect` to createSessionRuntime.
 */
function actorWatch() {
  const waiters = new Set<{ done: () => boolean; resolve: () => void }>();
  return {
    inspect: () => {
      for (const w of [...waiters]) {
        if (!w.done()) continue;
        waiters.delete(w);
        w.resolve();
      }
    },
    until: (done: () => boolean) =>
      done() ? Promise.resolve() : new Promise<void>((resolve) => waiters.add({ done, resolve })),
  };
}

const DEV: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'f1',
  taskId: 't1',
  taskState: 'in_dev',
};
const PM: SessionKey = { type: 'feature', agentType: 'pm', featureId: 'f1' };

const text = (i: number, words = 60) =>
  `Step ${i}: edited src/module-${i}.ts and ran npm test. ${'lorem ipsum dolor '.repeat(words)}`;

async function fill(runtime: SessionRuntime, id: string, count: number, words = 60): Promise<void> {
  for (let i = 0; i < count; i++)
    await runtime.addMessage(id, { role: i % 2 === 0 ? 'user' : 'assistant', content: text(i, words) });
}

async function expectCode(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isSessionError(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  if (pattern) expect((error as Error).message).toMatch(pattern);
}

describe('createSession', () => {
  it('is idempotent for the same key and lays out the session directory', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const events: SessionEvent[] = [];
    runtime.subscribe((e) => events.push(e));
    const [a, b] = await Promise.all([runtime.createSession(DEV), runtime.createSession(DEV)]);
    const c = await runtime.createSession(DEV);
    expect(a.id).toBe('task--f1--t1--in_dev--dev');
    expect(b.id).toBe(a.id);
    expect(c.createdAt).toBe(a.createdAt);
    expect(events.filter((e) => e.type === 'session.created')).toHaveLength(1);
    const dir = path.join(root, '.dagent', 'sessions', a.id);
    expect(await exists(path.join(dir, 'session.json'))).toBe(true);
    expect(await exists(path.join(dir, 'agent-description.json'))).toBe(true);
    expect((await runtime.listSessions()).map((s) => s.id)).toEqual([a.id]);
    await runtime.close();
  });

  it.each([
    [{ ...DEV, featureId: '..' }, /reserved|\.\./],
    [{ ...DEV, taskId: 'a/b' }, /letters, digits/],
    [{ ...DEV, taskId: '__proto__' }, /reserved/],
    [{ ...DEV, featureId: '' }, /non-empty/],
    [{ ...DEV, featureId: 'a--b' }, /--/],
    [
      { ...DEV, agentType: 'boss' },
      /agent type "boss" is not registered with this runtime; the agent types are pm, dev, qa, harness, merge/,
    ],
    [{ ...DEV, taskState: 'done' }, /task state "done" is not registered with this runtime/],
    [null, /must be an object/],
  ])('refuses the key %j with a clear error and writes nothing', async (key, message) => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    await expectCode(runtime.createSession(key as SessionKey), 'INVALID_KEY', message);
    expect(await runtime.listSessions()).toEqual([]);
    await runtime.close();
  });
});

describe('addMessage', () => {
  it('resolves once the message is on disk, readable by another reader at once', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(DEV);
    const blocks: ContentBlock[] = [
      { type: 'thinking', thinking: 'consider', signature: 'sig' },
      { type: 'text', text: 'Running it' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'npm test' } },
    ];
    const message = await runtime.addMessage(id, {
      role: 'assistant',
      content: blocks,
      metadata: { turn: 1, tags: ['ü', '日本'] },
    });
    expect(message).toMatchObject({ seq: 0, role: 'assistant', content: blocks, metadata: { turn: 1 } });
    expect(message.tokens).toBeGreaterThan(5);
    const log = await readFile(path.join(root, '.dagent', 'sessions', id, 'chat.log'), 'utf8');
    expect(log).toContain('"toolu_1"');
    const reader = await createSessionRuntime({ root, readOnly: true });
    expect((await reader.getMessages(id)).map((m) => m.id)).toEqual([message.id]);
    await reader.close();
    await runtime.close();
  });

  it.each([
    [{ role: 'robot', content: 'x' }, /role must be/],
    [{ role: 'user', content: 42 }, /content must be a string or a list/],
    [{ role: 'user', content: [] }, /empty list/],
    [{ role: 'user', content: [{ type: 'image' }] }, /content\[0\]\.source must be an object/],
    [{ role: 'user', content: [{ kind: 'text', text: 'x' }] }, /content\[0\] has no string "type"/],
    [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }, /tool_use_id/],
    [{ role: 'user', content: 'x', metadata: { n: Number.NaN } }, /NaN/],
    [{ role: 'user', content: 'x', metadata: 'm' }, /metadata must be a plain object/],
    [{ role: 'user', content: 'x', timestamp: 'yesterday' }, /ISO-8601/],
  ])('refuses %j with a clear error and writes nothing', async (input, message) => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(DEV);
    await runtime.addMessage(id, { role: 'user', content: 'first' });
    const before = await snapshotDir(root);
    await expectCode(runtime.addMessage(id, input as MessageInput), 'INVALID_MESSAGE', message);
    const after = await snapshotDir(root);
    expect(after).toEqual(before);
    expect(await runtime.getMessages(id)).toHaveLength(1);
    await runtime.close();
  });

  it('refuses a cyclic metadata object instead of crashing', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(DEV);
    const metadata: Record<string, unknown> = {};
    metadata.self = metadata;
    await expectCode(
      runtime.addMessage(id, { role: 'user', content: 'x', metadata }),
      'INVALID_MESSAGE',
      /cycle/,
    );
    await runtime.close();
  });

  it('an unknown session is SESSION_NOT_FOUND, an unsafe id INVALID_KEY', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    await expectCode(
      runtime.addMessage('feature--nope--pm', { role: 'user', content: 'x' }),
      'SESSION_NOT_FOUND',
      /createSession/,
    );
    await expectCode(runtime.getMessages('../etc'), 'INVALID_KEY');
    await runtime.close();
  });

  it('keeps every one of many concurrent appends, numbered in call order', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(DEV);
    const sent = Array.from({ length: 120 }, (_, i) =>
      runtime.addMessage(id, { role: 'user', content: `message ${i}` }),
    );
    const acked = await Promise.all(sent);
    expect(acked.map((m) => m.seq)).toEqual(acked.map((_, i) => i));
    await runtime.close();
    const again = await createSessionRuntime({ root });
    expect((await again.getMessages(id)).map((m) => m.content)).toEqual(acked.map((_, i) => `message ${i}`));
    await again.close();
  });
});

describe('compaction through the runtime', () => {
  it('compacts at the threshold, keeps history whole and the checkpoint versioned', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, limits: { maxTokens: 4_000 } });
    const events: SessionEvent[] = [];
    runtime.subscribe((e) => events.push(e));
    const { id } = await runtime.createSession(DEV);
    expect(await runtime.getCheckpoint(id)).toBeNull();
    await fill(runtime, id, 80);
    await settle(runtime, id);
    const completed = events.filter((e) => e.type === 'session.compaction.completed');
    expect(completed.length).toBeGreaterThanOrEqual(2);
    for (const e of completed) {
      if (e.type !== 'session.compaction.completed') continue;
      expect(e.tokensAfter).toBeLessThan(e.tokensBefore);
      expect(e.tokensAfter).toBeLessThan(3_600);
      expect(e.messagesCompacted).toBeGreaterThan(0);
    }
    const history = await runtime.getHistory(id);
    expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i));
    expect(history.map((m) => m.content)).toEqual(Array.from({ length: 80 }, (_, i) => text(i)));
    const checkpoint = await runtime.getCheckpoint(id);
    expect(checkpoint?.version).toBe(completed.length);
    expect(checkpoint?.compactionInfo.archivedMessages).toBe(
      history.length - (await runtime.getMessages(id)).length,
    );
    const size = await runtime.estimateSize(id);
    const live = await runtime.getMessages(id);
    expect(size.breakdown.messages).toBe(live.reduce((s, m) => s + m.tokens, 0));
    expect(size.total).toBe(Object.values(size.breakdown).reduce((a, b) => a + b, 0));
    const info = await runtime.getSession(id);
    expect(info.stats.totalMessages).toBe(80);
    expect(info.stats.totalCompactions).toBe(completed.length);
    const archive = path.join(root, '.dagent', 'sessions', id, 'archive');
    expect(await exists(path.join(archive, '000001.json'))).toBe(true);
    await runtime.close();
  });

  it('never splits a tool_use from its tool_result between archive and live', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, limits: { maxTokens: 3_000, keepRecentTokens: 500 } });
    const { id } = await runtime.createSession(DEV);
    for (let i = 0; i < 40; i++) {
      await runtime.addMessage(id, {
        role: 'assistant',
        content: [{ type: 'tool_use', id: `t${i}`, name: 'Bash', input: { command: `cat file-${i}` } }],
      });
      await runtime.addMessage(id, {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: 'x '.repeat(150) }],
      });
    }
    await settle(runtime, id);
    const live = await runtime.getMessages(id);
    const first = live[0]!;
    expect(Array.isArray(first.content) && first.content[0]?.type).toBe('tool_use');
    await runtime.close();
  });

  it('a compactor that throws changes nothing on disk, appends go on, and a later success recovers', async () => {
    const root = await tempRoot();
    const compactor = new ScriptedCompactor();
    compactor.behaviour = 'throw';
    const runtime = await createSessionRuntime({
      root,
      compactor,
      limits: { maxTokens: 4_000 },
      compaction: { retryBaseMs: 60_000 },
    });
    const events: SessionEvent[] = [];
    runtime.subscribe((e) => events.push(e));
    const { id } = await runtime.createSession(DEV);
    await fill(runtime, id, 30);
    await settle(runtime, id);
    expect((await runtime.getSession(id)).state).toBe('failed');
    expect((await runtime.getSession(id)).error?.code).toBe('COMPACTOR_UNAVAILABLE');
    const failed = events.find((e) => e.type === 'session.compaction.failed');
    expect(failed).toMatchObject({ code: 'COMPACTOR_UNAVAILABLE', retryable: true });
    const dir = path.join(root, '.dagent', 'sessions', id);
    const before = await snapshotDir(dir);
    await expectCode(runtime.compact(id), 'COMPACTOR_UNAVAILABLE', /overloaded/);
    expect(await snapshotDir(dir)).toEqual(before);
    expect(await exists(path.join(dir, 'checkpoint.json'))).toBe(false);
    await runtime.addMessage(id, { role: 'user', content: 'still accepted while failed' });
    compactor.behaviour = 'ok';
    const result = await runtime.compact(id);
    expect(result.kind).toBe('compacted');
    expect((await runtime.getSession(id)).state).toBe('idle');
    expect((await runtime.getHistory(id)).length).toBe(31);
    await runtime.close();
  });

  it('times out a hanging compactor, aborts its signal and leaves the files as they were', async () => {
    const root = await tempRoot();
    const compactor = new ScriptedCompactor();
    compactor.behaviour = 'hang';
    const runtime = await createSessionRuntime({
      root,
      compactor,
      limits: { maxTokens: 4_000 },
      compaction: { timeoutMs: 100, retryBaseMs: 60_000 },
    });
    const { id } = await runtime.createSession(DEV);
    await fill(runtime, id, 30);
    const dir = path.join(root, '.dagent', 'sessions', id);
    const before = await snapshotDir(dir);
    await expectCode(runtime.compact(id), 'COMPACTOR_TIMEOUT', /did not answer within 100 ms/);
    expect(compactor.signals.at(-1)?.aborted).toBe(true);
    expect(await snapshotDir(dir)).toEqual(before);
    await runtime.close();
  });

  it('reports no progress instead of looping when the fixed parts alone pass the threshold', async () => {
    const root = await tempRoot();
    const compactor = new ScriptedCompactor();
    // Such a context is refused now (fixed-parts.test.ts); a session stored under larger limits has one.
    const before = await createSessionRuntime({ root, compactor });
    const { id } = await before.createSession(DEV, { context: { projectNotes: 'word '.repeat(4_000) } });
    await before.close();
    const runtime = await createSessionRuntime({ root, compactor, limits: { maxTokens: 4_000 } });
    await fill(runtime, id, 3, 10);
    await settle(runtime, id);
    const info = await runtime.getSession(id);
    expect(info.state).toBe('failed');
    expect(info.error?.code).toBe('COMPACTION_NO_PROGRESS');
    const calls = compactor.calls;
    await fill(runtime, id, 3, 10);
    await settle(runtime, id);
    expect(compactor.calls).toBe(calls); // no loop
    await runtime.setContext(id, { projectNotes: 'short' });
    await settle(runtime, id);
    expect((await runtime.getSession(id)).state).toBe('idle');
    await runtime.close();
  });
});

describe('one writer per root', () => {
  it('refuses a second writer naming the holder, lets a reader in, and frees the root on close', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(PM);
    await runtime.addMessage(id, { role: 'user', content: 'hello' });
    await expectCode(createSessionRuntime({ root }), 'ROOT_LOCKED', new RegExp(`process ${process.pid}`));
    const reader = await createSessionRuntime({ root, readOnly: true });
    expect(await reader.getMessages(id)).toHaveLength(1);
    await expectCode(reader.addMessage(id, { role: 'user', content: 'x' }), 'INVALID_ARGUMENT', /readOnly/);
    await reader.close();
    await runtime.close();
    await expectCode(runtime.addMessage(id, { role: 'user', content: 'x' }), 'RUNTIME_CLOSED');
    const next = await createSessionRuntime({ root });
    expect(await next.getMessages(id)).toHaveLength(1);
    await next.close();
  });
});

describe('a file that does not parse', () => {
  it('is set aside, named in the error, never overwritten; other sessions carry on', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const a = await runtime.createSession(DEV);
    const b = await runtime.createSession(PM);
    await runtime.addMessage(a.id, { role: 'user', content: 'keep me' });
    await runtime.close();
    const chat = path.join(root, '.dagent', 'sessions', a.id, 'context.json');
    await writeFile(chat, '{"featureName": "trunc');
    const again = await createSessionRuntime({ root });
    await expectCode(again.getMessages(a.id), 'CORRUPT_FILE', /context\.json does not parse/);
    await expectCode(again.addMessage(a.id, { role: 'user', content: 'x' }), 'CORRUPT_FILE', /set aside/);
    expect(await exists(chat)).toBe(false);
    await again.addMessage(b.id, { role: 'user', content: 'other sessions work' });
    // A person deletes the set-aside file (accepting the loss of the context): the session opens again.
    const dir = path.dirname(chat);
    for (const name of await readdir(dir)) if (name.includes('.corrupt-')) await rm(path.join(dir, name));
    expect((await again.getMessages(a.id)).map((m) => m.content)).toEqual(['keep me']);
    const listed = await again.listSessions();
    expect(listed.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
    await again.close();
  });
});

describe('the supervisor through the runtime', () => {
  it('stops idle session actors and reopens them from disk on next use', async () => {
    const root = await tempRoot();
    const clock = new SimulatedClock();
    const watch = actorWatch();
    const runtime = await createSessionRuntime({
      root,
      clock,
      inspect: watch.inspect,
      supervisor: { sweepIntervalMs: 1_000, idleSweeps: 2 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { id } = await runtime.createSession({
        type: 'task',
        agentType: 'qa',
        featureId: 'f',
        taskId: `t${i}`,
        taskState: 'in_qa',
      });
      await runtime.addMessage(id, { role: 'user', content: `hello ${i}` });
      ids.push(id);
    }
    expect(runtime.activeSessionIds()).toHaveLength(5);
    // The supervisor hears that the last call ended after the turn it ended in (session-registry.ts).
    await new Promise((r) => setImmediate(r));
    clock.increment(1_000);
    clock.increment(1_000);
    await watch.until(() => runtime.activeSessionIds().length === 0);
    expect(runtime.activeSessionIds()).toEqual([]);
    // session.json got its figures at close: listing needs no actor.
    const listed = await runtime.listSessions();
    expect(listed.every((s) => !s.active && s.stats.totalMessages === 1)).toBe(true);
    expect(runtime.activeSessionIds()).toEqual([]);
    await runtime.addMessage(ids[0]!, { role: 'user', content: 'back again' });
    expect(runtime.activeSessionIds()).toEqual([ids[0]]);
    expect((await runtime.getMessages(ids[0]!)).map((m) => m.content)).toEqual(['hello 0', 'back again']);
    await runtime.close();
  });

  it('keeps the number of live actors bounded by maxActive', async () => {
    const root = await tempRoot();
    const watch = actorWatch();
    const runtime = await createSessionRuntime({
      root,
      inspect: watch.inspect,
      supervisor: { maxActive: 3 },
    });
    // Counts first: an actor stopped for the cap closes once its appends are counted, and the
    // counting worker's first start would otherwise hold every close of the loop below.
    const warm = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: 'warm' });
    await runtime.addMessage(warm.id, { role: 'user', content: 'x' });
    await runtime.estimateSize(warm.id);
    let most = 0;
    for (let i = 0; i < 12; i++) {
      const { id } = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: `f${i}` });
      await runtime.addMessage(id, { role: 'user', content: 'x' });
      // Its count is in before the next session opens: an actor stopped for the cap then closes at
      // once, whatever the load (on a loaded machine a late count held a second one open: 5 live).
      await runtime.estimateSize(id);
      most = Math.max(most, runtime.activeSessionIds().length);
    }
    await watch.until(() => runtime.activeSessionIds().length <= 3);
    expect(runtime.activeSessionIds().length).toBeLessThanOrEqual(3);
    expect(most).toBeLessThanOrEqual(4); // the one being opened may briefly make it maxActive + 1
    expect(await runtime.listSessions()).toHaveLength(13);
    await runtime.close();
  });
});

describe('close', () => {
  it('waits for appends in flight and writes session.json figures', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(DEV);
    const pending = Array.from({ length: 20 }, (_, i) =>
      runtime.addMessage(id, { role: 'user', content: `m${i}` }),
    );
    const closing = runtime.close();
    await Promise.all(pending);
    await closing;
    const record = JSON.parse(
      await readFile(path.join(root, '.dagent', 'sessions', id, 'session.json'), 'utf8'),
    ) as { stats: { totalMessages: number } };
    expect(record.stats.totalMessages).toBe(20);
    expect(await exists(path.join(root, '.dagent', 'lock'))).toBe(false);
    expect((await stat(path.join(root, '.dagent', 'sessions', id, 'chat.log'))).size).toBeGreaterThan(0);
  });
});

describe('limits per runtime and per agent type', () => {
  it('applies profile defaults, then the runtime limits, then the agent type limits', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({
      root,
      limits: { maxTokens: 50_000 },
      agents: { qa: { limits: { maxTokens: 30_000, compactAt: 0.7 } } },
    });
    const dev = await runtime.createSession(DEV);
    const pm = await runtime.createSession(PM);
    const qa = await runtime.createSession({
      type: 'task',
      agentType: 'qa',
      featureId: 'f1',
      taskId: 't1',
      taskState: 'in_qa',
    });
    expect(dev.limits).toMatchObject({ maxTokens: 50_000, compactAt: 0.9, keepRecentTokens: 10_000 });
    expect(pm.limits).toMatchObject({ maxTokens: 50_000, compactAt: 0.8 }); // the pm profile's default
    expect(qa.limits).toMatchObject({ maxTokens: 30_000, compactAt: 0.7, keepRecentTokens: 6_000 });
    expect((await runtime.estimateSize(qa.id)).threshold).toBe(21_000);
    await runtime.close();
    const explicit = await createSessionRuntime({ root, limits: { compactAt: 0.95 } });
    // The runtime's own setting wins over the profile default.
    expect((await explicit.getSession(pm.id)).limits.compactAt).toBe(0.95);
    await explicit.close();
  });
});
