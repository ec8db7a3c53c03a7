/**
 * @internal Conformance cases of power loss during the small writes (context, agent description,
 * counts, record, checks) and the count records of `recordCounts`, for a store that reports its
 * syncs (see cases-power-loss.ts). A small file is replaced whole: after the power goes, the
 * session holds the old value or the new one (never a torn or emptied file, never nothing), an
 * acknowledged write is there, the messages are all there, and the session goes on.
 */
import { describe, expect, it } from 'vitest';
import { textTokenBound } from '../core/token-bound.js';
import type { AgentDescription, SessionContext, SessionRecord } from '../core/types.js';
import type { InitialFiles, SessionCounts, SessionHead, SessionStore } from '../store/contract.js';
import { checkpointOf, message, messages, range } from './fixtures.js';
import { atEverySync } from './cases-power-loss.js';
import { seqs, type Harness } from './harness.js';

/**
 * One small write: the session is created with `files` (holding `values[0]`), `write` puts
 * `values[1]` under the cut and `values[2]` after the restart, and `read` finds the value in a load.
 */
interface SmallWrite<T> {
  name: string;
  files: InitialFiles;
  values(record: SessionRecord): readonly [T, T, T];
  write(store: SessionStore, id: string, value: T): Promise<unknown>;
  read(head: SessionHead): T;
}

/** How far the write under the cut got, acknowledged, by session: the small write, then an append. */
const WRITTEN = 1;
const APPENDED = 2;

async function smallWriteCase<T>(h: Harness, w: SmallWrite<T>): Promise<void> {
  const acknowledged = new Map<string, number>();
  await atEverySync(
    h,
    w.name,
    async (store, id, record) => {
      await store.create(record, w.files);
      await store.append(id, messages(0, 2));
    },
    (record) => async (store, crashed) => {
      await store.load(record.id);
      await w.write(store, record.id, w.values(record)[1]);
      if (!crashed()) acknowledged.set(record.id, WRITTEN);
      await store.append(record.id, [message(2)]);
      if (!crashed()) acknowledged.set(record.id, APPENDED);
    },
    async (store, id, where, _done, record) => {
      const [before, after, later] = w.values(record);
      const stage = acknowledged.get(id) ?? 0;
      const loaded = await store.load(id);
      // Whole: the old value or the new one, never a file torn, emptied or set aside.
      expect(stage >= WRITTEN ? [after] : [before, after], where).toContainEqual(w.read(loaded));
      const held = seqs(loaded.messages);
      expect(
        stage >= APPENDED
          ? [[0, 1, 2]]
          : [
              [0, 1],
              [0, 1, 2],
            ],
        where,
      ).toContainEqual(held);
      // The session goes on: written again, appended to.
      await w.write(store, id, later);
      await store.append(id, [message(held.length)]);
      const again = await store.load(id);
      expect(w.read(again), where).toEqual(later);
      expect(seqs(again.messages), where).toEqual(range(0, held.length + 1));
    },
  );
}

const contextOf = (featureName: string): SessionContext => ({ featureName, dependencies: [featureName] });
const descriptionOf = (role: string): AgentDescription => ({
  role,
  instructions: `be ${role}`,
  tools: ['x'],
});
const countsOf = (tokens: number): SessionCounts => ({
  description: { tokens, counter: 'test', hash: `d${tokens}` },
  context: { tokens: tokens + 1, counter: 'test', hash: `c${tokens}` },
  checkpoint: null,
});
const checksOf = (passed: boolean, error?: string) => [
  { checkId: 'build', passed, at: '2026-01-02T00:00:09.000Z', ...(error === undefined ? {} : { error }) },
];
/** The checkpoint's version and checks, or null for none. */
const checksIn = (head: SessionHead) =>
  head.checkpoint === null
    ? null
    : { version: head.checkpoint.version, checks: head.checkpoint.checks ?? [] };
const NOW = '2026-01-02T00:00:10.000Z';

