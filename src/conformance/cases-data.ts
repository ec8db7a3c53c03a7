/**
 * @internal Conformance cases on sessions' data: unknown ids, round trips, copies, appends in
 * order, last write wins, two instances on one storage, and what `list()` reports.
 */
import { describe, expect, it } from 'vitest';
import { sessionIdOf } from '../core/ids.js';
import type { AgentDescription, Message, SessionContext } from '../core/types.js';
import type { SessionCounts } from '../store/contract.js';
import {
  EVERY_BLOCK,
  ID,
  KEY,
  UNICODE,
  checkpointOf,
  keyOf,
  message,
  messages,
  randomTexts,
  range,
  recordOf,
  segmentOf,
} from './fixtures.js';
import { asStored, expectCode, seqs, type Harness } from './harness.js';

/** @internal Registers the data cases; `h()` is the current case's harness. */
export function dataCases(h: () => Harness): void {
  describe('unknown ids', () => {
    it('load is SESSION_NOT_FOUND, presence absent, nothing listed, nothing created', async () => {
      const { store } = h();
      expect(await store.presence('feature--nobody--pm')).toBe('absent');
      const error = await expectCode(store.load('feature--nobody--pm'), 'SESSION_NOT_FOUND');
      expect((error as Error).message).toContain('feature--nobody--pm');
      await expectCode(store.readArchive('feature--nobody--pm'), 'SESSION_NOT_FOUND');
      await expectCode(store.readCheckpoint('feature--nobody--pm'), 'SESSION_NOT_FOUND');
      expect(await store.list()).toEqual([]);
    });

    it('refuses ids that are not safe path segments with INVALID_KEY', async () => {
      for (const id of ['', '..', '../escape', 'a/b', 'a\\b', '__proto__', 'constructor'])
        await expectCode(h().store.load(id), 'INVALID_KEY');
    });
  });

  describe('round trips', () => {
    it('keeps record, files, counts and messages deep-equal, across a reopen where persistent', async () => {
      const context: SessionContext = {
        featureName: 'Ünïcode ✓',
        featureGoal: UNICODE[1]!,
        dependencies: ['a', 'b'],
        extra: { nested: [1, { two: 2 }], none: null },
      };
      const description: AgentDescription = {
        role: 'developer',
        instructions: UNICODE.join('\n'),
        tools: ['Read'],
      };
      const checkpoint = checkpointOf(0, 0, -1, 0);
      const counts: SessionCounts = {
        description: { tokens: 12, counter: 'test', hash: 'aa' },
        context: { tokens: 34, counter: 'test', hash: 'bb' },
        checkpoint: null,
      };
      const head = await h().store.create(recordOf(KEY), {
        context,
        agentDescription: description,
        checkpoint,
        counts,
      });
      expect(head.messages).toEqual([]);
      expect([head.lastSeq, head.archivedThroughSeq]).toEqual([-1, -1]);
      const all: Message[] = [
        ...UNICODE.map((text, i) => message(i, text)),
        message(UNICODE.length, EVERY_BLOCK),
        message(UNICODE.length + 1, 'with metadata', {
          role: 'system',
          metadata: {
            source: 'test',
            n: 42,
            ok: false,
            nested: { list: [null, 'x', { y: 'ü' }] },
            empty: {},
          },
          idempotencyKey: 'key-1',
        }),
        message(UNICODE.length + 2, ''),
        message(UNICODE.length + 3, []),
      ];
      await h().store.append(ID, all.slice(0, 3));
      await h().store.append(ID, all.slice(3));
      const record = recordOf(KEY, { updatedAt: '2026-02-03T04:05:06.000Z' });
      await h().store.writeRecord(ID, record);
      const store = h().capabilities.persistent ? await h().reopen() : h().store;
      const loaded = await store.load(ID);
      expect(loaded.record).toEqual(record);
      expect(loaded.context).toEqual(context);
      expect(loaded.agentDescription).toEqual(description);
      expect(loaded.checkpoint).toEqual(checkpoint);
      expect(loaded.counts).toEqual(counts);
      expect(loaded.messages).toEqual(all);
      expect(loaded.lastSeq).toBe(all.length - 1);
      expect(await store.presence(ID)).toBe('present');
    });

    it('round-trips random unicode in content and metadata', async () => {
      for (let seed = 1; seed <= 10; seed++) {
        const id = sessionIdOf(keyOf(`unicode-${seed}`));
        await h().store.create(recordOf(keyOf(`unicode-${seed}`)));
        const texts = randomTexts(seed, 8);
        const written = texts.map((t, i) =>
          message(i, i % 2 === 0 ? t : [{ type: 'text', text: t }], { metadata: { [t]: t } }),
        );
        await h().store.append(id, written);
        await h().store.writeContext(id, { projectNotes: texts.join('') });
        const loaded = await h().store.load(id);
        expect(loaded.messages, `seed ${seed}`).toEqual(written);
        expect(loaded.context).toEqual({ projectNotes: texts.join('') });
      }
    });

    it('round-trips a large session of 5,000 messages', async () => {
      await h().create();
      const all = range(0, 5_000).map((seq) =>
        message(
          seq,
          seq % 3 === 0
            ? `${'lorem ipsum '.repeat(seq % 40)}#${seq}`
            : [{ type: 'text', text: `b ${seq} ✓` }],
          {
            metadata: { i: seq },
          },
        ),
      );
      for (let from = 0; from < 4_000; from += 500) await h().store.append(ID, all.slice(from, from + 500));
      await Promise.all(range(4_000, 5_000).map((seq) => h().store.append(ID, [all[seq]!])));
      const store = h().capabilities.persistent ? await h().reopen() : h().store;
      expect((await store.load(ID)).messages).toEqual(all);
    });

    it('create refuses a session that exists, changing nothing', async () => {
      await h().create();
      await h().store.append(ID, messages(0, 2));
      const error = await expectCode(h().store.create(recordOf(KEY)), 'INVALID_ARGUMENT');
      expect((error as Error).message).toContain(ID);
      expect(seqs((await h().store.load(ID)).messages)).toEqual([0, 1]);
    });

    it('create refuses a checkpoint that archives something (there is no archive yet), creating nothing', async () => {
      for (const checkpoint of [
        checkpointOf(1, 1, 10, 11),
        checkpointOf(0, 0, 4, 0),
        checkpointOf(0, 0, -1, 3),
      ])
        await expectCode(h().store.create(recordOf(KEY), { checkpoint }), 'INVALID_ARGUMENT');
      expect(await h().store.presence(ID)).toBe('absent');
      const head = await h().store.create(recordOf(KEY), { checkpoint: checkpointOf(0, 0, -1, 0) });
      expect([head.lastSeq, head.archivedThroughSeq, head.checkpoint?.version]).toEqual([-1, -1, 0]);
      await h().store.append(ID, messages(0, 2));
      const store = h().capabilities.persistent ? await h().reopen() : h().store;
      expect(seqs((await store.load(ID)).messages)).toEqual([0, 1]);
    });
  });

  describe('copies', () => {
    it('what goes in is copied, and what comes out is the caller’s', async () => {
      const context: SessionContext = { featureName: 'before', dependencies: ['a'] };
      await h().store.create(recordOf(KEY), { context });
      const written = [message(0, [{ type: 'text', text: 'before' }], { metadata: { tags: ['a'] } })];
      await h().store.append(ID, written);
      context.featureName = 'changed';
      context.dependencies!.push('changed');
      (written[0]!.content as { text: string }[])[0]!.text = 'changed';
      (written[0]!.metadata!.tags as string[]).push('changed');
      const loaded = await h().store.load(ID);
      expect(loaded.context).toEqual({ featureName: 'before', dependencies: ['a'] });
      expect(loaded.messages[0]).toEqual(
        message(0, [{ type: 'text', text: 'before' }], { metadata: { tags: ['a'] } }),
      );
      // A head's parts may be shared with the store only frozen; anything else is a copy.
      const tryEdit = (edit: () => void) => {
        try {
          edit();
        } catch {
          // frozen: refused
        }
      };
      tryEdit(() => ((loaded.messages[0]!.content as { text: string }[])[0]!.text = 'out'));
      tryEdit(() => (loaded.context!.featureName = 'out'));
      tryEdit(() => loaded.messages.push(message(9)));
      const again = await h().store.load(ID);
      expect(again.context?.featureName).toBe('before');
      expect(again.messages).toEqual([
        message(0, [{ type: 'text', text: 'before' }], { metadata: { tags: ['a'] } }),
      ]);
    });
  });

  describe('appends', () => {
    it('concurrent appends all land, in call order', async () => {
      await h().create();
      const calls: Message[][] = [];
      let seq = 0;
      for (let i = 0; i < 150; i++) {
        const size = i % 10 === 0 ? 3 : 1;
        calls.push(range(seq, seq + size).map((s) => message(s, `concurrent ${s}`)));
        seq += size;
      }
      const settled: number[] = [];
      await Promise.all(
        calls.map((batch, i) =>
          h()
            .store.append(ID, batch)
            .then(() => settled.push(i)),
        ),
      );
      expect(settled).toHaveLength(calls.length);
      const store = h().capabilities.persistent ? await h().reopen() : h().store;
      expect((await store.load(ID)).messages).toEqual(calls.flat());
    });

    it('refuses a seq that does not increase (INVALID_MESSAGE) and keeps what was acknowledged', async () => {
      await h().create();
      await h().store.append(ID, messages(0, 2));
      await expectCode(h().store.append(ID, [message(1)]), 'INVALID_MESSAGE');
      await h().store.append(ID, [message(2)]);
      expect(seqs((await h().store.load(ID)).messages)).toEqual([0, 1, 2]);
    });
  });

  describe('last write wins', () => {
    it('for context, description and record, one after another', async () => {
      await h().create();
      for (let i = 0; i < 3; i++) {
        await h().store.writeContext(ID, { featureName: `context ${i}` });
        await h().store.writeAgentDescription(ID, { role: `role ${i}` });
        await h().store.writeRecord(ID, recordOf(KEY, { updatedAt: `2026-03-0${i + 1}T00:00:00.000Z` }));
      }
      const loaded = await h().store.load(ID);
      expect(loaded.context).toEqual({ featureName: 'context 2' });
      expect(loaded.agentDescription).toEqual({ role: 'role 2' });
      expect(loaded.record.updatedAt).toBe('2026-03-03T00:00:00.000Z');
    });

    it('concurrent saves end in the last value (steno test)', async () => {
      await h().create();
      for (let round = 0; round < 3; round++) {
        const writes: Promise<void>[] = [];
        for (let i = 0; i < 40; i++) {
          // Earlier values are larger, so that their writes tend to finish last if unordered.
          const pad = 'x'.repeat((40 - i) * 2_000);
          writes.push(
            h().store.writeContext(ID, { featureName: `context ${round}.${i}`, projectNotes: pad }),
          );
          writes.push(h().store.writeAgentDescription(ID, { role: `role ${round}.${i}`, instructions: pad }));
          writes.push(h().store.writeCounts(ID, { context: { tokens: i, counter: `${round}`, hash: 'h' } }));
        }
        await Promise.all(writes);
        const reader = h().capabilities.readers ? await h().open({ readOnly: true }) : h().store;
        const loaded = await reader.load(ID);
        expect(loaded.context?.featureName).toBe(`context ${round}.39`);
        expect(loaded.agentDescription?.role).toBe(`role ${round}.39`);
        expect(loaded.counts.context?.tokens).toBe(39);
      }
    });
  });

  describe('two instances on one storage', () => {
    it('a second writer is refused or served as the capabilities say; a reader reads', async () => {
      await h().create();
      await h().store.append(ID, messages(0, 2));
      if (h().capabilities.writers === 'exclusive') {
        const error = await expectCode(h().open(), 'ROOT_LOCKED');
        expect((error as Error).message.length).toBeGreaterThan(0);
      } else {
        const second = await h().open();
        await second.append(ID, [message(2)]);
        expect(seqs((await h().store.load(ID)).messages)).toEqual([0, 1, 2]);
        return;
      }
      if (!h().capabilities.readers) return;
      const reader = await h().open({ readOnly: true });
      expect(reader.readOnly).toBe(true);
      expect((await reader.list()).map((l) => l.id)).toEqual([ID]);
      expect(seqs((await reader.load(ID)).messages)).toEqual([0, 1]);
      await expectCode(reader.append(ID, [message(2)]), 'INVALID_ARGUMENT');
      await expectCode(reader.writeContext(ID, { featureName: 'no' }), 'INVALID_ARGUMENT');
      await expectCode(reader.create(recordOf(keyOf('other'))), 'INVALID_ARGUMENT');
      // The writer goes on; the reader sees acknowledged messages on its next load.
      await h().store.append(ID, [message(2)]);
      expect(seqs((await reader.load(ID)).messages)).toEqual([0, 1, 2]);
      // Once the writer closes, another writer may open.
      if (h().capabilities.persistent) {
        const next = await h().reopen();
        expect(seqs((await next.load(ID)).messages)).toEqual([0, 1, 2]);
      }
    });
  });

  describe('list()', () => {
    it('reports each session’s figures as stored, loaded or not, and after a reopen', async () => {
      await h().create();
      await h().store.create(recordOf(keyOf('empty')));
      await h().store.append(ID, messages(0, 12));
      await h().store.commit(ID, {
        segment: segmentOf(1, 1, messages(0, 4)),
        checkpoint: checkpointOf(1, 1, 3, 4),
      });
      const expected = {
        id: ID,
        key: KEY,
        status: 'active',
        messages: { total: 12, live: 8, archived: 4 },
        tokens: {
          total: 4 * 5 + messages(4, 12).reduce((sum, m) => sum + m.tokens, 0),
          live: messages(4, 12).reduce((sum, m) => sum + m.tokens, 0),
          archived: 20,
        },
        checkpointVersion: 1,
        archivedThroughSeq: 3,
        lastSeq: 11,
      };
      const check = async () => {
        const listed = await h().store.list();
        expect(listed.map((l) => l.id)).toEqual([ID, sessionIdOf(keyOf('empty'))].sort());
        const mine = listed.find((l) => l.id === ID)!;
        expect(mine.error).toBeNull();
        expect(mine.summary).toMatchObject(expected);
        const empty = listed.find((l) => l.id !== ID)!.summary!;
        expect([empty.messages, empty.lastSeq, empty.archivedThroughSeq, empty.checkpointVersion]).toEqual([
          { total: 0, live: 0, archived: 0 },
          -1,
          -1,
          0,
        ]);
      };
      await check();
      await h().store.release(ID);
      await check();
      if (h().capabilities.persistent) {
        await h().reopen();
        await check();
      }
      expect(asStored(expected.messages)).toEqual({ total: 12, live: 8, archived: 4 });
    });

    it('lists many sessions in id order, each with its own figures', async () => {
      // More than a store may read at once (the Restate store reads 16 summaries at a time).
      const keys = Array.from({ length: 40 }, (_, i) => keyOf(`many-${String(i).padStart(2, '0')}`));
      for (const [i, key] of keys.entries()) {
        await h().store.create(recordOf(key));
        if (i % 3 > 0) await h().store.append(sessionIdOf(key), messages(0, i % 3));
      }
      const listed = await h().store.list();
      const ids = keys.map(sessionIdOf);
      expect(listed.map((l) => l.id)).toEqual([...ids].sort());
      for (const [i, id] of ids.entries()) {
        const listing = listed.find((l) => l.id === id)!;
        expect(listing.error).toBeNull();
        expect([listing.summary?.id, listing.summary?.messages.total]).toEqual([id, i % 3]);
      }
    });
  });
}
