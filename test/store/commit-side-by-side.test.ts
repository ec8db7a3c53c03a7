/**
 * A compaction's commit writes the archive segment and the checkpoint version's copy side by side
 * (neither is seen until checkpoint.json names them). So a crash may now leave the version's copy
 * without the segment, a state the old order (segment first) never left: the session loads as it
 * was before the commit, and a retry commits once. And a commit stopped at either step reports its
 * failure only once the other write has ended: nothing is written after the caller was told.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointOf, keyOf, messages, range, recordOf, segmentOf } from '../../src/conformance/fixtures.js';
import { sessionIdOf } from '../../src/core/ids.js';
import { CheckpointHistory } from '../../src/store/checkpoint-history.js';
import type { StoreHooks } from '../../src/store/contract.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY = keyOf('side-by-side');
const ID = sessionIdOf(KEY);
const ALL = messages(0, 12);
const FIRST = { segment: segmentOf(1, 1, ALL.slice(0, 4)), checkpoint: checkpointOf(1, 1, 3, 4) };
const SECOND = { segment: segmentOf(2, 2, ALL.slice(4, 8)), checkpoint: checkpointOf(2, 2, 7, 8) };

async function sessionCommittedOnce(root: string): Promise<void> {
  const store = await JsonFileSessionStore.open({ root });
  await store.create(recordOf(KEY));
  await store.append(ID, ALL);
  await store.commit(ID, FIRST);
  await store.close();
}

async function everything(store: JsonFileSessionStore): Promise<number[]> {
  const head = await store.load(ID);
  const archived = (await store.readArchive(ID, { limit: 1000 })).messages.filter(
    (m) => m.seq <= head.archivedThroughSeq,
  );
  return [...archived, ...head.messages].map((m) => m.seq);
}

describe('commit: segment and version copy side by side', () => {
  it("loads the session as before when a crash left the version's copy without its segment; retried once", async () => {
    const root = await tempRoot();
    await sessionCommittedOnce(root);
    const dir = path.join(root, '.dagent', 'sessions', ID);
    // What a crash leaves when the version's copy was durable before the segment was.
    await new CheckpointHistory(
      path.join(dir, 'checkpoints'),
      { durable: true, readOnly: false },
      () => null,
    ).write(SECOND.checkpoint);

    const store = await JsonFileSessionStore.open({ root });
    const head = await store.load(ID);
    expect([head.checkpoint?.version, head.archivedThroughSeq]).toEqual([1, 3]);
    expect(await store.checkpointVersions(ID)).toEqual([1]); // the copy of an uncommitted version is not one
    expect(await everything(store)).toEqual(range(0, 12));
    await store.commit(ID, SECOND);
    await store.close();

    const again = await JsonFileSessionStore.open({ root });
    const final = await again.load(ID);
    expect([final.checkpoint?.version, final.archivedThroughSeq, final.messages.map((m) => m.seq)]).toEqual([
      2,
      7,
      range(8, 12),
    ]);
    expect(await again.checkpointVersions(ID)).toEqual([1, 2]);
    expect(await everything(again)).toEqual(range(0, 12));
    await again.close();
  });

  for (const [stopAt, which] of [
    [0, 'first'],
    [1, 'second'],
  ] as const) {
    it(`stopped at the ${which} of its two writes, a commit rejects once both ended`, async () => {
      const root = await tempRoot();
      await sessionCommittedOnce(root);
      const steps: string[] = [];
      const hooks: StoreHooks = {
        step(operation, step) {
          if (operation !== 'commit') return;
          steps.push(step);
          if (steps.length - 1 === stopAt) throw new Error(`stopped after ${step}`);
        },
      };
      const store = await JsonFileSessionStore.open({ root, hooks });
      await store.load(ID);
      let seenAtRejection: string[] = [];
      await expect(
        store.commit(ID, SECOND).finally(() => {
          seenAtRejection = [...steps];
        }),
      ).rejects.toThrow('stopped after');
      await store.close();
      // Whichever write ended first: the other one had ended too when the caller was told.
      expect(seenAtRejection.sort()).toEqual(['checkpoint-version', 'segment']);

      const restarted = await JsonFileSessionStore.open({ root });
      expect((await restarted.load(ID)).checkpoint?.version).toBe(1);
      expect(await everything(restarted)).toEqual(range(0, 12));
      await restarted.commit(ID, SECOND);
      expect((await restarted.load(ID)).checkpoint?.version).toBe(2);
      expect(await everything(restarted)).toEqual(range(0, 12));
      await restarted.close();
    });
  }

  it("checks the segment's place while writing its temporary: a file not a leftover refuses the commit", async () => {
    const root = await tempRoot();
    await sessionCommittedOnce(root);
    const store = await JsonFileSessionStore.open({ root });
    await store.load(ID);
    // Put there after the load saw the session: messages that are nowhere else.
    const archive = path.join(root, '.dagent', 'sessions', ID, 'archive');
    const stray = JSON.stringify(segmentOf(2, 2, messages(20, 22)));
    await writeFile(path.join(archive, '000002.json'), stray);
    await expect(store.commit(ID, SECOND)).rejects.toThrow('holds messages that are not live');
    expect(await readFile(path.join(archive, '000002.json'), 'utf8')).toBe(stray);
    expect((await readdir(archive)).sort()).toEqual(['000001.json', '000002.json']); // no temporary left
    const current = JSON.parse(await readFile(path.join(archive, '..', 'checkpoint.json'), 'utf8')) as {
      version: number;
    };
    expect(current.version).toBe(1);
    await rm(path.join(archive, '000002.json'));
    await store.commit(ID, SECOND); // the retry commits once
    expect(await everything(store)).toEqual(range(0, 12));
    await store.close();
  });
});
