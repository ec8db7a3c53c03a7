/**
 * The runtime on any store: the same conversation through `createSessionRuntime({ store })` on the
 * memory store and on the JSON-file store, compacted and cleared, read back whole and in pages,
 * with every checkpoint version, and listed truthfully whether its actor is in memory or not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionStore } from '../../src/store/contract.js';
import { createMemorySessionStore, createMemoryStorage } from '../../src/store/memory-session-store.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'stores' };
const estimator = createTokenEstimator({ mode: 'approximate' });
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const STORES: [string, () => Promise<{ open: () => Promise<SessionStore> }>][] = [
  [
    'memory',
    async () => {
      const storage = createMemoryStorage();
      return { open: async () => createMemorySessionStore({ storage }) };
    },
  ],
  [
    'JSON files',
    async () => {
      const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-runtime-store-'));
      cleanups.push(() => rm(root, { recursive: true, force: true }));
      return { open: () => JsonFileSessionStore.open({ root }) };
    },
  ],
];

describe.each(STORES)('the runtime on the %s store', (_name, setup) => {
  it('appends, compacts, clears; history whole and paged; checkpoint versions; list tells the truth', async () => {
    const storage = await setup();
    const store = await storage.open();
    cleanups.push(() => store.close());
    const runtime = await createSessionRuntime({
      store,
      estimator,
      compactor: new OfflineCompactor({ estimator }),
      limits: { maxTokens: 4_000, keepRecentTokens: 400 },
    });
    const { id } = await runtime.createSession(KEY, { context: { featureName: 'Stores' } });
    const texts = Array.from(
      { length: 60 },
      (_, i) => `message ${i}: ${'words of the conversation '.repeat(12)}`,
    );
    for (const [i, text] of texts.entries())
      await runtime.addMessage(id, { role: i % 2 === 0 ? 'user' : 'assistant', content: text });
    await runtime.compact(id).catch(() => undefined);
    const cleared = await runtime.clearMessages(id);
    expect(cleared.archivedMessages).toBeGreaterThan(0);
    await runtime.addMessage(id, { role: 'user', content: 'after the clear' });

    const history = await runtime.getHistory(id);
    expect(history.map((m) => m.content)).toEqual([...texts, 'after the clear']);
    expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i));
    // Pages, newest first, walking back: each message once.
    const walked: number[] = [];
    for (let before: number | undefined; ;) {
      const page = await runtime.getHistory(id, { limit: 7, ...(before === undefined ? {} : { before }) });
      walked.push(...page.map((m) => m.seq));
      if (page.length < 7) break;
      before = page[page.length - 1]!.seq;
    }
    expect(walked).toEqual(history.map((m) => m.seq).reverse());
    expect((await runtime.getHistory(id, { after: 10, before: 15, order: 'asc' })).map((m) => m.seq)).toEqual(
      [11, 12, 13, 14],
    );
    await expect(runtime.getHistory(id, { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    const info = await runtime.getSession(id);
    const versions = await runtime.getCheckpointVersions(id);
    expect(versions.at(-1)).toBe(info.checkpointVersion);
    expect(versions.length).toBeGreaterThanOrEqual(2);
    const first = await runtime.getCheckpoint(id, { version: versions[0]! });
    expect(first?.version).toBe(versions[0]);
    expect(await runtime.getCheckpoint(id, { version: info.checkpointVersion + 1 })).toBeNull();
    expect((await runtime.getCheckpoint(id))?.version).toBe(info.checkpointVersion);

    // Listed while loaded and, after the runtime is closed, from a new runtime that loads nothing.
    const loaded = (await runtime.listSessions()).find((s) => s.id === id)!;
    await runtime.close();
    const reader = await createSessionRuntime({ store, estimator });
    const listed = (await reader.listSessions()).find((s) => s.id === id)!;
    expect(listed.state).toBe('closed');
    expect([listed.liveMessages, listed.archivedThroughSeq, listed.checkpointVersion]).toEqual([
      loaded.liveMessages,
      loaded.archivedThroughSeq,
      loaded.checkpointVersion,
    ]);
    expect([listed.liveMessages, listed.stats.totalMessages]).toEqual([1, 61]);
    expect(listed.archivedThroughSeq).toBe(59);
    expect(reader.activeSessionIds()).toEqual([]);
    await reader.close();
  });
});

describe('listSessions of sessions not in memory (issue 12: the truth or nothing)', () => {
  it('reports their live messages, watermark and checkpoint version as stored', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-list-truth-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const options = { root, estimator, compactor: new OfflineCompactor({ estimator }) };
    const writer = await createSessionRuntime(options);
    const { id } = await writer.createSession(KEY);
    for (let i = 0; i < 12; i++)
      await writer.addMessage(id, { role: i % 2 === 0 ? 'user' : 'assistant', content: `m${i}` });
    await writer.clearMessages(id);
    for (let i = 12; i < 15; i++) await writer.addMessage(id, { role: 'user', content: `m${i}` });
    const inMemory = (await writer.listSessions())[0]!;
    await writer.close();
    const reader = await createSessionRuntime({ ...options, readOnly: true });
    const listed = (await reader.listSessions())[0]!;
    expect(reader.activeSessionIds()).toEqual([]);
    expect(listed).toMatchObject({
      id,
      state: 'closed',
      active: false,
      liveMessages: 3,
      archivedThroughSeq: 11,
      checkpointVersion: 1,
      stats: { totalMessages: 15 },
    });
    expect([listed.liveTokens, listed.stats.totalTokens]).toEqual([
      inMemory.liveTokens,
      inMemory.stats.totalTokens,
    ]);
    await reader.close();
  });
});
