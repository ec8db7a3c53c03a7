/**
 * @internal Conformance cases of power loss, for a store that keeps its data in files under the
 * storage's `directory` and reports every sync it makes (`capabilities.syncs`, `hooks.synced`).
 *
 * Each case learns how many syncs a write makes, then runs it again on fresh sessions with the power
 * going after each of them in turn (and before the first): what was written and not synced then is
 * gone (power-loss.ts applies POSIX's rules to the files), and a store opened after must find what
 * the contract promises. Unlike the `hooks.step` crash cases, where everything written stays, these
 * catch an order of writes that counts on a sync it did not wait for.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionContext, SessionRecord } from '../core/types.js';
import type { SessionCommit, SessionCounts, SessionStore } from '../store/contract.js';
import { checkpointOf, keyOf, message, messages, range, recordOf, segmentOf } from './fixtures.js';
import { seqs, type Harness } from './harness.js';
import { createPowerLoss } from './power-loss.js';

/** A write run under the model: `crashed()` tells whether the power has gone yet. */
type Write = (store: SessionStore, crashed: () => boolean) => Promise<void>;

/**
 * Where the power goes: right after sync number `at` (0-based; -1: before the first; at or past
 * the last: once the write and the store's close are done), or, `held`, while sync `at` is in
 * flight (it never completes) and the store has gone as far as it can without it.
 */
interface Cut {
  at: number;
  held: boolean;
}

/** File-system requests in flight, as `process.getActiveResourcesInfo()` names them. */
const FS_REQUEST = /^FSReq|CloseReq$/;

/**
 * Resolves once `running` has settled, or once `ready()` and no file-system request has been in
 * flight for two turns of the event loop: the store is waiting for the sync held, and for nothing
 * else that could still happen. A wait on state, not on the clock.
 */
async function stalled(running: Promise<unknown>, ready: () => boolean): Promise<void> {
  let done = false;
  void running.then(
    () => (done = true),
    () => (done = true),
  );
  for (let quiet = 0; !done && quiet < 2;) {
    await new Promise((resolve) => setImmediate(resolve));
    const busy = process.getActiveResourcesInfo().some((name) => FS_REQUEST.test(name));
    quiet = ready() && !busy ? quiet + 1 : 0;
  }
}

/**
 * Runs `write` on a store opened with the sync hook, the power going at `cut`, then leaves the
 * storage as the power loss did. Returns how many syncs were reported.
 */
async function underPowerLoss(h: Harness, cut: Cut, write: Write, fresh: boolean): Promise<number> {
  const directory = h.storage.directory;
  if (directory === undefined) throw new Error('conformance: a store with `syncs` needs storage.directory');
  // Fresh: the directory is not there yet; the model follows it from its parent.
  const model = fresh
    ? createPowerLoss(path.dirname(directory), { only: path.basename(directory) })
    : createPowerLoss(directory);
  let syncs = 0;
  let release: (() => void) | null = null;
  if (cut.at < 0) model.crash();
  try {
    const store = await h.open({
      hooks: {
        synced(kind, file) {
          const n = syncs++;
          // Held: not durable, and the write that made it waits (until the power has gone).
          if (cut.held && n === cut.at && !model.crashed)
            return new Promise<void>((resolve) => (release = resolve));
          model.synced(kind, file);
          if (n === cut.at) model.crash();
        },
      },
    });
    const running = write(store, () => model.crashed);
    if (cut.held) {
      await stalled(running, () => release !== null);
      model.crash();
      (release as (() => void) | null)?.();
    }
    await running;
    await store.close();
    model.crash();
    await model.apply();
  } finally {
    model.release();
  }
  return syncs;
}

/**
 * @internal Calls `check` for the power going after each sync `write` makes (and before the first,
 * and once it is done), then while each is in flight, each time on a session of its own made by
 * `prepare` on a store closed again before the write. `fresh`: the storage's directory is removed
 * after `prepare`, so that the write makes it (a store's first write).
 */
