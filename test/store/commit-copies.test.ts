/**
 * What a commit keeps of its caller's segment: the store shares archived messages that are
 * deep-frozen (the runtime's are) instead of cloning them, and copies the rest. Whatever the
 * caller does with its segment afterwards changes nothing stored, and the segment's file is
 * written as before, its fields in the caller's order. The checkpoint: kept and handed back as it is
 * when deep-frozen (the runtime's), copied otherwise, and serialised once for checkpoint.json and its copy.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { checkpointOf, keyOf, messages, recordOf, segmentOf } from '../../src/conformance/fixtures.js';
import { sessionIdOf } from '../../src/core/ids.js';
import type { Message } from '../../src/core/types.js';
import { deepFreeze, isDeepFrozen } from '../../src/store/freeze.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY = keyOf('commit-copies');
const ID = sessionIdOf(KEY);

async function archived(store: JsonFileSessionStore): Promise<Message[]> {
  return (await store.readArchive(ID, { limit: 1000 })).messages;
}

describe('commit: what the store keeps of the segment', () => {
  it("keeps what was committed, whatever the caller does with its segment's plain messages after", async () => {
    const root = await tempRoot();
    const store = await JsonFileSessionStore.open({ root, segmentCacheBytes: 0 });
    await store.create(recordOf(KEY));
    const all = messages(0, 6);
    await store.append(ID, all);
    const held = structuredClone(all.slice(0, 4)); // plain, not frozen: the caller's own objects
    const segment = segmentOf(1, 1, held);
    const expected = structuredClone(held);
    await store.commit(ID, { segment, checkpoint: checkpointOf(1, 1, 3, 4) });

    held[0]!.content = 'changed after the commit';
    held.push(structuredClone(all[4]!));
    segment.lastSeq = 99;
    expect(await archived(store)).toEqual(expected);
    await store.close();
    const fresh = await JsonFileSessionStore.open({ root, readOnly: true });
    expect(await archived(fresh)).toEqual(expected);
    await fresh.close();

    // The file: the segment's fields in the order the caller gave them, messages in their place.
    const dir = path.join(root, '.dagent', 'sessions', ID, 'archive');
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    const written = JSON.parse(await readFile(path.join(dir, file!), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(written).filter((key) => key !== '$crc32')).toEqual(Object.keys(segment));
  });

  it('archives deep-frozen messages as they are and leaves them so', async () => {
    const root = await tempRoot();
    const store = await JsonFileSessionStore.open({ root });
    await store.create(recordOf(KEY));
    const all = messages(0, 6).map((m) => deepFreeze(m));
    await store.append(ID, all);
    const segment = segmentOf(1, 1, all.slice(0, 4));
    await store.commit(ID, { segment, checkpoint: checkpointOf(1, 1, 3, 4) });
    expect(segment.messages.every((m, i) => m === all[i] && Object.isFrozen(m))).toBe(true);
    expect(await archived(store)).toEqual(all.slice(0, 4));
    expect((await store.load(ID)).messages).toEqual(all.slice(4));
    await store.close();
  });
});

describe('commit: what the store keeps of the checkpoint', () => {
  it('keeps a deep-frozen checkpoint as it is, and hands back what it stored frozen, uncopied', async () => {
    const root = await tempRoot();
    const store = await JsonFileSessionStore.open({ root });
    await store.create(recordOf(KEY));
    await store.append(ID, messages(0, 6));
    const checkpoint = deepFreeze(checkpointOf(1, 1, 3, 4));
    const { checkpoint: stored } = await store.commit(ID, {
      segment: segmentOf(1, 1, messages(0, 4)),
      checkpoint,
    });
    expect(stored).toBe(checkpoint);
    expect((await store.load(ID)).checkpoint).toEqual(checkpoint);
    await store.close();
  });

  it("copies a plain one: the caller's edits after the commit change nothing stored", async () => {
    const root = await tempRoot();
    const store = await JsonFileSessionStore.open({ root });
    await store.create(recordOf(KEY));
    await store.append(ID, messages(0, 6));
    const checkpoint = checkpointOf(1, 1, 3, 4);
    const expected = structuredClone(checkpoint);
    const { checkpoint: stored } = await store.commit(ID, {
      segment: segmentOf(1, 1, messages(0, 4)),
      checkpoint,
    });
    expect(stored).not.toBe(checkpoint);
    expect(isDeepFrozen(stored)).toBe(true);
    checkpoint.summary.completed.push('changed after the commit');
    expect(stored).toEqual(expected);
    expect((await store.load(ID)).checkpoint).toEqual(expected);
    await store.close();
  });

  it('serialises the checkpoint once for checkpoint.json and its version copy, the same bytes', async () => {
    const root = await tempRoot();
    const store = await JsonFileSessionStore.open({ root });
    await store.create(recordOf(KEY));
    await store.append(ID, messages(0, 6));
    const checkpoint = deepFreeze(checkpointOf(1, 1, 3, 4));
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      await store.commit(ID, { segment: segmentOf(1, 1, messages(0, 4)), checkpoint });
      expect(stringify.mock.calls.filter(([value]) => value === checkpoint)).toHaveLength(1);
    } finally {
      stringify.mockRestore();
    }
    const dir = path.join(root, '.dagent', 'sessions', ID);
    const current = await readFile(path.join(dir, 'checkpoint.json'));
    expect(await readFile(path.join(dir, 'checkpoints', '000001.json'))).toEqual(current);
    await store.close();
  });
});
