/**
 * A compaction's commit resolves at its commit point (checkpoint.json durable): chat.json without
 * the archived messages is written afterwards by a fold in the background, which appends do not
 * wait for and `close` does. Here that fold's fdatasync is held (the sync hook's promise) to see who
 * waits for it; on baseline-stop22 the commit itself waited.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointOf, keyOf, messages, range, recordOf, segmentOf } from '../../src/conformance/fixtures.js';
import { sessionIdOf } from '../../src/core/ids.js';
import type { StoreHooks } from '../../src/store/contract.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';
import { unlessStalled } from '../helpers/unless-stalled.js';

const KEY = keyOf('drop-background');
const ID = sessionIdOf(KEY);
const ALL = messages(0, 14);
const FIRST = { segment: segmentOf(1, 1, ALL.slice(0, 4)), checkpoint: checkpointOf(1, 1, 3, 4) };
const SECOND = { segment: segmentOf(2, 2, ALL.slice(4, 8)), checkpoint: checkpointOf(2, 2, 7, 8) };

/** chat.json's messages, as the file holds them now. */
async function snapshotSeqs(root: string): Promise<number[]> {
  const text = await readFile(path.join(root, '.dagent', 'sessions', ID, 'chat.json'), 'utf8');
  return (JSON.parse(text) as { messages: { seq: number }[] }).messages.map((m) => m.seq);
}

/** A store whose fdatasync of chat.json's temporary (a fold's) is held until `release()`. */
async function holdingChatFolds(root: string) {
  let held = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const hooks: StoreHooks = {
    synced(kind, file) {
      if (kind !== 'file' || !/^\.chat\.json\..+\.tmp$/.test(path.basename(file))) return undefined;
      held++;
      return gate;
    },
  };
  const store = await JsonFileSessionStore.open({ root, hooks });
  return { store, held: () => held, release };
}

async function committedOnce(root: string): Promise<void> {
  const store = await JsonFileSessionStore.open({ root });
  await store.create(recordOf(KEY));
  await store.append(ID, ALL.slice(0, 12));
  await store.commit(ID, FIRST);
  await store.close();
}

describe('commit: chat.json rewritten in the background', () => {
  it('resolves while the fold is held; close waits for it and leaves chat.json without the archive', async () => {
    const root = await tempRoot();
    await committedOnce(root);
    const { store, held, release } = await holdingChatFolds(root);
    await store.load(ID);
    const committing = store.commit(ID, SECOND).then(() => 'committed' as const);
    try {
      expect(await unlessStalled(committing, () => held() > 0)).toBe('committed');
      // Appended while the fold is held: acknowledged without waiting for it.
      expect(await unlessStalled(store.append(ID, ALL.slice(12)), () => held() > 0)).toBeUndefined();
      const closing = store.close().then(() => 'closed' as const);
      expect(await unlessStalled(closing, () => held() > 0)).toBe('stalled');
      expect(held()).toBe(1);
      expect(await snapshotSeqs(root)).toEqual(range(4, 12)); // not in place yet
      release();
      expect(await closing).toBe('closed');
    } finally {
      release();
      await committing.catch(() => undefined);
    }
    expect(await snapshotSeqs(root)).toEqual(range(8, 12)); // 12 and 13 are in the log
    const again = await JsonFileSessionStore.open({ root });
    const head = await again.load(ID);
    expect([head.checkpoint?.version, head.archivedThroughSeq, head.messages.map((m) => m.seq)]).toEqual([
      2,
      7,
      range(8, 14),
    ]);
    const archived = (await again.readArchive(ID, { limit: 100 })).messages.map((m) => m.seq);
    expect([...archived, ...head.messages.map((m) => m.seq)]).toEqual(range(0, 14));
    await again.close();
  });
});
