/**
 * `cancelCompaction`: a compaction stopped while it summarises writes nothing and loses nothing;
 * one whose commit has started is never cut. The compactor and the store's commit wait on
 * promises the test resolves: nothing here waits on the clock.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { CompactionInput, CompactOptions, Compactor } from '../../src/compaction/compactor.js';
import type { CheckpointSummary, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import type { SessionStore } from '../../src/store/contract.js';
import { replayLog } from '../../src/store/chat-log-format.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'pm', featureId: 'cancel' };
const LIMITS = { maxTokens: 200_000, compactAt: 0.9, keepRecentTokens: 0, replyReserveTokens: 1_000 };

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A compactor that reports progress, then waits until the test releases it. It ignores its
 * AbortSignal on purpose (the worst case): the runtime must still write nothing after a cancel.
 */
class GatedCompactor implements Compactor {
  readonly name = 'gated';
  readonly maxInputTokens = 200_000;
  readonly entered = deferred();
  readonly release = deferred();
  readonly returned = deferred();
  signal: AbortSignal | null = null;
  readonly #inner = new OfflineCompactor();

  async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
    this.signal = options.signal;
    options.onProgress?.({ chunk: 1, chunks: 1, outputTokens: 42 });
    this.entered.resolve();
    await this.release.promise;
    // Answers as if the signal had never fired.
    const summary = await this.#inner.compact(input, { signal: new AbortController().signal });
    this.returned.resolve();
    return summary;
  }
}

async function withMessages(runtime: SessionRuntime, count: number): Promise<string> {
  const { id } = await runtime.createSession(KEY);
  for (let i = 0; i < count; i++)
    await runtime.addMessage(id, { role: i % 2 === 0 ? 'user' : 'assistant', content: `message ${i}` });
  return id;
}

/** The session record without what `close()` rewrites every time (time, statistics, their checksum). */
async function recordOf(root: string, id: string): Promise<unknown> {
  const file = path.join(root, '.dagent', 'sessions', id, 'session.json');
  const {
    updatedAt: _updatedAt,
    stats: _stats,
    $crc32: _crc,
    ...rest
  } = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  return rest;
}

