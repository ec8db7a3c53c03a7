/**
 * @internal Conformance cases on commits: every message exactly once in archive + live, appends
 * during a commit kept, commits that do not follow refused, archive pages, checkpoint versions,
 * checks kept across a commit, and crashes at every step of a commit or an append (through the
 * store's `hooks.step`), each followed by a restart that finds the session before or after.
 */
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../core/errors.js';
import type { Message } from '../core/types.js';
import { sessionIdOf } from '../core/ids.js';
import type { SessionStore, StoreHooks } from '../store/contract.js';
import {
  EVERY_BLOCK,
  ID,
  checkpointOf,
  keyOf,
  message,
  messages,
  range,
  recordOf,
  segmentOf,
} from './fixtures.js';
import { expectCode, seqs, type Harness } from './harness.js';

/** What a hook throws to stop a write, as a crash would. */
class Crash extends Error {}

/** Hooks that record the steps of `operation`, and throw at step number `at` (0-based) if given. */
function crashAt(operation: 'append' | 'commit', at: number | null) {
  const steps: string[] = [];
  const hooks: StoreHooks = {
    step(op, step) {
      if (op !== operation) return;
      steps.push(step);
      if (at !== null && steps.length - 1 === at) throw new Crash(`crash after ${op} step "${step}"`);
    },
  };
  return { hooks, steps };
}

/** A session of 12 messages, 0..3 archived in segment 1 (checkpoint version 1), 4..11 live. */
async function compactedOnce(h: Harness): Promise<Message[]> {
  await h.create();
  const all = messages(0, 12);
  await h.store.append(ID, all);
  await h.store.commit(ID, {
    segment: segmentOf(1, 1, all.slice(0, 4)),
    checkpoint: checkpointOf(1, 1, 3, 4),
  });
  return all;
}

