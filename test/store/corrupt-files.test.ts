/**
 * Files that do not parse: CORRUPT_FILE naming the file, the file moved aside with its content
 * intact, nothing overwritten, and the session refuses to load until a person deals with it.
 */
import { mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import type { Checkpoint, Message, SessionRecord } from '../../src/core/types.js';
import { encodeRecord } from '../../src/store/journaled-chat-file.js';
import type { SessionDirectory } from '../../src/store/session-directory.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';

const ID = 'feature--corrupt--dev';

const record: SessionRecord = {
  schemaVersion: 1,
  id: ID,
  key: { type: 'feature', agentType: 'dev', featureId: 'corrupt' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  status: 'active',
  stats: {
    totalMessages: 0,
    totalTokens: 0,
    totalCompactions: 0,
    lastCompactionAt: null,
    lastRequestTokens: 0,
  },
};

function message(seq: number): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content: `message ${seq} ✓`,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    tokens: 4,
  };
}

const checkpoint: Checkpoint = {
  version: 1,
  createdAt: '2026-01-01T00:01:00.000Z',
  updatedAt: '2026-01-01T00:01:00.000Z',
  summary: { completed: ['a'], inProgress: ['b'], pending: [], decisions: [], blockers: [] },
  compactionInfo: {
    compactor: 'test',
    messagesCompacted: 4,
    archivedThroughSeq: 3,
    segment: 1,
    tokensBefore: 100,
    tokensAfter: 20,
    durationMs: 1,
    chunks: 1,
    escalation: 0,
    archivedMessages: 4,
    archivedTokens: 16,
  },
  tokens: 10,
};

const ALL = Array.from({ length: 10 }, (_, seq) => message(seq));

type Corruption = (bytes: Buffer) => Buffer;
const TRUNCATED: Corruption = (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2));
const GARBAGE: Corruption = () => Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0xc3, 0x28, 0x0a, 0x1f]);
const shape =
  (json: string): Corruption =>
  () =>
    Buffer.from(json);

let root: string;
let sessionDir: string;
const stores: JsonFileSessionStore[] = [];
const dirs: SessionDirectory[] = [];

async function openDir(readOnly = false): Promise<SessionDirectory> {
  const store = await JsonFileSessionStore.open({ root, readOnly });
  stores.push(store);
  const dir = store.session(ID);
  dirs.push(dir);
  return dir;
}

async function closeAll(): Promise<void> {
  for (const dir of dirs.splice(0)) await dir.close();
  for (const store of stores.splice(0)) await store.close();
}

/** Every file of the session, relative path → bytes. */
async function snapshotFiles(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else files.set(path.relative(sessionDir, full), await readFile(full));
    }
  };
  await walk(sessionDir);
  return files;
}

async function corruptFileError(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSessionError(error, 'CORRUPT_FILE')) throw new Error(`expected CORRUPT_FILE, got ${String(error)}`);
  return error;
}

/** Loads everything a session has, reading the archive too, as a runtime opening its history does. */
async function loadAll(dir: SessionDirectory): Promise<Message[]> {
  const loaded = await dir.load();
  return [...(await dir.readArchive()), ...loaded.messages];
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dagent-corrupt-'));
  sessionDir = path.join(root, '.dagent', 'sessions', ID);
  // A session with every file: record, context, description, checkpoint, one archive segment,
  // chat.json (written by the compaction's fold) and chat.log (three records since).
  const dir = await openDir();
  await dir.create(record);
  await dir.load();
  await dir.writeContext({ featureName: 'Corrupt files', dependencies: ['x'] });
  await dir.writeAgentDescription({ role: 'developer', tools: ['Read'] });
  await dir.appendMessages(ALL.slice(0, 7));
  await dir.commitCompaction(
    {
      segment: 1,
      checkpointVersion: 1,
      createdAt: checkpoint.createdAt,
      firstSeq: 0,
      lastSeq: 3,
      messages: ALL.slice(0, 4),
    },
    checkpoint,
  );
  for (const m of ALL.slice(7)) await dir.appendMessages([m]);
  await closeAll();
  expect([...(await snapshotFiles()).keys()].sort()).toEqual([
    'agent-description.json',
    'archive/000001.json',
    'chat.json',
    'chat.log',
    'checkpoint.json',
    'checkpoints/000001.json',
    'context.json',
    'session.json',
  ]);
});

