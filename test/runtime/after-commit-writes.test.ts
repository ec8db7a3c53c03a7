/**
 * After a compaction's commit the runtime writes session.json's figures and the checkpoint's count
 * (derived, best effort): the caller of `compact()` does not wait for them, and what writes the
 * record next (an archive, a close) waits for them, so that an older record never lands after a
 * newer one and a close leaves them written. Here the first fdatasync of session.json after the
 * compaction starts is held (the store's sync hook) to see who waits for it; on baseline-stop22
 * `compact()` itself waited.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';
import { unlessStalled } from '../helpers/unless-stalled.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'after-commit-writes' };
const text = (i: number): MessageInput => ({ role: 'user', content: `Message ${i}: `.repeat(30) });

describe('the writes after a commit', () => {
  it('are not waited for by compact(); an archive and a close wait for them', async () => {
    const root = await tempRoot();
    let holding = false;
    let recordSyncs = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = await JsonFileSessionStore.open({
      root,
      hooks: {
        synced(kind, file) {
          if (!holding || kind !== 'file' || !path.basename(file).includes('session.json')) return undefined;
          return recordSyncs++ === 0 ? gate : undefined; // the first one only
        },
      },
    });
    const runtime = await createSessionRuntime({ root, store });
    const { id } = await runtime.createSession(KEY);
    for (let i = 0; i < 6; i++) await runtime.addMessage(id, text(i));
    holding = true;
    const held = () => recordSyncs > 0;
    try {
      const compacted = await unlessStalled(runtime.compact(id, { keepRecentTokens: 0 }), held);
      expect(compacted).toMatchObject({ kind: 'compacted', messagesCompacted: 6 });
      // The archive's record lands after the figures' write held (the runtime waits for it; the
      // JSON-file store also writes session.json in call order).
      const archiving = runtime.archiveSession(id);
      expect(await unlessStalled(archiving, held)).toBe('stalled');
      expect(recordSyncs).toBe(1);
      release();
      expect((await archiving).status).toBe('archived');
    } finally {
      release();
    }
    await runtime.close();
    await store.close();
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