describe('cancelCompaction', () => {
  it('stops a summarising compaction: nothing written, appends made meanwhile kept, ready again', async () => {
    const root = await tempRoot();
    const compactor = new GatedCompactor();
    const runtime = await createSessionRuntime({ root, compactor, limits: LIMITS });
    const events: SessionEvent[] = [];
    runtime.subscribe((e) => events.push(e));
    const id = await withMessages(runtime, 6);

    const compaction = runtime.compact(id, { keepRecentTokens: 0 });
    const outcome = compaction.then(
      () => null,
      (e: unknown) => e,
    );
    await compactor.entered.promise;
    expect((await runtime.getSession(id)).state).toBe('compacting');
    expect(events.some((e) => e.type === 'session.compaction.progress' && e.outputTokens === 42)).toBe(true);
    // Appends while it summarises are acknowledged and persisted.
    await runtime.addMessage(id, { role: 'user', content: 'appended while compacting 1' });
    await runtime.addMessage(id, { role: 'assistant', content: 'appended while compacting 2' });
    const files = path.join(root, '.dagent', 'sessions');
    const before = await snapshotDir(files);
    const recordBefore = await recordOf(root, id);

    await expect(runtime.cancelCompaction(id)).resolves.toBe(true);
    const error = (await outcome) as { code?: string } | null;
    expect(error?.code).toBe('COMPACTION_CANCELLED');
    expect(compactor.signal?.aborted).toBe(true);
    expect((await runtime.getSession(id)).state).toBe('idle');
    expect(events.filter((e) => e.type === 'session.compaction.cancelled')).toHaveLength(1);
    expect(events.some((e) => e.type === 'session.compaction.completed')).toBe(false);
    await expect(runtime.cancelCompaction(id)).resolves.toBe(false); // nothing runs any more

    // The compactor, ignoring its signal, answers late: still nothing may be written.
    compactor.release.resolve();
    await compactor.returned.promise;
    await runtime.close(); // waits for the abandoned compaction to end
    const after = await snapshotDir(files);
    const changed = Object.keys({ ...before, ...after }).filter((f) => before[f] !== after[f]);
    // close() rewrites only the session record, with the same content but its time and statistics,
    // and may append to chat.log the exact counts of the two appends (counted after they were
    // acknowledged): a count record, and nothing else.
    const log = changed.find((f) => path.basename(f) === 'chat.log');
    if (log !== undefined) {
      const [was, now] = [Buffer.from(before[log]!, 'base64'), Buffer.from(after[log]!, 'base64')];
      expect(now.subarray(0, was.length).equals(was)).toBe(true);
      const added = replayLog(now.subarray(was.length));
      expect(added.messages).toEqual([]);
      expect(added.damage).toBeNull();
      // Counts of the two appends only; one of them may have gone out before, with the other's write.
      expect([...added.counts.keys()].filter((seq) => seq !== 6 && seq !== 7)).toEqual([]);
      expect(added.counts.size).toBeGreaterThan(0);
    }
    // After close both appends' counts are on disk, in their records or in count records.
    const logFile = Object.keys(after).find((f) => path.basename(f) === 'chat.log');
    const whole = replayLog(Buffer.from(after[logFile!]!, 'base64'));
    for (const seq of [6, 7]) {
      const record = whole.messages.find((m) => m.seq === seq);
      expect(whole.counts.has(seq) || (record !== undefined && record.tokens !== undefined)).toBe(true);
    }
    expect(changed.filter((f) => !['session.json', 'chat.log'].includes(path.basename(f)))).toEqual([]);
    expect(await recordOf(root, id)).toEqual(recordBefore);

    const reopened = await createSessionRuntime({ root, limits: LIMITS });
    try {
      const history = await reopened.getHistory(id);
      expect(history.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(history.at(-1)?.content).toBe('appended while compacting 2');
      expect(await reopened.getCheckpoint(id)).toBeNull();
      expect((await reopened.getSession(id)).archivedThroughSeq).toBe(-1);
    } finally {
      await reopened.close();
    }
  });

  it('never cuts a commit that has started: the answer is false and the compaction completes', async () => {
    const root = await tempRoot();
    const inner = await JsonFileSessionStore.open({ root });
    const commitEntered = deferred();
    const commitRelease = deferred();
    // The store's commit waits for the test: the compaction is then in its commit step.
    const store = new Proxy(inner, {
      get(target, name) {
        const value: unknown = Reflect.get(target, name, target);
        if (name === 'commit') {
          return async (...args: Parameters<SessionStore['commit']>) => {
            commitEntered.resolve();
            await commitRelease.promise;
            return target.commit(...args);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const runtime = await createSessionRuntime({
      root,
      store,
      compactor: new OfflineCompactor(),
      limits: LIMITS,
    });
    try {
      const id = await withMessages(runtime, 6);
      const compaction = runtime.compact(id, { keepRecentTokens: 0 });
      await commitEntered.promise;
      await expect(runtime.cancelCompaction(id)).resolves.toBe(false);
      commitRelease.resolve();
      const result = await compaction;
      expect(result.kind).toBe('compacted');
      expect((await runtime.getCheckpoint(id))?.version).toBe(1);
      expect((await runtime.getHistory(id)).map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await runtime.close();
      await inner.close();
    }
  });

  it('answers false when nothing runs, and SESSION_NOT_FOUND for an unknown session', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, compactor: new OfflineCompactor(), limits: LIMITS });
    try {
      const id = await withMessages(runtime, 2);
      await expect(runtime.cancelCompaction(id)).resolves.toBe(false);
      await expect(runtime.cancelCompaction('feature--nothing--pm')).rejects.toMatchObject({
        code: 'SESSION_NOT_FOUND',
      });
    } finally {
      await runtime.close();
    }
  });
});
