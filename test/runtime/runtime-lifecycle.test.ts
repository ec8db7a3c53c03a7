/**
 * The runtime's lifecycle through its public API, with the session registry behind it: a
 * creation racing loads of the same session, every call after close refused alike, and an
 * automatic compaction whose commit is in flight when close() is called (close waits for it).
 * The store's commit waits on a promise the test resolves: nothing here waits on the clock.
 */
import { describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { sessionIdOf } from '../../src/core/ids.js';
import { TRACKED } from '../../src/runtime/track-calls.js';
import type { SessionStore } from '../../src/store/contract.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'life',
  taskId: 't1',
  taskState: 'in_dev',
};

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a creation racing loads of the same session', () => {
  it('reads and appends issued with createSession, before it resolved, find the session', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    try {
      const id = sessionIdOf(KEY);
      const [created, info, stored, messages] = await Promise.all([
        runtime.createSession(KEY, { context: { featureName: 'race' } }),
        runtime.getSession(id),
        runtime.addMessage(id, { role: 'user', content: 'written with the creation' }),
        runtime.getContext(id),
      ]);
      expect(created.id).toBe(id);
      expect(info.id).toBe(id);
      expect(stored.seq).toBe(0);
      expect(messages).toEqual({ featureName: 'race' });
      expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual(['written with the creation']);
    } finally {
      await runtime.close();
    }
  });
});

describe('calls after close', () => {
  it('refuses every asynchronous call with RUNTIME_CLOSED; a call made before close finishes', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(KEY);
    const inFlight = runtime.addMessage(id, { role: 'user', content: 'made before close' });
    const closing = runtime.close();
    await expect(runtime.getMessages(id)).rejects.toMatchObject({ code: 'RUNTIME_CLOSED' });
    await closing;
    expect((await inFlight).seq).toBe(0);
    for (const name of TRACKED) {
      const call = runtime[name] as (...args: unknown[]) => Promise<unknown>;
      await expect(call(id, { role: 'user', content: 'x' }), name).rejects.toMatchObject({
        code: 'RUNTIME_CLOSED',
      });
    }
    await runtime.close(); // a second close is harmless
    const again = await createSessionRuntime({ root, readOnly: true });
    try {
      expect((await again.getMessages(id)).map((m) => m.content)).toEqual(['made before close']);
    } finally {
      await again.close();
    }
  });
});

describe('an automatic compaction committing when close() is called', () => {
  it('close waits for the commit, which is then on disk whole', async () => {
    const root = await tempRoot();
    const inner = await JsonFileSessionStore.open({ root });
    const commitEntered = deferred();
    const commitRelease = deferred();
    const order: string[] = [];
    // The store's commit waits for the test: the compaction is then in its commit step.
    const store = new Proxy(inner, {
      get(target, name) {
        const value: unknown = Reflect.get(target, name, target);
        if (name === 'commit') {
          return async (...args: Parameters<SessionStore['commit']>) => {
            commitEntered.resolve();
            await commitRelease.promise;
            const result = await target.commit(...args);
            order.push('committed');
            return result;
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const runtime = await createSessionRuntime({ root, store, limits: { maxTokens: 4_000 } });
    const { id } = await runtime.createSession(KEY);
    // Appends until one crosses the threshold and the compaction it starts reaches its commit.
    let appended = 0;
    let entered = false;
    void commitEntered.promise.then(() => (entered = true));
    while (!entered && appended < 200) {
      await runtime.addMessage(id, {
        role: appended % 2 ? 'assistant' : 'user',
        content: 'lorem ipsum '.repeat(60),
      });
      appended += 1;
      await new Promise((r) => setImmediate(r));
    }
    await commitEntered.promise;
    const closing = runtime.close().then(() => order.push('closed'));
    // Close has no call to wait for, only the commit: it stays pending while the commit waits.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    commitRelease.resolve();
    await closing;
    expect(order).toEqual(['committed', 'closed']);
    await inner.close();
    const reopened = await createSessionRuntime({ root, readOnly: true });
    try {
      expect((await reopened.getCheckpoint(id))?.version).toBe(1);
      expect((await reopened.getHistory(id)).map((m) => m.seq)).toEqual(
        Array.from({ length: appended }, (_, i) => i),
      );
    } finally {
      await reopened.close();
    }
  });
});