export async function atEverySync(
  h: Harness,
  name: string,
  prepare: (store: SessionStore, id: string, record: SessionRecord) => Promise<void>,
  write: (record: SessionRecord) => Write,
  check: (
    store: SessionStore,
    id: string,
    where: string,
    acknowledged: boolean,
    record: SessionRecord,
  ) => Promise<void>,
  fresh = false,
): Promise<void> {
  await h.store.close();
  const directory = h.storage.directory;
  if (directory === undefined) throw new Error('conformance: a store with `syncs` needs storage.directory');
  let sessions = 0;
  const session = async () => {
    // Each cut on storage of its own: no store is open, and everything is under `directory`.
    for (const entry of await readdir(directory).catch(() => []))
      await rm(path.join(directory, entry), { recursive: true, force: true });
    const record = recordOf(keyOf(`${name}-${sessions++}`));
    const setup = await h.open();
    await prepare(setup, record.id, record);
    await setup.close();
    if (fresh) await rm(directory, { recursive: true, force: true });
    return record;
  };
  const done = { at: Number.MAX_SAFE_INTEGER, held: false };
  const syncs = await underPowerLoss(h, done, write(await session()), fresh);
  expect(syncs, `${name}: the store reported no sync`).toBeGreaterThan(0);
  const cuts = [
    ...range(-1, syncs + 1).map((at) => ({ at, held: false })), // `syncs`: once the write is done
    ...range(0, syncs).map((at) => ({ at, held: true })),
  ];
  for (const cut of cuts) {
    const record = await session();
    let acknowledged = false;
    const run = write(record);
    await underPowerLoss(
      h,
      cut,
      async (store, crashed) => {
        await run(store, crashed);
        acknowledged = !crashed();
      },
      fresh,
    );
    const where = `${name}, power lost ${cut.held ? 'during' : 'after'} sync ${cut.at} of ${syncs}`;
    const restarted = await h.open();
    await check(restarted, record.id, where, acknowledged, record).catch((error: unknown) => {
      throw new Error(`${where}: ${String(error)}`, { cause: error });
    });
    await restarted.close();
  }
  h.store = await h.open();
}

const context: SessionContext = { featureName: 'power', dependencies: ['a', 'b'] };
const counts: SessionCounts = {
  description: null,
  context: { tokens: 12, counter: 'test', hash: 'cc' },
  checkpoint: null,
};

/** 16 messages; the session made by {@link commitCase}'s `prepare` holds them all. */
const ALL = messages(0, 16);
/** Appended while the commit runs. */
const DURING = message(16);

/**
 * The power goes at every sync of a commit, while one more message is appended: the session is
 * found before the commit or after it, with every message once (the one appended meanwhile, if
 * there, whole), a retry after "before" commits once, and the session then loads as committed.
 * `compacted`: the session was compacted once before (segment 1, checkpoint version 1: messages
 * 0..3), then 12..15 were appended (in the log of a store that has one); otherwise all 16 are live.
 */
async function commitCase(
  h: Harness,
  name: string,
  compacted: boolean,
  commit: SessionCommit,
  after: { version: number; through: number },
): Promise<void> {
  const before = compacted ? 1 : 0;
  await atEverySync(
    h,
    name,
    async (store, id, record) => {
      await store.create(record);
      if (!compacted) return store.append(id, ALL);
      await store.append(id, ALL.slice(0, 12));
      await store.commit(id, {
        segment: segmentOf(1, 1, ALL.slice(0, 4)),
        checkpoint: checkpointOf(1, 1, 3, 4),
      });
      await store.append(id, ALL.slice(12));
    },
    ({ id }) =>
      async (store) => {
        await store.load(id);
        await Promise.all([store.commit(id, commit), store.append(id, [DURING])]);
      },
    async (store, id, where, acknowledged) => {
      const loaded = await store.load(id);
      expect([before, after.version], where).toContain(loaded.checkpoint?.version ?? 0);
      if (acknowledged) expect(loaded.checkpoint?.version, where).toBe(after.version);
      const held = [...(await store.readArchive(id)).messages, ...loaded.messages];
      expect(acknowledged ? [[...ALL, DURING]] : [ALL, [...ALL, DURING]], where).toContainEqual(held);
      if ((loaded.checkpoint?.version ?? 0) === before) await store.commit(id, commit);
      const again = await store.load(id);
      expect([again.checkpoint?.version, again.archivedThroughSeq], where).toEqual([
        after.version,
        after.through,
      ]);
      expect(seqs(again.messages), where).toEqual(range(after.through + 1, held.length));
      // Every version committed stays readable (the version's copy is part of the commit).
      expect(await store.checkpointVersions(id), where).toEqual(range(1, after.version + 1));
      expect(await store.readCheckpoint(id, after.version), where).toEqual(again.checkpoint);
      expect([...(await store.readArchive(id)).messages, ...again.messages], where).toEqual(held);
    },
  );
}

