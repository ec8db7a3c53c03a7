/**
 * The store conformance suite against the JSON-file store (once with the defaults, once folding
 * chat.log into chat.json after every 1 KiB so that every case also crosses folds, once with appends
 * flushed on the calling thread, `syncAppends: 'calling-thread'`), then what only
 * a store of files has: damage a person or a disk did to the files is reported, never repaired by
 * deleting, and files written by older versions still load.
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testSessionStore } from '../../src/conformance/index.js';
import { isSessionError, type SessionErrorCode } from '../../src/core/errors.js';
import type { ContentBlock, Message } from '../../src/core/types.js';
import { JsonFileSessionStore, type SessionStoreOptions } from '../../src/store/session-store.js';
import {
  ID,
  KEY,
  checkpointOf,
  message,
  messages,
  recordOf,
  segmentOf,
} from '../../src/conformance/fixtures.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/store/', import.meta.url));

function jsonFileTarget(options: Omit<SessionStoreOptions, 'root'> = {}) {
  return {
    async setup() {
      const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-conformance-'));
      // The power-loss cases rewrite the sessions' files; the root's lock, beside them, is the
      // process's, and a process does not outlive a power loss.
      const directory = path.join(root, '.dagent', 'sessions');
      await mkdir(directory, { recursive: true });
      return {
        open: async (extra: Partial<SessionStoreOptions> = {}) =>
          JsonFileSessionStore.open({ root, ...options, ...extra }),
        teardown: () => rm(root, { recursive: true, force: true }),
        directory,
      };
    },
  };
}

testSessionStore('JsonFileSessionStore', jsonFileTarget());
testSessionStore('JsonFileSessionStore, folding every 1 KiB', jsonFileTarget({ foldMinBytes: 1024 }));
testSessionStore(
  'JsonFileSessionStore, flushing appends on the calling thread',
  jsonFileTarget({ syncAppends: 'calling-thread' }),
);

// ---- what only files have --------------------------------------------------------------------

async function expectCode(promise: Promise<unknown>, code: SessionErrorCode): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSessionError(error, code), `expected SessionError ${code}, got ${String(error)}`).toBe(true);
  return error;
}

const fileOf = (error: unknown): string => (error as { details: { file: string } }).details.file;

describe('JsonFileSessionStore: damage and old files', () => {
  let root: string;
  let store: JsonFileSessionStore;
  const dir = () => path.join(store.sessionsDir, ID);
  const archiveDir = () => path.join(dir(), 'archive');

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'dagent-file-store-'));
    store = await JsonFileSessionStore.open({ root });
  });
  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  const reopen = async () => {
    await store.close();
    store = await JsonFileSessionStore.open({ root });
  };
  const everything = async (): Promise<Message[]> => {
    const head = await store.load(ID);
    return [...(await store.readArchive(ID)).messages, ...head.messages];
  };
  /** 12 messages, two committed segments (0..3, 4..7), 8..11 live. */
  const compacted = async (): Promise<Message[]> => {
    await store.create(recordOf(KEY));
    const all = messages(0, 12);
    await store.append(ID, all);
    await store.commit(ID, {
      segment: segmentOf(1, 1, all.slice(0, 4)),
      checkpoint: checkpointOf(1, 1, 3, 4),
    });
    await store.commit(ID, {
      segment: segmentOf(2, 2, all.slice(4, 8)),
      checkpoint: checkpointOf(2, 2, 7, 8),
    });
    return all;
  };
  const listing = async (): Promise<string[]> => [
    ...(await readdir(dir())).sort(),
    ...(await readdir(archiveDir())).map((n) => `archive/${n}`).sort(),
  ];

  it('hands archived messages out frozen and uncopied, with and without the segment cache', async () => {
    for (const segmentCacheBytes of [undefined, 0]) {
      await store.close();
      await rm(root, { recursive: true, force: true });
      store = await JsonFileSessionStore.open({
        root,
        ...(segmentCacheBytes === 0 ? { segmentCacheBytes } : {}),
      });
      const all = await compacted();
      await reopen();
      const first = await store.readArchive(ID);
      expect(first.messages).toEqual(all.slice(0, 8));
      expect(first.messages.every((m) => Object.isFrozen(m) && Object.isFrozen(m.content))).toBe(true);
      expect(() => (first.messages[0]!.content = 'changed')).toThrow(TypeError);
      const page = await store.readArchive(ID, { after: 1, limit: 2 });
      const segment = await store.readSegment(ID, 1);
      if (segmentCacheBytes === undefined) {
        // Read from the cache: the very objects of the first read, not copies of them.
        expect((await store.readArchive(ID)).messages[5]).toBe(first.messages[5]);
        expect(page.messages[0]).toBe(first.messages[2]);
        expect(segment?.messages[3]).toBe(first.messages[3]);
      }
      expect(Object.isFrozen(segment?.messages[0])).toBe(true);
      expect((await store.readArchive(ID)).messages).toEqual(all.slice(0, 8));
    }
  });

  it('a missing checkpoint with segments on disk is CORRUPT_FILE naming it; no segment is deleted', async () => {
    const all = await compacted();
    const checkpointFile = path.join(dir(), 'checkpoint.json');
    const saved = await readFile(checkpointFile);
    await rm(checkpointFile);
    await reopen();
    const before = await listing();
    const error = await expectCode(store.load(ID), 'CORRUPT_FILE');
    expect(fileOf(error)).toBe(checkpointFile);
    expect((error as Error).message).toContain('repair');
    expect(await listing()).toEqual(before);
    await writeFile(checkpointFile, saved);
    expect(await everything()).toEqual(all);
  });

  it('a checkpoint older than the archive is CORRUPT_FILE; repair() rebuilds it, keeping its summary', async () => {
    const all = await compacted();
    // As if restored from an old backup: version 1's copy put back as checkpoint.json.
    await writeFile(
      path.join(dir(), 'checkpoint.json'),
      await readFile(path.join(dir(), 'checkpoints', '000001.json')),
    );
    await reopen();
    expect(fileOf(await expectCode(store.load(ID), 'CORRUPT_FILE'))).toBe(
      path.join(dir(), 'checkpoint.json'),
    );
    expect(await readdir(archiveDir())).toEqual(['000001.json', '000002.json']);
    const done = await store.session(ID).repair();
    expect(done.join('\n')).toContain('keeping its summary');
    const loaded = await store.load(ID);
    expect(loaded.checkpoint?.compactionInfo).toMatchObject({ segment: 2, archivedThroughSeq: 7 });
    expect(loaded.checkpoint?.summary.completed).toEqual(['step 1']);
    expect(await everything()).toEqual(all);
  });

  it('a missing committed segment fails the load; a damaged one fails every read until repaired', async () => {
    const all = await compacted();
    const first = path.join(archiveDir(), '000001.json');
    const bytes = await readFile(first);
    await rm(first);
    await reopen();
    expect(fileOf(await expectCode(store.load(ID), 'CORRUPT_FILE'))).toBe(first);
    await writeFile(first, bytes);
    expect(await everything()).toEqual(all); // read, checked and cached
    // Damaged in place while the session is loaded: every read says so, cached or not.
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 20] = damaged[damaged.length - 20]! ^ 0x01;
    await writeFile(first, damaged);
    for (let i = 0; i < 3; i++)
      expect(fileOf(await expectCode(store.readArchive(ID), 'CORRUPT_FILE'))).toBe(first);
    await expectCode(store.readArchive(ID, { limit: 2 }), 'CORRUPT_FILE');
    const asides = (await readdir(archiveDir())).filter((n) => n.includes('.corrupt-'));
    expect(asides).toHaveLength(1);
    await rm(path.join(archiveDir(), asides[0]!));
    await writeFile(first, bytes);
    expect((await store.readArchive(ID)).messages).toEqual(all.slice(0, 8));
  });

  it('a segment newer than the checkpoint whose messages are not live is kept and reported', async () => {
    await compacted();
    const stray = path.join(archiveDir(), '000003.json');
    // Messages 20..21 exist nowhere else: this file must never be deleted or replaced.
    await writeFile(stray, JSON.stringify(segmentOf(3, 3, [message(20), message(21)])));
    await reopen();
    const error = await expectCode(store.load(ID), 'CORRUPT_FILE');
    expect(fileOf(error)).toBe(path.join(dir(), 'checkpoint.json'));
    expect((error as Error).message).toContain('000003.json');
    expect(JSON.parse(await readFile(stray, 'utf8'))).toEqual(segmentOf(3, 3, [message(20), message(21)]));
  });

  it('session files without session.json are damaged, not absent: create refuses them, list reports them', async () => {
    const all = await compacted();
    const recordFile = path.join(dir(), 'session.json');
    const saved = await readFile(recordFile);
    await rm(recordFile);
    await reopen();
    expect(await store.presence(ID)).toBe('damaged');
    expect(fileOf(await expectCode(store.load(ID), 'CORRUPT_FILE'))).toBe(recordFile);
    await expectCode(store.create(recordOf(KEY)), 'CORRUPT_FILE');
    expect(await readFile(recordFile).catch(() => null)).toBeNull();
    const [listed] = await store.list();
    expect([listed?.id, listed?.summary, listed?.error?.code]).toEqual([ID, null, 'CORRUPT_FILE']);
    await writeFile(recordFile, saved);
    expect(await store.presence(ID)).toBe('present');
    expect(await everything()).toEqual(all);
  });

  it('a directory holding only what a cut-short create writes is absent', async () => {
    await mkdir(dir(), { recursive: true });
    await writeFile(path.join(dir(), 'context.json'), JSON.stringify({ featureName: 'half-created' }));
    expect(await store.presence(ID)).toBe('absent');
    await expectCode(store.load(ID), 'SESSION_NOT_FOUND');
    expect(await store.list()).toEqual([]);
    await store.create(recordOf(KEY));
    expect(await store.presence(ID)).toBe('present');
  });

  it('a checkpoint edited by hand becomes a new version; the committed one stays readable', async () => {
    const all = await compacted();
    const file = path.join(dir(), 'checkpoint.json');
    const edited = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & {
      summary: { completed: string[] };
    };
    delete edited.$crc32; // as a person editing it is told to
    edited.summary.completed = ['corrected by hand'];
    await writeFile(file, JSON.stringify(edited, null, 2));
    await reopen();
    const loaded = await store.load(ID);
    expect(loaded.checkpoint?.version).toBe(3);
    expect(loaded.checkpoint?.summary.completed).toEqual(['corrected by hand']);
    expect(loaded.notes.join('\n')).toContain('edited by hand');
    expect(await store.checkpointVersions(ID)).toEqual([1, 2, 3]);
    expect((await store.readCheckpoint(ID, 2))?.summary.completed).toEqual(['step 2']);
    expect(await everything()).toEqual(all);
    await reopen();
    expect([(await store.load(ID)).checkpoint?.version, (await store.load(ID)).notes]).toEqual([3, []]);
  });

  it('fixtures/store/v1-session loads as written, without rewriting a file, and goes on', async () => {
    const id = 'task--f1--t1--in_dev--dev';
    const target = path.join(store.sessionsDir, id);
    await cp(path.join(FIXTURES, 'v1-session'), target, { recursive: true });
    const files = ['session.json', 'chat.json', 'chat.log', 'checkpoint.json', 'archive/000001.json'];
    const before = await Promise.all(files.map((f) => readFile(path.join(target, f))));
    const [listed] = await store.list();
    expect(listed?.summary).toMatchObject({
      messages: { total: 9, live: 5, archived: 4 },
      lastSeq: 8,
      checkpointVersion: 1,
    });
    const loaded = await store.load(id);
    expect(loaded.record.key).toEqual({
      type: 'task',
      agentType: 'dev',
      featureId: 'f1',
      taskId: 't1',
      taskState: 'in_dev',
    });
    expect([loaded.record.schemaVersion, loaded.checkpoint?.version, loaded.archivedThroughSeq]).toEqual([
      1, 1, 3,
    ]);
    expect(loaded.checkpoint?.summary.completed).toEqual(['Read the spec of the login form']);
    expect([loaded.repairs, loaded.tornRecordsDropped]).toEqual([[], 0]);
    expect((await store.readArchive(id)).messages.map((m) => m.seq)).toEqual([0, 1, 2, 3]);
    // chat.json holds 4..6; chat.log repeats 6 (a fold cut short) and adds 7 and 8.
    expect(loaded.messages.map((m) => m.id)).toEqual(['msg-4', 'msg-5', 'msg-6', 'msg-7', 'msg-8']);
    expect((loaded.messages.find((m) => m.seq === 5)!.content as ContentBlock[])[1]).toEqual({
      type: 'tool_use',
      id: 'toolu_02',
      name: 'Edit',
      input: { path: 'src/login.ts', old: 'a', new: 'b' },
    });
    expect(loaded.messages[4]!.content).toBe('Tests pass: ✓ 12 ✗ 0 — ready for QA');
    expect(loaded.messages[4]!.metadata).toEqual({ model: 'claude', usage: { input_tokens: 1200 } });
    // Written before versions were kept and counts persisted: the current version only, no counts.
    expect(await store.checkpointVersions(id)).toEqual([1]);
    expect(await store.readCheckpoint(id, 0)).toBeNull();
    expect(loaded.counts).toEqual({ description: null, context: null, checkpoint: null });
    const after = await Promise.all(files.map((f) => readFile(path.join(target, f))));
    expect(after).toEqual(before);
    await store.append(id, [message(9, 'after the upgrade')]);
    await reopen();
    expect((await store.load(id)).messages.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8, 9]);
  });
});
