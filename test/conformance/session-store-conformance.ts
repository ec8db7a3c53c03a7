/**
 * The conformance suite every {@link SessionStore} must pass, with a tiny runner per store
 * (langgraph `libs/checkpoint-validation`, unstorage `test/drivers/utils.ts`).
 *
 * A runner calls {@link runSessionStoreConformance} with a factory that opens a store on a fresh,
 * empty directory and can open more stores on that same directory (to reopen, or to be a second
 * instance). Every case works through the `SessionStore` / `SessionDirectory` API; only the
 * crash-repair cases place files by hand, where the API has no way to stop half-way.
 */
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessionError, type SessionErrorCode } from '../../src/core/errors.js';
import { sessionIdOf } from '../../src/core/ids.js';
import type {
  AgentDescription,
  ArchiveSegment,
  Checkpoint,
  ContentBlock,
  Message,
  SessionContext,
  SessionKey,
  SessionRecord,
} from '../../src/core/types.js';
import type { SessionDirectory } from '../../src/store/session-directory.js';
import type { SessionStore } from '../../src/store/session-store.js';

/** What a runner's factory returns. */
export interface SessionStoreHarness {
  /** A store opened for writing on a fresh, empty directory. */
  store: SessionStore;
  /** Opens another store on the same directory (a reopen after close, or a second instance). */
  open(options?: { readOnly?: boolean }): Promise<SessionStore>;
  /** Removes the directory; the suite closes every store it opened before calling it. */
  cleanup(): Promise<void>;
}

/** Opens a fresh store on a fresh directory. */
export type SessionStoreFactory = () => Promise<SessionStoreHarness>;

const FIXTURES = fileURLToPath(new URL('../../fixtures/store/', import.meta.url));

// ---- builders -------------------------------------------------------------------------------

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'conformance' };

function keyOf(featureId: string): SessionKey {
  return { type: 'feature', agentType: 'dev', featureId };
}

function recordOf(key: SessionKey, extra: Partial<SessionRecord> = {}): SessionRecord {
  return {
    schemaVersion: 1,
    id: sessionIdOf(key),
    key,
    createdAt: '2026-01-02T03:04:05.000Z',
    updatedAt: '2026-01-02T03:04:05.000Z',
    status: 'active',
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
    ...extra,
  };
}

function message(
  seq: number,
  content: Message['content'] = `message ${seq}`,
  extra: Partial<Message> = {},
): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tokens: 3 + (seq % 7),
    ...extra,
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function checkpointOf(
  version: number,
  segment: number,
  archivedThroughSeq: number,
  archivedMessages: number,
): Checkpoint {
  return {
    version,
    createdAt: '2026-01-02T00:00:00.000Z',
    updatedAt: `2026-01-02T00:00:${String(version).padStart(2, '0')}.000Z`,
    summary: {
      completed: [`step ${version}`],
      inProgress: [],
      pending: ['more'],
      decisions: ['use lowdb'],
      blockers: [],
    },
    compactionInfo: {
      compactor: 'conformance',
      messagesCompacted: 10,
      archivedThroughSeq,
      segment,
      tokensBefore: 1000,
      tokensAfter: 100,
      durationMs: 1,
      chunks: 1,
      escalation: 0,
      archivedMessages,
      archivedTokens: archivedMessages * 5,
    },
    tokens: 40,
  };
}

function segmentOf(segment: number, checkpointVersion: number, messages: Message[]): ArchiveSegment {
  return {
    segment,
    checkpointVersion,
    createdAt: '2026-01-02T00:00:00.000Z',
    firstSeq: messages[0]!.seq,
    lastSeq: messages[messages.length - 1]!.seq,
    messages,
  };
}

/** Text that exercises JSON escaping and UTF-8: emoji, RTL, combining marks, controls (no NUL). */
const UNICODE = [
  'emoji 👩‍💻🚀🇫🇷 and a lone 🤖',
  'RTL: שלום עולם — مرحبا بالعالم \u200f mark',
  'combining: e\u0301 a\u0308 Z\u0335\u0321',
  `controls: ${Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')}\u007f`,
  'separators: \u2028 \u2029 "quotes" \\backslash\\ </script>',
  'astral: 𝄞 𠀋 \uFEFF bom',
];