/** @internal Registers the power-loss cases; they run only for a store whose capabilities say `syncs`. */
export function powerLossCases(h: () => Harness): void {
  const applies = () => h().capabilities.syncs === true && h().capabilities.persistent;

  describe('power loss (hooks.synced)', () => {
    it.each([
      ['a create', false],
      ['the first create in fresh storage (its directory made)', true],
    ])(
      '%s cut short by a power loss leaves no session, or the whole session; a retry creates it',
      async (_, fresh) => {
        if (!applies()) return;
        const files = { context, checkpoint: checkpointOf(0, 0, -1, 0), counts };
        await atEverySync(
          h(),
          fresh ? 'fresh-create' : 'create',
          async () => undefined,
          (record) => async (store) => {
            await store.create(record, files);
          },
          async (store, id, where, acknowledged, record) => {
            const presence = await store.presence(id);
            expect(acknowledged ? ['present'] : ['absent', 'present'], where).toContain(presence);
            if (presence === 'absent') await store.create(record, files);
            const loaded = await store.load(id);
            expect([loaded.record.id, loaded.context, loaded.checkpoint, loaded.counts], where).toEqual([
              id,
              context,
              files.checkpoint,
              counts,
            ]);
            await store.append(id, messages(0, 2));
            expect(seqs((await store.load(id)).messages), where).toEqual([0, 1]);
          },
          fresh,
        );
      },
    );

    it('appends cut short by a power loss keep every acknowledged one, each whole or not at all', async () => {
      if (!applies()) return;
      // How many messages acknowledged appends held, by session, when the power went.
      const acknowledgedOf = new Map<string, number>();
      // The first append makes the store's log (a new file); 3 messages, then 8 appends of 2.
      const long = (seq: number) => message(seq, 'x'.repeat(300));
      const batches = [messages(0, 3), ...range(0, 8).map((b) => [long(3 + 2 * b), long(4 + 2 * b)])];
      const ends = batches.map((_, b) => 3 + 2 * b);
      await atEverySync(
        h(),
        'append',
        async (store, _id, record) => {
          await store.create(record);
        },
        ({ id }) =>
          async (store, crashed) => {
            await store.load(id);
            for (const [b, batch] of batches.entries()) {
              await store.append(id, batch);
              if (!crashed()) acknowledgedOf.set(id, ends[b]!);
            }
          },
        async (store, id, where) => {
          const held = seqs((await store.load(id)).messages);
          expect(held, where).toEqual(range(0, held.length));
          expect(held.length, where).toBeGreaterThanOrEqual(acknowledgedOf.get(id) ?? 0);
          expect([0, ...ends], `${where}: an append cut in two`).toContain(held.length);
          await store.append(id, [message(held.length)]);
          expect(seqs((await store.load(id)).messages), where).toEqual(range(0, held.length + 1));
        },
      );
    });

    it('a compaction commit cut short by a power loss: before or after, every message once', async () => {
      if (!applies()) return;
      const commit = { segment: segmentOf(2, 2, ALL.slice(4, 8)), checkpoint: checkpointOf(2, 2, 7, 8) };
      await commitCase(h(), 'compaction', true, commit, { version: 2, through: 7 });
    });

    it('a first commit (archive and versions made) cut short by a power loss: before or after', async () => {
      if (!applies()) return;
      const commit = { segment: segmentOf(1, 1, ALL.slice(0, 6)), checkpoint: checkpointOf(1, 1, 5, 6) };
      await commitCase(h(), 'first-commit', false, commit, { version: 1, through: 5 });
    });

    it('a clear (every live message archived, checks dropped) cut short by a power loss', async () => {
      if (!applies()) return;
      const segment = segmentOf(2, 2, ALL.slice(4));
      const commit = { segment, checkpoint: checkpointOf(2, 2, 15, 16), keepChecks: false };
      await commitCase(h(), 'clear', true, commit, { version: 2, through: 15 });
    });

    it('a reset (a new checkpoint, nothing archived) cut short by a power loss', async () => {
      if (!applies()) return;
      const commit = { segment: null, checkpoint: checkpointOf(2, 1, 3, 4), keepChecks: false };
      await commitCase(h(), 'reset', true, commit, { version: 2, through: 3 });
    });
  });
}
