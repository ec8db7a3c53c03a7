/**
 * What a commit keeps of its caller's segment: the store shares archived messages that are
 * deep-frozen (the runtime's are) instead of cloning them, and copies the rest. Whatever the
 * caller does with its segment afterwards changes nothing stored, and the segment's file is
 * written as before, its fields in the caller's order.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointOf, keyOf, messages, recordOf, segmentOf } from '../../src/conformance/fixtures.js';
import { sessionIdOf } from '../../src/core/ids.js';
import type { Message } from '../../src/core/types.js';
import { deepFreeze } from '../../src/store/freeze.js';
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
