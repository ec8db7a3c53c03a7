/**
 * After a compaction's commit the runtime writes session.json's figures and the checkpoint's count
 * (derived, best effort): the caller of `compact()` does not wait for them, and what writes the
 * record next (an archive, a close) waits for them, so that an older record never lands after a
 * newer one and a close leaves them written. Here the store's first `writeRecord` after the
 * compaction starts is held (a store wrapped as a host might wrap its own) to see who waits for
 * it. On baseline-stop22 `compact()` itself waited; with `archiveSession`'s wait removed, the
 * archive's record is handed to the store while the figures' write is still held.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey, SessionRecord } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionStore } from '../../src/store/contract.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';
import { unlessStalled } from '../helpers/unless-stalled.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'after-commit-writes' };
const text = (i: number): MessageInput => ({ role: 'user', content: `Message ${i}: `.repeat(30) });

/** The store with `writeRecord` replaced; every other member is the store's own. */
function withWriteRecord(store: SessionStore, writeRecord: SessionStore['writeRecord']): SessionStore {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'writeRecord') return writeRecord;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('the writes after a commit', () => {
  it('are not waited for by compact(); an archive and a close wait for them', async () => {
    const root = await tempRoot();
    const files = await JsonFileSessionStore.open({ root });
    let holding = false;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const asked: SessionRecord['status'][] = []; // the records handed to the store while holding
    const store = withWriteRecord(files, async (id, record) => {
      if (holding) asked.push(record.status);
      if (holding && asked.length === 1) await gate; // the first one only
      return files.writeRecord(id, record);
    });
    const runtime = await createSessionRuntime({ root, store });
    const { id } = await runtime.createSession(KEY);
    for (let i = 0; i < 6; i++) await runtime.addMessage(id, text(i));
    holding = true;
    const held = () => asked.length > 0;
    try {
      const compacted = await unlessStalled(runtime.compact(id, { keepRecentTokens: 0 }), held);
      expect(compacted).toMatchObject({ kind: 'compacted', messagesCompacted: 6 });
      expect(asked).toEqual(['active']); // the figures' write, held
      // The archive's record is not even handed to the store until the figures' write is done.
      const archiving = runtime.archiveSession(id);
      expect(await unlessStalled(archiving, held)).toBe('stalled');
      expect(asked).toEqual(['active']);
      release();
      expect((await archiving).status).toBe('archived');
      expect(asked).toEqual(['active', 'archived']);
    } finally {
      release();
    }
    await runtime.close();
    await files.close();
    const onDisk = JSON.parse(
      await readFile(path.join(root, '.dagent', 'sessions', id, 'session.json'), 'utf8'),
    ) as { status: string; stats: { totalCompactions: number; totalMessages: number } };
    expect([onDisk.status, onDisk.stats.totalCompactions, onDisk.stats.totalMessages]).toEqual([
      'archived',
      1,
      6,
    ]);
  });
});