const SMALL_WRITES: SmallWrite<unknown>[] = [
  {
    name: 'context',
    files: { context: contextOf('before') },
    values: () => [contextOf('before'), contextOf('after'), contextOf('later')],
    write: (store, id, value) => store.writeContext(id, value as SessionContext),
    read: (head) => head.context,
  },
  {
    name: 'description',
    files: { agentDescription: descriptionOf('before') },
    values: () => [descriptionOf('before'), descriptionOf('after'), descriptionOf('later')],
    write: (store, id, value) => store.writeAgentDescription(id, value as AgentDescription),
    read: (head) => head.agentDescription,
  },
  {
    name: 'counts',
    files: { counts: countsOf(10) },
    values: () => [countsOf(10), countsOf(20), countsOf(30)],
    write: (store, id, value) => store.writeCounts(id, value as SessionCounts),
    read: (head) => head.counts,
  },
  {
    name: 'record',
    files: {},
    values: (record) => [
      record,
      { ...record, updatedAt: '2026-01-03T00:00:00.000Z', status: 'archived' },
      { ...record, updatedAt: '2026-01-04T00:00:00.000Z', status: 'active' },
    ],
    write: (store, id, value) => store.writeRecord(id, value as SessionRecord),
    read: (head) => head.record,
  },
  {
    // The first checks make a version-0 checkpoint (and its copy).
    name: 'first-checks',
    files: {},
    values: () => [
      null,
      { version: 0, checks: checksOf(true) },
      { version: 0, checks: checksOf(false, 'red') },
    ],
    write: (store, id, value) => store.recordChecks(id, (value as { checks: [] }).checks, NOW),
    read: checksIn,
  },
  {
    name: 'checks',
    files: { checkpoint: { ...checkpointOf(0, 0, -1, 0), checks: checksOf(false, 'red') } },
    values: () => [
      { version: 0, checks: checksOf(false, 'red') },
      { version: 0, checks: checksOf(true) },
      { version: 0, checks: checksOf(false, 'again') },
    ],
    write: (store, id, value) => store.recordChecks(id, (value as { checks: [] }).checks, NOW),
    read: checksIn,
  },
];

/** Counted after their write: 300 characters, `BOUND` given at append, counted `EXACT` later. */
const BOUND = 1000;
const EXACT = 7;
const uncountedMessage = (seq: number) => message(seq, 'y'.repeat(300), { tokens: BOUND });

/**
 * Appends of messages counted after their write, their counts recorded (`recordCounts`) and
 * carried by the next append (messages 0..2, then 3), then at close (4..5), the power going at
 * every sync: every acknowledged message is there, and each has its exact count or is reported
 * uncounted with its bound, never a wrong count (architecture.md, "Counts after the write").
 */
async function countRecordsCase(h: Harness): Promise<void> {
  const acknowledgedOf = new Map<string, number>();
  const exact = (seq: number) => (seq === 3 ? message(3).tokens : EXACT + seq);
  const appendCounted = async (store: SessionStore, id: string, from: number, to: number) => {
    await store.append(id, range(from, to).map(uncountedMessage), { uncounted: range(from, to) });
    await store.recordCounts!(
      id,
      range(from, to).map((seq) => ({ seq, tokens: exact(seq) })),
    );
  };
  await atEverySync(
    h,
    'count-records',
    async (store, _id, record) => {
      await store.create(record);
    },
    ({ id }) =>
      async (store, crashed) => {
        await store.load(id);
        await appendCounted(store, id, 0, 3);
        if (!crashed()) acknowledgedOf.set(id, 3);
        await store.append(id, [message(3)]);
        if (!crashed()) acknowledgedOf.set(id, 4);
        await appendCounted(store, id, 4, 6);
        if (!crashed()) acknowledgedOf.set(id, 6);
      },
    async (store, id, where) => {
      const loaded = await store.load(id);
      const held = seqs(loaded.messages);
      expect(held, where).toEqual(range(0, held.length));
      expect(held.length, where).toBeGreaterThanOrEqual(acknowledgedOf.get(id) ?? 0);
      const uncounted = new Set(loaded.uncounted ?? []);
      for (const m of loaded.messages) {
        const bound = [BOUND, textTokenBound(m.content)];
        if (uncounted.has(m.seq)) expect(bound, `${where}: message ${m.seq}'s bound`).toContain(m.tokens);
        else expect(m.tokens, `${where}: message ${m.seq}'s count`).toBe(exact(m.seq));
      }
      // The session goes on: the lost counts counted again, an append, all exact after a restart.
      const lost = [...uncounted];
      if (lost.length > 0)
        await store.recordCounts!(
          id,
          lost.map((seq) => ({ seq, tokens: exact(seq) })),
        );
      await appendCounted(store, id, held.length, held.length + 1);
      await store.close();
      const restarted = await h.open();
      const again = await restarted.load(id);
      expect(
        again.messages.map((m) => [m.seq, m.tokens]),
        where,
      ).toEqual(range(0, held.length + 1).map((seq) => [seq, exact(seq)]));
      expect(again.uncounted ?? [], where).toEqual([]);
      await restarted.close();
    },
  );
}

/** @internal Registers the cases; they run only for a store whose capabilities say `syncs`. */
export function powerLossWriteCases(h: () => Harness): void {
  const applies = () => h().capabilities.syncs === true && h().capabilities.persistent;

  describe('power loss during small writes (hooks.synced)', () => {
    for (const w of SMALL_WRITES) {
      it(`${w.name}: a write cut short by a power loss leaves the old value or the new one, whole`, async () => {
        if (!applies()) return;
        await smallWriteCase(h(), w);
      });
    }

    it('count records cut short by a power loss: each count exact, or uncounted with its bound', async () => {
      if (!applies() || h().store.recordCounts === undefined) return;
      await countRecordsCase(h());
    });
  });
}