const EVERY_BLOCK: ContentBlock[] = [
  { type: 'text', text: UNICODE.join('\n') },
  { type: 'thinking', thinking: 'let me think… 🤔', signature: 'sig-abc123' },
  {
    type: 'tool_use',
    id: 'toolu_01',
    name: 'Read',
    input: { path: 'src/ünï.ts', lines: [1, 2], deep: { a: null, b: true, c: 1.5e-7 } },
  },
  { type: 'tool_result', tool_use_id: 'toolu_01', content: 'file contents\twith tab' },
  {
    type: 'tool_result',
    tool_use_id: 'toolu_01',
    content: [{ type: 'text', text: 'as blocks' }],
    is_error: true,
  },
];

async function expectCode(promise: Promise<unknown>, code: SessionErrorCode): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSessionError(error, code), `expected SessionError ${code}, got ${String(error)}`).toBe(true);
  return error;
}

// ---- the suite ------------------------------------------------------------------------------

/**
 * Registers the conformance cases for one store under `describe(name)`.
 *
 * @example
 * ```ts
 * runSessionStoreConformance('JsonFileSessionStore', async () => {
 *   const root = await mkdtemp(path.join(os.tmpdir(), 'store-'))
 *   const open = (o = {}) => JsonFileSessionStore.open({ root, ...o })
 *   return { store: await open(), open, cleanup: () => rm(root, { recursive: true, force: true }) }
 * })
 * ```
 */