afterEach(async () => {
  await closeAll().catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

const FILES = [
  'session.json',
  'chat.json',
  'checkpoint.json',
  'context.json',
  'agent-description.json',
  'archive/000001.json',
] as const;
const CASES: [string, string, Corruption][] = FILES.flatMap((file): [string, string, Corruption][] => [
  [file, 'truncated', TRUNCATED],
  [file, 'garbage', GARBAGE],
  [
    file,
    'of the wrong shape',
    shape(
      file === 'chat.json'
        ? '{"messages": 5}'
        : file === 'context.json' || file === 'agent-description.json'
          ? '[1, 2]'
          : '{"unrelated": true}',
    ),
  ],
]);
CASES.push([
  'chat.log',
  'damaged before good records',
  (bytes) => {
    const damaged = Buffer.from(bytes);
    const at = encodeRecord(ALL[7]!).length - 5; // inside the first record's JSON
    damaged[at] = damaged[at]! ^ 0x10;
    return damaged;
  },
]);

describe('a file that does not parse', () => {
  it.each(CASES)(
    '%s %s: CORRUPT_FILE naming it, set aside intact, nothing overwritten, load refused until repaired',
    async (file, _kind, corrupt) => {
      const target = path.join(sessionDir, file);
      const good = await readFile(target);
      const bad = corrupt(good);
      await writeFile(target, bad);
      const before = await snapshotFiles();

      const dir = await openDir();
      const error = await corruptFileError(file.startsWith('archive/') ? loadAll(dir) : dir.load());
      expect(error.details.file).toBe(target);
      expect(error.message).toContain(target);
      expect(typeof error.details.reason).toBe('string');
      const setAsideTo = error.details.setAsideTo as string;
      expect(path.dirname(setAsideTo)).toBe(path.dirname(target));
      expect(path.basename(setAsideTo)).toMatch(
        new RegExp(`^${path.basename(file).replace('.', '\\.')}\\.corrupt-\\d{8}T\\d{9}Z$`),
      );
      expect(error.message).toContain(path.basename(setAsideTo));

      // The bytes moved aside unchanged; nothing else on disk changed; nothing took the file's place.
      expect(await readFile(setAsideTo)).toEqual(bad);
      await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      const after = await snapshotFiles();
      const aside = path.relative(sessionDir, setAsideTo);
      expect([...after.keys()].sort()).toEqual(
        [...before.keys()].map((k) => (k === file ? aside : k)).sort(),
      );
      for (const [name, bytes] of before) if (name !== file) expect(after.get(name), name).toEqual(bytes);

      // Until a person deals with it, the session refuses to load, from this or a later runtime.
      const again = await corruptFileError(dir.load());
      expect(again.details).toMatchObject({ file: target, setAsideTo });
      await closeAll();
      const later = await openDir();
      expect((await corruptFileError(later.load())).details).toMatchObject({ file: target, setAsideTo });
      expect([...(await snapshotFiles()).keys()].sort()).toEqual([...after.keys()].sort()); // no second set-aside

      // Repaired and moved back: the session loads, whole.
      await writeFile(target, good);
      await unlink(setAsideTo);
      expect(await loadAll(later)).toEqual(ALL);
    },
  );

  it('the loss can be accepted by deleting the set-aside file', async () => {
    await writeFile(path.join(sessionDir, 'context.json'), '{"featureName": "cut sh');
    const dir = await openDir();
    const error = await corruptFileError(dir.load());
    await unlink(error.details.setAsideTo as string);
    const loaded = await dir.load();
    expect(loaded.context).toBeNull();
    expect(loaded.agentDescription).toEqual({ role: 'developer', tools: ['Read'] });
    expect(await loadAll(dir)).toEqual(ALL);
  });

  it('read-only: CORRUPT_FILE naming the file, which stays where it is', async () => {
    const target = path.join(sessionDir, 'checkpoint.json');
    await writeFile(target, '{"version": 1, "summ');
    const before = await snapshotFiles();
    const dir = await openDir(true);
    const error = await corruptFileError(dir.load());
    expect(error.details).toMatchObject({ file: target, setAsideTo: null });
    expect(error.message).toContain('left in place');
    expect(await snapshotFiles()).toEqual(before);
  });

  it('a torn chat.log tail is not corruption: the session loads without the unacknowledged record', async () => {
    const log = path.join(sessionDir, 'chat.log');
    const bytes = await readFile(log);
    await writeFile(log, Buffer.concat([bytes, encodeRecord(message(10)).subarray(0, 17)]));
    const dir = await openDir();
    const loaded = await dir.load();
    expect(loaded.tornRecordsDropped).toBe(1);
    expect(await loadAll(dir)).toEqual(ALL);
    expect((await readdir(sessionDir)).filter((n) => n.includes('.corrupt-'))).toEqual([]);
  });
});