/** @internal Registers the commit cases; `h()` is the current case's harness. */
export function commitCases(h: () => Harness): void {
  describe('commit', () => {
    it('archive + live hold every message exactly once, in order; appends during a commit are kept', async () => {
      await h().create();
      const all = range(0, 40).map((seq) => message(seq, seq % 5 === 0 ? EVERY_BLOCK : `m ${seq}`));
      await h().store.append(ID, all.slice(0, 30));
      const during = Promise.all(range(30, 35).map((seq) => h().store.append(ID, [all[seq]!])));
      const result = await h().store.commit(ID, {
        segment: segmentOf(1, 1, all.slice(0, 10)),
        checkpoint: checkpointOf(1, 1, 9, 10),
      });
      await during;
      expect(result.checkpoint.version).toBe(1);
      expect(seqs((await h().store.load(ID)).messages)).toEqual(range(10, 35));
      await h().store.commit(ID, {
        segment: segmentOf(2, 2, all.slice(10, 20)),
        checkpoint: checkpointOf(2, 2, 19, 20),
      });
      await h().store.append(ID, all.slice(35));
      const store = h().capabilities.persistent ? await h().reopen() : h().store;
      const loaded = await store.load(ID);
      expect([loaded.archivedThroughSeq, loaded.checkpoint?.version, loaded.lastSeq]).toEqual([19, 2, 39]);
      expect(seqs(loaded.messages)).toEqual(range(20, 40));
      expect(await store.readSegment(ID, 1)).toEqual(segmentOf(1, 1, all.slice(0, 10)));
      expect(await store.readSegment(ID, 3)).toBeNull();
      expect(await h().everything(ID, store)).toEqual(all);
    });

    it('refuses a commit that does not follow the committed one (INVALID_ARGUMENT), writing nothing', async () => {
      const all = await compactedOnce(h());
      const refused = [
        { segment: segmentOf(1, 2, all.slice(4, 6)), checkpoint: checkpointOf(2, 1, 5, 6) }, // segment again
        { segment: segmentOf(3, 2, all.slice(4, 6)), checkpoint: checkpointOf(2, 3, 5, 6) }, // skips one
        { segment: segmentOf(2, 1, all.slice(4, 6)), checkpoint: checkpointOf(1, 2, 5, 6) }, // version again
        { segment: segmentOf(2, 2, all.slice(4, 6)), checkpoint: checkpointOf(2, 2, 4, 6) }, // wrong watermark
        { segment: null, checkpoint: checkpointOf(1, 1, 3, 4) }, // version again, nothing archived
      ];
      for (const commit of refused) await expectCode(h().store.commit(ID, commit), 'INVALID_ARGUMENT');
      const loaded = await h().store.load(ID);
      expect([loaded.checkpoint?.version, loaded.archivedThroughSeq]).toEqual([1, 3]);
      expect(await h().everything(ID)).toEqual(all);
    });

    it('refuses a segment that is not the live messages from the first one (INVALID_ARGUMENT)', async () => {
      const all = await compactedOnce(h());
      const refused = [
        // Leaves out seq 4; leaves out seq 5; holds seq 12, which was never appended.
        { segment: segmentOf(2, 2, all.slice(5, 7)), checkpoint: checkpointOf(2, 2, 6, 6) },
        { segment: segmentOf(2, 2, [all[4]!, all[6]!]), checkpoint: checkpointOf(2, 2, 6, 6) },
        { segment: segmentOf(2, 2, [...all.slice(4), message(12)]), checkpoint: checkpointOf(2, 2, 12, 13) },
      ];
      for (const commit of refused) await expectCode(h().store.commit(ID, commit), 'INVALID_ARGUMENT');
      const loaded = await h().store.load(ID);
      expect([loaded.checkpoint?.version, loaded.archivedThroughSeq]).toEqual([1, 3]);
      expect(await h().everything(ID)).toEqual(all);
    });

    it('changes no message: a segment with other data than the live messages is refused, or not stored', async () => {
      const all = await compactedOnce(h());
      const changed = all.slice(4, 6).map((m) => message(m.seq, `${String(m.content)}, changed`));
      await h()
        .store.commit(ID, { segment: segmentOf(2, 2, changed), checkpoint: checkpointOf(2, 2, 5, 6) })
        .catch((error: unknown) => {
          if (!isSessionError(error, 'INVALID_ARGUMENT')) throw error;
        });
      expect(await h().everything(ID)).toEqual(all);
    });

    it('a commit without a segment makes a new checkpoint current and archives nothing', async () => {
      const all = await compactedOnce(h());
      await h().store.commit(ID, { segment: null, checkpoint: checkpointOf(2, 1, 3, 4) });
      const loaded = await h().store.load(ID);
      expect([loaded.checkpoint?.version, loaded.archivedThroughSeq]).toEqual([2, 3]);
      expect(await h().everything(ID)).toEqual(all);
    });
  });

  describe('checks and checkpoint versions', () => {
    it('keeps every version readable; checks recorded meanwhile survive a commit, not a reset', async () => {
      const all = await compactedOnce(h());
      const recorded = await h().store.recordChecks(
        ID,
        [{ checkId: 'tests', passed: false, error: 'red' }],
        '2026-05-01T00:00:00.000Z',
      );
      expect(recorded.version).toBe(1);
      expect(recorded.checks).toEqual([
        { checkId: 'tests', passed: false, error: 'red', at: '2026-05-01T00:00:00.000Z' },
      ]);
      const kept = await h().store.commit(ID, {
        segment: segmentOf(2, 2, all.slice(4, 8)),
        checkpoint: checkpointOf(2, 2, 7, 8),
      });
      expect(kept.checkpoint.checks?.map((c) => c.checkId)).toEqual(['tests']);
      const reset = await h().store.commit(ID, {
        segment: segmentOf(3, 3, all.slice(8, 10)),
        checkpoint: checkpointOf(3, 3, 9, 10),
        keepChecks: false,
      });
      expect(reset.checkpoint.checks).toBeUndefined();
      const store = h().capabilities.persistent ? await h().reopen() : h().store;
      expect(await store.checkpointVersions(ID)).toEqual([1, 2, 3]);
      expect(await store.readCheckpoint(ID, 1)).toEqual(checkpointOf(1, 1, 3, 4));
      expect((await store.readCheckpoint(ID, 2))?.summary).toEqual(checkpointOf(2, 2, 7, 8).summary);
      expect(await store.readCheckpoint(ID)).toEqual(reset.checkpoint);
      expect(await store.readCheckpoint(ID, 3)).toEqual(reset.checkpoint);
      expect(await store.readCheckpoint(ID, 4)).toBeNull();
      expect(await h().everything(ID, store)).toEqual(all);
    });

    it('recordChecks without a checkpoint starts version 0, and replaces checks by id', async () => {
      await h().create();
      await h().store.recordChecks(ID, [{ checkId: 'a', passed: false }], '2026-05-01T00:00:00.000Z');
      const next = await h().store.recordChecks(
        ID,
        [
          { checkId: 'a', passed: true },
          { checkId: 'b', passed: true },
        ],
        '2026-05-02T00:00:00.000Z',
      );
      expect(next.version).toBe(0);
      expect(next.checks?.map((c) => [c.checkId, c.passed])).toEqual([
        ['a', true],
        ['b', true],
      ]);
      expect((await h().store.load(ID)).checkpoint).toEqual(next);
    });
  });

  describe('archive pages', () => {
    it('pages forward and backward over segments, with after, before, limit and more', async () => {
      await h().create();
      const all = messages(0, 50);
      await h().store.append(ID, all);
      let archived = 0;
      for (const [n, [from, to]] of (
        [
          [0, 7],
          [7, 15],
          [15, 16],
          [16, 30],
        ] as const
      ).entries()) {
        archived += to - from;
        await h().store.commit(ID, {
          segment: segmentOf(n + 1, n + 1, all.slice(from, to)),
          checkpoint: checkpointOf(n + 1, n + 1, to - 1, archived),
        });
      }
      const read = async (query: {
        after?: number;
        before?: number;
        limit?: number;
        order?: 'asc' | 'desc';
      }) => h().store.readArchive(ID, query);
      expect((await read({})).messages).toEqual(all.slice(0, 30));
      expect(seqs((await read({ limit: 5 })).messages)).toEqual([0, 1, 2, 3, 4]);
      expect((await read({ limit: 5 })).more).toBe(true);
      expect(seqs((await read({ limit: 4, order: 'desc' })).messages)).toEqual([29, 28, 27, 26]);
      expect(seqs((await read({ after: 5, before: 17 })).messages)).toEqual(range(6, 17));
      expect(seqs((await read({ after: 5, before: 17, limit: 3, order: 'desc' })).messages)).toEqual([
        16, 15, 14,
      ]);
      const last = await read({ after: 25 });
      expect([seqs(last.messages), last.more, last.archivedThroughSeq]).toEqual([
        [26, 27, 28, 29],
        false,
        29,
      ]);
      expect((await read({ before: 0 })).messages).toEqual([]);
      // Walking back in pages of 4 visits each archived message once.
      const walked: number[] = [];
      for (let before: number | undefined; ;) {
        const p = await read({ limit: 4, order: 'desc', ...(before === undefined ? {} : { before }) });
        walked.push(...seqs(p.messages));
        if (!p.more) break;
        before = p.messages[p.messages.length - 1]!.seq;
      }
      expect(walked).toEqual(range(0, 30).reverse());
      await expectCode(read({ limit: 0 }), 'INVALID_ARGUMENT');
    });
  });

  describe('crashes (hooks.step)', () => {
    it('a crash at any step of a commit leaves the session before or after it; a retry commits once', async () => {
      if (!h().capabilities.steps || !h().capabilities.persistent) return;
      // Learn the store's steps from a commit that runs through.
      await h().store.close();
      const { hooks: recorder, steps } = crashAt('commit', null);
      const recording = await h().open({ hooks: recorder });
      await compactedOnceAs(recording, 'probe');
      const stepNames = [...steps];
      await recording.close();
      expect(stepNames.length).toBeGreaterThan(0);

      for (const [at, name] of stepNames.entries()) {
        const id = `feature--crash-${at}--dev`;
        const setup = await h().open();
        const all = await compactedOnceAs(setup, `crash-${at}`);
        await setup.close();
        const crashing = await h().open({ hooks: crashAt('commit', at).hooks });
        await crashing.load(id);
        const commit = { segment: segmentOf(2, 2, all.slice(4, 8)), checkpoint: checkpointOf(2, 2, 7, 8) };
        const error = await crashing.commit(id, commit).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, `step ${name}`).toBeInstanceOf(Crash);
        await crashing.close().catch(() => undefined);
        const restarted = await h().open();
        const loaded = await restarted.load(id);
        expect([1, 2], `step ${name}`).toContain(loaded.checkpoint?.version);
        expect(await h().everything(id, restarted), `step ${name}`).toEqual(all);
        if (loaded.checkpoint?.version === 1) await restarted.commit(id, commit);
        await restarted.close();
        const again = await h().open();
        const final = await again.load(id);
        expect(
          [final.checkpoint?.version, final.archivedThroughSeq, seqs(final.messages)],
          `step ${name}`,
        ).toEqual([2, 7, range(8, 12)]);
        expect(await h().everything(id, again), `step ${name}`).toEqual(all);
        await again.close();
      }
      h().store = await h().open();
    });

    it('a crash after an append’s steps keeps it whole or not at all, and every acknowledged one', async () => {
      if (!h().capabilities.steps || !h().capabilities.persistent) return;
      await h().create();
      await h().store.append(ID, messages(0, 3));
      await h().store.close();
      const { hooks, steps } = crashAt('append', 0);
      const crashing = await h().open({ hooks });
      await crashing.load(ID);
      const error = await crashing.append(ID, messages(3, 6)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(steps.length).toBe(1);
      expect(error).toBeInstanceOf(Crash);
      await crashing.close().catch(() => undefined);
      h().store = await h().open();
      const held = seqs((await h().store.load(ID)).messages);
      expect([range(0, 3), range(0, 6)]).toContainEqual(held);
      // The session goes on after whatever the crash left.
      const next = held[held.length - 1]! + 1;
      await h().store.append(ID, [message(next)]);
      expect(seqs((await h().store.load(ID)).messages)).toEqual([...held, next]);
    });
  });
}

/** {@link compactedOnce} for a session of its own, in `store`. */
async function compactedOnceAs(store: SessionStore, featureId: string): Promise<Message[]> {
  const key = keyOf(featureId);
  const id = sessionIdOf(key);
  await store.create(recordOf(key));
  const all = messages(0, 12);
  await store.append(id, all);
  await store.commit(id, { segment: segmentOf(1, 1, all.slice(0, 4)), checkpoint: checkpointOf(1, 1, 3, 4) });
  return all;
}