export function runSessionStoreConformance(name: string, factory: SessionStoreFactory): void {
  describe(`${name} (SessionStore conformance)`, () => {
    let harness: SessionStoreHarness;
    let store: SessionStore;
    const stores: SessionStore[] = [];
    const dirs: SessionDirectory[] = [];

    const open = async (options: { readOnly?: boolean } = {}): Promise<SessionStore> => {
      const opened = await harness.open(options);
      stores.push(opened);
      return opened;
    };
    const dirOf = (s: SessionStore, id: string): SessionDirectory => {
      const dir = s.session(id);
      dirs.push(dir);
      return dir;
    };
    /** Closes the writer and opens it again: what a restart does. */
    const reopen = async (): Promise<SessionStore> => {
      for (const dir of dirs.splice(0)) await dir.close();
      await store.close();
      store = await open();
      return store;
    };
    const createSession = async (key: SessionKey = KEY): Promise<SessionDirectory> => {
      const dir = dirOf(store, sessionIdOf(key));
      await dir.create(recordOf(key));
      await dir.load();
      return dir;
    };
    const everything = async (dir: SessionDirectory): Promise<Message[]> => {
      const loaded = await dir.load();
      return [...(await dir.readArchive()), ...loaded.messages];
    };

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
      stores.push(store);
    });

    afterEach(async () => {
      for (const dir of dirs.splice(0)) await dir.close().catch(() => undefined);
      for (const s of stores.splice(0)) await s.close().catch(() => undefined);
      await harness.cleanup();
    });

    describe('unknown ids', () => {
      it('load throws SESSION_NOT_FOUND, exists() is false, and nothing is created', async () => {
        const dir = dirOf(store, 'feature--nobody--pm');
        expect(await dir.exists()).toBe(false);
        const error = await expectCode(dir.load(), 'SESSION_NOT_FOUND');
        expect((error as Error).message).toContain('feature--nobody--pm');
        await expectCode(dir.readRecord(), 'SESSION_NOT_FOUND');
        expect(await store.listSessionIds()).toEqual([]);
      });

      it('rejects ids that are not safe path segments', () => {
        for (const id of ['', '..', '../escape', 'a/b', 'a\\b', '__proto__', 'constructor']) {
          let thrown: unknown = null;
          try {
            store.session(id);
          } catch (error) {
            thrown = error;
          }
          expect(isSessionError(thrown, 'INVALID_KEY'), JSON.stringify(id)).toBe(true);
        }
      });
    });

    describe('round trips', () => {
      it('keeps record, context, description, checkpoint and messages deep-equal across a reopen', async () => {
        const dir = await createSession();
        const context: SessionContext = {
          featureName: 'Ünïcode ✓',
          featureGoal: UNICODE[1]!,
          dependencies: ['a', 'b'],
          dependents: [],
          recentCommits: ['abc123 fix: 🐛'],
          extra: { nested: [1, { two: 2 }], none: null },
        };
        const description: AgentDescription = {
          role: 'developer',
          instructions: UNICODE.join('\n'),
          tools: ['Read', 'Edit'],
        };
        const checkpoint = checkpointOf(3, 0, -1, 0);
        const messages: Message[] = [
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
          }),
          message(UNICODE.length + 2, ''),
          message(UNICODE.length + 3, []),
        ];
        await dir.writeContext(context);
        await dir.writeAgentDescription(description);
        await dir.writeCheckpoint(checkpoint);
        await dir.appendMessages(messages.slice(0, 3));
        await dir.appendMessages(messages.slice(3));
        const record = recordOf(KEY, {
          updatedAt: '2026-02-03T04:05:06.000Z',
          stats: {
            totalMessages: 10,
            totalTokens: 99,
            totalCompactions: 0,
            lastCompactionAt: null,
            lastRequestTokens: 7,
          },
        });
        await dir.writeRecord(record);

        await reopen();
        const again = dirOf(store, sessionIdOf(KEY));
        expect(await again.exists()).toBe(true);
        const loaded = await again.load();
        expect(loaded.record).toEqual(record);
        expect(loaded.context).toEqual(context);
        expect(loaded.agentDescription).toEqual(description);
        expect(loaded.checkpoint).toEqual(checkpoint);
        expect(loaded.messages).toEqual(messages);
        expect(loaded.archivedThroughSeq).toBe(-1);
        expect(loaded.repairs).toEqual([]);
        expect(await store.listSessionIds()).toEqual([sessionIdOf(KEY)]);
      });

      it('round-trips arbitrary unicode text (property)', async () => {
        let n = 0;
        const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
        await fc.assert(
          fc.asyncProperty(
            fc.array(text, { minLength: 1, maxLength: 8 }),
            fc.dictionary(text, text, { maxKeys: 3 }),
            async (texts, metadata) => {
              const key = keyOf(`unicode-${n++}`);
              const dir = await createSession(key);
              const messages = texts.map((t, i) =>
                message(i, i % 2 === 0 ? t : [{ type: 'text', text: t }], { metadata }),
              );
              await dir.appendMessages(messages);
              await dir.writeContext({ projectNotes: texts.join('') });
              await dir.close();
              const reader = dirOf(store, sessionIdOf(key));
              const loaded = await reader.load();
              expect(loaded.messages).toEqual(messages);
              expect(loaded.context).toEqual({ projectNotes: texts.join('') });
            },
          ),
          { numRuns: 15 },
        );
      });

      it('round-trips a large session of 5,000 messages', async () => {
        const dir = await createSession();
        const messages = range(0, 5_000).map((seq) =>
          message(
            seq,
            seq % 3 === 0
              ? `${'lorem ipsum '.repeat(seq % 40)}#${seq}`
              : [{ type: 'text', text: `block ${seq} ✓` }],
            {
              metadata: { i: seq },
            },
          ),
        );
        // Batches of uneven size, some awaited one by one, some not.
        for (let from = 0; from < 4_000; from += 500)
          await dir.appendMessages(messages.slice(from, from + 500));
        await Promise.all(range(4_000, 5_000).map((seq) => dir.appendMessages([messages[seq]!])));
        expect(dir.messages).toEqual(messages);

        await reopen();
        const loaded = await dirOf(store, sessionIdOf(KEY)).load();
        expect(loaded.messages.length).toBe(5_000);
        expect(loaded.messages).toEqual(messages);
        expect(loaded.tornRecordsDropped).toBe(0);
      });
    });

    describe('concurrent appends', () => {
      it('all land, in call order, and are readable after a reopen', async () => {
        const dir = await createSession();
        const calls: Message[][] = [];
        let seq = 0;
        for (let i = 0; i < 150; i++) {
          const size = i % 10 === 0 ? 3 : 1;
          calls.push(range(seq, seq + size).map((s) => message(s, `concurrent ${s}`)));
          seq += size;
        }
        const settled: number[] = [];
        // No await in between: the store must keep call order and group them as it likes.
        await Promise.all(calls.map((batch, i) => dir.appendMessages(batch).then(() => settled.push(i))));
        const expected = calls.flat();
        expect(settled).toHaveLength(calls.length);
        expect(dir.messages).toEqual(expected);

        await reopen();
        expect((await dirOf(store, sessionIdOf(KEY)).load()).messages).toEqual(expected);
      });

      it('refuses a seq that does not increase, and keeps what was acknowledged', async () => {
        const dir = await createSession();
        await dir.appendMessages([message(0), message(1)]);
        await expectCode(dir.appendMessages([message(1)]), 'INVALID_MESSAGE');
        await dir.appendMessages([message(2)]);
        await reopen();
        expect((await dirOf(store, sessionIdOf(KEY)).load()).messages.map((m) => m.seq)).toEqual([0, 1, 2]);
      });
    });

    describe('last write wins', () => {
      it('for context, agent description, checkpoint and record, written one after another', async () => {
        const dir = await createSession();
        for (let i = 0; i < 3; i++) {
          await dir.writeContext({ featureName: `context ${i}` });
          await dir.writeAgentDescription({ role: `role ${i}` });
          await dir.writeCheckpoint(checkpointOf(i + 1, 0, -1, 0));
          await dir.writeRecord(recordOf(KEY, { updatedAt: `2026-03-0${i + 1}T00:00:00.000Z` }));
        }
        await reopen();
        const loaded = await dirOf(store, sessionIdOf(KEY)).load();
        expect(loaded.context).toEqual({ featureName: 'context 2' });
        expect(loaded.agentDescription).toEqual({ role: 'role 2' });
        expect(loaded.checkpoint?.version).toBe(3);
        expect(loaded.record.updatedAt).toBe('2026-03-03T00:00:00.000Z');
      });

      it('concurrent saves end in the last value (steno test)', async () => {
        const dir = await createSession();
        for (let round = 0; round < 3; round++) {
          const writes: Promise<void>[] = [];
          for (let i = 0; i < 40; i++) {
            // Earlier values are larger, so that their writes tend to finish last if unordered.
            const pad = 'x'.repeat((40 - i) * 2_000);
            writes.push(dir.writeContext({ featureName: `context ${round}.${i}`, projectNotes: pad }));
            writes.push(dir.writeAgentDescription({ role: `role ${round}.${i}`, instructions: pad }));
            writes.push(
              dir.writeCheckpoint({
                ...checkpointOf(round * 100 + i + 1, 0, -1, 0),
                summary: { completed: [pad], inProgress: [], pending: [], decisions: [], blockers: [] },
              }),
            );
          }
          await Promise.all(writes);
          expect(dir.context?.featureName).toBe(`context ${round}.39`);
          const reader = dirOf(await open({ readOnly: true }), sessionIdOf(KEY));
          const loaded = await reader.load();
          expect(loaded.context?.featureName).toBe(`context ${round}.39`);
          expect(loaded.agentDescription?.role).toBe(`role ${round}.39`);
          expect(loaded.checkpoint?.version).toBe(round * 100 + 40);
        }
      });
    });

    describe('two instances on one directory', () => {
      it('refuses a second writer naming the holder, while a read-only instance reads', async () => {
        const dir = await createSession();
        await dir.appendMessages([message(0), message(1)]);

        const error = await expectCode(open(), 'ROOT_LOCKED');
        const holder = (error as { details: { holder?: { pid?: number } } }).details.holder;
        expect(holder?.pid).toBe(process.pid);
        expect((error as Error).message).toContain(String(process.pid));

        const reader = await open({ readOnly: true });
        expect(reader.readOnly).toBe(true);
        expect(await reader.listSessionIds()).toEqual([sessionIdOf(KEY)]);
        const readDir = dirOf(reader, sessionIdOf(KEY));
        expect((await readDir.load()).messages.map((m) => m.seq)).toEqual([0, 1]);
        await expectCode(readDir.appendMessages([message(2)]), 'INVALID_ARGUMENT');
        await expectCode(readDir.writeContext({ featureName: 'no' }), 'INVALID_ARGUMENT');

        // The writer goes on; the reader sees acknowledged messages on its next load.
        await dir.appendMessages([message(2)]);
        expect((await readDir.load()).messages.map((m) => m.seq)).toEqual([0, 1, 2]);
        expect((await dir.load()).context).toBeNull();

        // Once the writer closes, another writer may open.
        for (const d of dirs.splice(0)) await d.close();
        await store.close();
        const next = await open();
        expect((await dirOf(next, sessionIdOf(KEY)).load()).messages.map((m) => m.seq)).toEqual([0, 1, 2]);
      });
    });

    describe('compaction', () => {
      it('commitCompaction then reload: archive + live hold every message exactly once, in order', async () => {
        const dir = await createSession();
        const messages = range(0, 40).map((seq) => message(seq, seq % 5 === 0 ? EVERY_BLOCK : `m ${seq}`));
        await dir.appendMessages(messages.slice(0, 30));

        // Appends that run while the compaction commits are kept.
        const during = Promise.all(range(30, 35).map((seq) => dir.appendMessages([messages[seq]!])));
        await dir.commitCompaction(segmentOf(1, 1, messages.slice(0, 10)), checkpointOf(1, 1, 9, 10));
        await during;
        expect(dir.messages.map((m) => m.seq)).toEqual(range(10, 35));

        await dir.commitCompaction(segmentOf(2, 2, messages.slice(10, 20)), checkpointOf(2, 2, 19, 20));
        await dir.appendMessages(messages.slice(35));
        await expectCode(
          dir.commitCompaction(segmentOf(2, 3, messages.slice(20, 25)), checkpointOf(3, 2, 24, 25)),
          'IO_ERROR',
        );

        await reopen();
        const again = dirOf(store, sessionIdOf(KEY));
        const loaded = await again.load();
        expect(loaded.archivedThroughSeq).toBe(19);
        expect(loaded.checkpoint?.version).toBe(2);
        expect(loaded.messages.map((m) => m.seq)).toEqual(range(20, 40));
        expect(loaded.repairs).toEqual([]);
        const segments: ArchiveSegment[] = [];
        for await (const segment of again.readSegments()) segments.push(segment);
        expect(segments.map((s) => [s.segment, s.firstSeq, s.lastSeq])).toEqual([
          [1, 0, 9],
          [2, 10, 19],
        ]);
        expect([...(await again.readArchive()), ...loaded.messages]).toEqual(messages);
      });

      it(
        'a crash after the segment and before the checkpoint: the segment is kept, messages stay ' +
          'live, the retry replaces it',
        async () => {
          const dir = await createSession();
          const messages = range(0, 12).map((seq) => message(seq));
          await dir.appendMessages(messages);
          await dir.commitCompaction(segmentOf(1, 1, messages.slice(0, 4)), checkpointOf(1, 1, 3, 4));
          // Crash state: segment 2 on disk, checkpoint still at version 1, chat untouched.
          await writeFile(
            path.join(dir.archiveDir, '000002.json'),
            JSON.stringify(segmentOf(2, 2, messages.slice(4, 8))),
          );

          await reopen();
          const again = dirOf(store, sessionIdOf(KEY));
          const loaded = await again.load();
          expect(loaded.repairs).toEqual([]);
          expect(loaded.notes).toHaveLength(1);
          expect(loaded.notes[0]).toContain('segment 2');
          expect(loaded.messages.map((m) => m.seq)).toEqual(range(4, 12));
          // Nothing is deleted: the leftover stays until a commit replaces it.
          expect(await readdir(again.archiveDir)).toEqual(['000001.json', '000002.json']);
          expect(await everything(again)).toEqual(messages);
          // The retry commits segment 2 (here with more messages than the leftover held), once.
          await again.commitCompaction(segmentOf(2, 2, messages.slice(4, 10)), checkpointOf(2, 2, 9, 10));
          expect(await everything(again)).toEqual(messages);
          await reopen();
          const third = dirOf(store, sessionIdOf(KEY));
          const reloaded = await third.load();
          expect([reloaded.repairs, reloaded.notes]).toEqual([[], []]);
          expect(await everything(third)).toEqual(messages);
        },
      );

      it('repairs a crash after the checkpoint and before chat: archived messages leave chat', async () => {
        const dir = await createSession();
        const messages = range(0, 12).map((seq) => message(seq));
        await dir.appendMessages(messages);
        // Crash state: segment and checkpoint committed, chat still holds the archived messages.
        await mkdir(dir.archiveDir, { recursive: true });
        await writeFile(
          path.join(dir.archiveDir, '000001.json'),
          JSON.stringify(segmentOf(1, 1, messages.slice(0, 5))),
        );
        await dir.writeCheckpoint(checkpointOf(1, 1, 4, 5));

        await reopen();
        const again = dirOf(store, sessionIdOf(KEY));
        const loaded = await again.load();
        expect(loaded.repairs.join('\n')).toContain('up to seq 4');
        expect(loaded.messages.map((m) => m.seq)).toEqual(range(5, 12));
        expect(await everything(again)).toEqual(messages);
        // The repair is durable: a second restart has nothing left to repair.
        await reopen();
        const third = await dirOf(store, sessionIdOf(KEY)).load();
        expect(third.repairs).toEqual([]);
        expect(third.messages.map((m) => m.seq)).toEqual(range(5, 12));
      });
    });

    describe('damage is reported, never repaired by deleting', () => {
      /** A session of 12 messages with two committed segments (0..3, 4..7) and 8..11 live. */
      const compacted = async (): Promise<{ dir: SessionDirectory; messages: Message[] }> => {
        const dir = await createSession();
        const messages = range(0, 12).map((seq) => message(seq));
        await dir.appendMessages(messages);
        await dir.commitCompaction(segmentOf(1, 1, messages.slice(0, 4)), checkpointOf(1, 1, 3, 4));
        await dir.commitCompaction(segmentOf(2, 2, messages.slice(4, 8)), checkpointOf(2, 2, 7, 8));
        return { dir, messages };
      };
      const listing = async (dir: SessionDirectory): Promise<string[]> => [
        ...(await readdir(dir.dir)).sort(),
        ...(await readdir(dir.archiveDir)).map((n) => `archive/${n}`).sort(),
      ];
      const fileOf = (error: unknown): string => (error as { details: { file: string } }).details.file;

      it('a missing checkpoint with segments on disk is CORRUPT_FILE naming it; no segment is deleted', async () => {
        const { dir, messages } = await compacted();
        const checkpointFile = path.join(dir.dir, 'checkpoint.json');
        const saved = await readFile(checkpointFile);
        await rm(checkpointFile);
        await reopen();
        const again = dirOf(store, sessionIdOf(KEY));
        const before = await listing(again);
        const error = await expectCode(again.load(), 'CORRUPT_FILE');
        expect(fileOf(error)).toBe(checkpointFile);
        expect((error as Error).message).toContain('repair');
        expect(await listing(again)).toEqual(before);
        // Restoring it brings everything back.
        await writeFile(checkpointFile, saved);
        expect(await everything(again)).toEqual(messages);
      });

      it(
        'a checkpoint older than the archive is CORRUPT_FILE; repair() rebuilds it from the archive, ' +
          'keeping its summary',
        async () => {
          const { dir, messages } = await compacted();
          const checkpointFile = path.join(dir.dir, 'checkpoint.json');
          await reopen();
          const old = dirOf(store, sessionIdOf(KEY));
          await old.load();
          await old.writeCheckpoint(checkpointOf(1, 1, 3, 4)); // as if restored from an old backup
          await reopen();
          const again = dirOf(store, sessionIdOf(KEY));
          const error = await expectCode(again.load(), 'CORRUPT_FILE');
          expect(fileOf(error)).toBe(checkpointFile);
          expect(await readdir(again.archiveDir)).toEqual(['000001.json', '000002.json']);
          const done = await again.repair();
          expect(done.join('\n')).toContain('keeping its summary');
          const loaded = await again.load();
          expect(loaded.checkpoint?.compactionInfo).toMatchObject({ segment: 2, archivedThroughSeq: 7 });
          expect(loaded.checkpoint?.summary.completed).toEqual(['step 1']);
          expect(await everything(again)).toEqual(messages);
        },
      );

      it('a missing checkpoint is rebuilt by repair() from the archive: every message kept', async () => {
        const { dir, messages } = await compacted();
        await rm(path.join(dir.dir, 'checkpoint.json'));
        await reopen();
        const again = dirOf(store, sessionIdOf(KEY));
        await expectCode(again.load(), 'CORRUPT_FILE');
        await again.repair();
        const loaded = await again.load();
        expect(loaded.checkpoint?.compactionInfo).toMatchObject({
          segment: 2,
          archivedThroughSeq: 7,
          archivedMessages: 8,
        });
        expect(await everything(again)).toEqual(messages);
      });

      it('a missing committed segment fails the load; a damaged one fails every read until repaired', async () => {
        const { dir, messages } = await compacted();
        const first = path.join(dir.archiveDir, '000001.json');
        const bytes = await readFile(first);
        await rm(first);
        await reopen();
        const again = dirOf(store, sessionIdOf(KEY));
        expect(fileOf(await expectCode(again.load(), 'CORRUPT_FILE'))).toBe(first);
        await writeFile(first, bytes);
        expect(await everything(again)).toEqual(messages);
        // Damaged in place while the session is loaded: every read says so, not just the first.
        const damaged = Buffer.from(bytes);
        damaged[damaged.length - 20] = damaged[damaged.length - 20]! ^ 0x01;
        await writeFile(first, damaged);
        for (let i = 0; i < 3; i++)
          expect(fileOf(await expectCode(again.readArchive(), 'CORRUPT_FILE'))).toBe(first);
        const asides = (await readdir(again.archiveDir)).filter((n) => n.includes('.corrupt-'));
        expect(asides).toHaveLength(1);
        await rm(path.join(again.archiveDir, asides[0]!));
        await writeFile(first, bytes);
        expect(await again.readArchive()).toEqual(messages.slice(0, 8));
      });

      it('a segment newer than the checkpoint whose messages are not live is kept and reported', async () => {
        const { dir } = await compacted();
        const stray = path.join(dir.archiveDir, '000003.json');
        // Messages 20..21 exist nowhere else: this file must never be deleted or replaced.
        await writeFile(stray, JSON.stringify(segmentOf(3, 3, [message(20), message(21)])));
        await reopen();
        const again = dirOf(store, sessionIdOf(KEY));
        const error = await expectCode(again.load(), 'CORRUPT_FILE');
        expect(fileOf(error)).toBe(path.join(dir.dir, 'checkpoint.json'));
        expect((error as Error).message).toContain('000003.json');
        expect(JSON.parse(await readFile(stray, 'utf8'))).toEqual(
          segmentOf(3, 3, [message(20), message(21)]),
        );
      });

      it('a directory with session files and no session.json is damaged, not absent: create refuses it', async () => {
        const { dir, messages } = await compacted();
        const recordFile = path.join(dir.dir, 'session.json');
        const saved = await readFile(recordFile);
        await rm(recordFile);
        await reopen();
        const again = dirOf(store, sessionIdOf(KEY));
        expect(await again.presence()).toBe('damaged');
        expect(fileOf(await expectCode(again.exists(), 'CORRUPT_FILE'))).toBe(recordFile);
        expect(fileOf(await expectCode(again.load(), 'CORRUPT_FILE'))).toBe(recordFile);
        await expectCode(again.create(recordOf(KEY)), 'CORRUPT_FILE');
        await expectCode(again.prepare(), 'CORRUPT_FILE');
        expect(await readFile(recordFile).catch(() => null)).toBeNull();
        await writeFile(recordFile, saved);
        expect(await again.presence()).toBe('present');
        expect(await everything(again)).toEqual(messages);
        // repair() rebuilds it from the id when there is no copy.
        await rm(recordFile);
        expect(await again.repair()).toContainEqual(expect.stringContaining('rebuilt session.json'));
        expect((await again.load()).record.key).toEqual(KEY);
        expect(await everything(again)).toEqual(messages);
      });

      it('a directory holding only what a cut-short createSession writes is absent', async () => {
        const dir = dirOf(store, sessionIdOf(KEY));
        await dir.prepare();
        await dir.writeContext({ featureName: 'half-created' });
        expect(await dir.presence()).toBe('absent');
        expect(await dir.exists()).toBe(false);
        await expectCode(dir.load(), 'SESSION_NOT_FOUND');
      });
    });

    describe('old fixtures', () => {
      it('fixtures/store/v1-session loads as written, without rewriting a file', async () => {
        const id = 'task--f1--t1--in_dev--dev';
        const target = path.join(store.sessionsDir, id);
        await cp(path.join(FIXTURES, 'v1-session'), target, { recursive: true });
        const files = ['session.json', 'chat.json', 'chat.log', 'checkpoint.json', 'archive/000001.json'];
        const before = await Promise.all(files.map((f) => readFile(path.join(target, f))));

        const dir = dirOf(store, id);
        const loaded = await dir.load();
        expect(loaded.record.id).toBe(id);
        expect(loaded.record.key).toEqual({
          type: 'task',
          agentType: 'dev',
          featureId: 'f1',
          taskId: 't1',
          taskState: 'in_dev',
        });
        expect(loaded.record.schemaVersion).toBe(1);
        expect(loaded.checkpoint?.version).toBe(1);
        expect(loaded.checkpoint?.summary.completed).toEqual(['Read the spec of the login form']);
        expect(loaded.archivedThroughSeq).toBe(3);
        expect(loaded.repairs).toEqual([]);
        expect(loaded.tornRecordsDropped).toBe(0);
        const archive = await dir.readArchive();
        expect(archive.map((m) => m.seq)).toEqual([0, 1, 2, 3]);
        // chat.json holds 4..6; chat.log repeats 6 (a fold cut short) and adds 7 and 8.
        expect(loaded.messages.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8]);
        expect(loaded.messages.map((m) => m.id)).toEqual(['msg-4', 'msg-5', 'msg-6', 'msg-7', 'msg-8']);
        const toolUse = loaded.messages.find((m) => m.seq === 5)!.content as ContentBlock[];
        expect(toolUse[1]).toEqual({
          type: 'tool_use',
          id: 'toolu_02',
          name: 'Edit',
          input: { path: 'src/login.ts', old: 'a', new: 'b' },
        });
        expect(loaded.messages[4]!.content).toBe('Tests pass: ✓ 12 ✗ 0 — ready for QA');
        expect(loaded.messages[4]!.metadata).toEqual({ model: 'claude', usage: { input_tokens: 1200 } });

        const after = await Promise.all(files.map((f) => readFile(path.join(target, f))));
        expect(after).toEqual(before);

        // And the session goes on in the current format.
        await dir.appendMessages([message(9, 'after the upgrade')]);
        await reopen();
        const again = dirOf(store, id);
        expect(await everything(again)).toHaveLength(10);
        expect((await again.load()).messages.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8, 9]);
      });
    });
  });
}
