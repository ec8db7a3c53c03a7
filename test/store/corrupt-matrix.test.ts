/**
 * The corruption matrix: every file of a session × every kind of damage, done by hand to real
 * files. For each case: the error is CORRUPT_FILE naming the file and saying what to do; nothing
 * acknowledged is lost or changed and nothing is deleted (the listing and bytes are as before,
 * except the damaged file moved aside as `.corrupt-*`); the session refuses to load until a person
 * acts; and doing what the error says brings every message back.
 *
 * chat.log's byte-level rules (torn tail versus damage) belong to journaled-chat-file's tests;
 * here it is deleted, replaced by a link or by a directory.
 */
import {
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import type { Checkpoint, Message, SessionRecord } from '../../src/core/types.js';
import type { SessionDirectory } from '../../src/store/session-directory.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';

const ID = 'feature--matrix--dev';
const KEY = { type: 'feature', agentType: 'dev', featureId: 'matrix' } as const;
const CONTEXT = { featureName: 'Corruption matrix', dependencies: ['x'] };
const DESCRIPTION = { role: 'developer', tools: ['Read'] };

function message(seq: number): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content: seq % 3 === 0 ? [{ type: 'text', text: `block ${seq} ✓` }] : `message ${seq} — ünïcode`,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    tokens: 5,
  };
}
const ALL = Array.from({ length: 10 }, (_, seq) => message(seq));

const record: SessionRecord = {
  schemaVersion: 1,
  id: ID,
  key: KEY,
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

const checkpoint: Checkpoint = {
  version: 1,
  createdAt: '2026-01-01T00:01:00.000Z',
  updatedAt: '2026-01-01T00:01:00.000Z',
  summary: {
    completed: ['read the spec'],
    inProgress: ['the form'],
    pending: [],
    decisions: [],
    blockers: [],
  },
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
    archivedTokens: 20,
  },
  tokens: 10,
};

// ---- damage ---------------------------------------------------------------------------------

type Damage = 'truncated' | 'bit flip' | 'zero fill' | 'deleted' | 'symlink out of the root' | 'directory';

async function damage(kind: Damage, target: string, outside: string): Promise<void> {
  const bytes = await readFile(target);
  switch (kind) {
    case 'truncated':
      return writeFile(target, bytes.subarray(0, Math.floor(bytes.length / 2)));
    case 'bit flip': {
      const flipped = Buffer.from(bytes);
      const at = Math.floor(bytes.length / 2);
      flipped[at] = flipped[at]! ^ 0x04;
      return writeFile(target, flipped);
    }
    case 'zero fill': {
      const zeroed = Buffer.from(bytes);
      zeroed.fill(0, Math.floor(bytes.length / 2));
      return writeFile(target, zeroed);
    }
    case 'deleted':
      return unlink(target);
    case 'symlink out of the root': {
      // A copy of the very file, outside the root: reading it would even look right.
      const copy = path.join(outside, path.basename(target));
      await copyFile(target, copy);
      await unlink(target);
      return symlink(copy, target);
    }
    case 'directory':
      await unlink(target);
      await mkdir(target);
      return writeFile(path.join(target, 'inside'), 'not a session file');
  }
}

const FILES = [
  'session.json',
  'chat.json',
  'chat.log',
  'checkpoint.json',
  'context.json',
  'agent-description.json',
  'archive/000001.json',
] as const;
const BYTE_DAMAGE: Damage[] = ['truncated', 'bit flip', 'zero fill'];
const ALL_DAMAGE: Damage[] = [...BYTE_DAMAGE, 'deleted', 'symlink out of the root', 'directory'];

/** Deleting these is indistinguishable from never having set them: they read as absent. */
const MAY_BE_ABSENT = new Set(['context.json', 'agent-description.json']);

const CASES: [string, Damage][] = FILES.flatMap((file) =>
  (file === 'chat.log' ? ALL_DAMAGE.filter((d) => !BYTE_DAMAGE.includes(d)) : ALL_DAMAGE).map(
    (kind): [string, Damage] => [file, kind],
  ),
);

// ---- harness --------------------------------------------------------------------------------

let base: string;
let root: string;
let outside: string;
let sessionDir: string;
const opened: { stores: JsonFileSessionStore[]; dirs: SessionDirectory[] } = { stores: [], dirs: [] };
const totals = { cases: 0, messagesChecked: 0, lost: 0 };

async function openDir(): Promise<SessionDirectory> {
  const store = await JsonFileSessionStore.open({ root });
  opened.stores.push(store);
  const dir = store.session(ID);
  opened.dirs.push(dir);
  return dir;
}

async function closeAll(): Promise<void> {
  for (const dir of opened.dirs.splice(0)) await dir.close();
  for (const store of opened.stores.splice(0)) await store.close();
}

/** Every entry under `dir`: kind and bytes (files), target (links), recursively. */
async function listing(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d)) {
      const full = path.join(d, name);
      const info = await lstat(full);
      const rel = path.relative(dir, full);
      if (info.isSymbolicLink()) out.set(rel, `link ${await readlink(full)}`);
      else if (info.isDirectory()) {
        out.set(rel, 'dir');
        await walk(full);
      } else out.set(rel, `file ${(await readFile(full)).toString('base64')}`);
    }
  };
  await walk(dir);
  return out;
}

/** Everything the session holds: archive + live, read as a runtime opening its history does. */
async function loadAll(dir: SessionDirectory): Promise<Message[]> {
  const loaded = await dir.load();
  return [...(await dir.readArchive()), ...loaded.messages];
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (error: unknown) => error,
  );
}

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'dagent-matrix-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
  sessionDir = path.join(root, '.dagent', 'sessions', ID);
  // A session with every file: an archive segment (0..3), chat.json written by the commit's
  // fold (4..6), chat.log with the three appended since (7..9), and session.json as a close
  // leaves it, counting all ten.
  const dir = await openDir();
  await dir.prepare();
  await dir.writeContext(CONTEXT);
  await dir.writeAgentDescription(DESCRIPTION);
  await dir.create(record);
  await dir.load();
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
  await dir.writeRecord({ ...record, stats: { ...record.stats, totalMessages: 10, totalTokens: 50 } });
  await closeAll();
  expect([...(await listing(sessionDir)).keys()].sort()).toEqual([
    'agent-description.json',
    'archive',
    'archive/000001.json',
    'chat.json',
    'chat.log',
    'checkpoint.json',
    'checkpoints',
    'checkpoints/000001.json',
    'context.json',
    'session.json',
  ]);
});

afterEach(async () => {
  await closeAll().catch(() => undefined);
  await rm(base, { recursive: true, force: true });
});

afterAll(() => {
  // The figures of the closing note.
  console.log(
    `corruption matrix: ${totals.cases} cases, ` +
      `${totals.messagesChecked} acknowledged messages checked, ${totals.lost} lost`,
  );
});

describe('corruption matrix', () => {
  it.each(CASES)('%s %s', async (file, kind) => {
    totals.cases++;
    const target = path.join(sessionDir, file);
    const original = await readFile(target);
    await damage(kind, target, outside);
    const before = await listing(sessionDir);
    const outsideBefore = await listing(outside);

    const dir = await openDir();
    const error = await caught(loadAll(dir));
    if (kind === 'deleted' && MAY_BE_ABSENT.has(file)) {
      // Not detectable (a session may have no context), and no message depends on it.
      expect(error).toBeNull();
      expect(await loadAll(dir)).toEqual(ALL);
      totals.messagesChecked += ALL.length;
      expect(await listing(sessionDir)).toEqual(before);
      return;
    }

    // The error names the file and what to do.
    if (!isSessionError(error, 'CORRUPT_FILE'))
      throw new Error(`expected CORRUPT_FILE, got ${String(error)}`);
    const e: SessionError = error;
    expect(e.details.file).toBe(target);
    expect(e.message).toContain(target);
    expect(e.message).toContain('To recover');
    const aside = e.details.setAsideTo as string | null;

    // Nothing deleted or changed: the same entries and bytes, the damaged one moved aside at most.
    const after = await listing(sessionDir);
    const expected = new Map(before);
    if (aside !== null) {
      expect(path.dirname(aside)).toBe(path.dirname(target));
      expect(path.basename(aside)).toMatch(/\.corrupt-\d{8}T\d{9}Z$/);
      for (const [name, value] of before) {
        if (name === file || name.startsWith(`${file}/`)) {
          expected.delete(name);
          expected.set(path.relative(sessionDir, aside) + name.slice(file.length), value);
        }
      }
    }
    expect(after).toEqual(expected);
    expect(await listing(outside)).toEqual(outsideBefore);

    // Until a person acts, every later open refuses too.
    await closeAll();
    const later = await openDir();
    expect(isSessionError(await caught(loadAll(later)), 'CORRUPT_FILE')).toBe(true);
    expect(await listing(sessionDir)).toEqual(after);

    // Doing what the message says recovers without loss.
    if (kind === 'deleted' && (file === 'checkpoint.json' || file === 'session.json')) {
      expect(e.message).toContain('dagent-sessions repair');
      await later.repair(); // rebuilds it from the other files, no backup needed
    } else if (aside !== null && BYTE_DAMAGE.includes(kind)) {
      expect(e.message).toContain(`rename it back to ${path.basename(file)}`);
      await writeFile(aside, original); // "repair the copy" (here: its original bytes)
      await rename(aside, target);
    } else if (aside !== null) {
      expect(e.message).toContain('back in its place as a plain file');
      await rename(aside, path.join(outside, 'moved-out')); // "move it out of the session directory"
      await writeFile(target, original); // "put the session's own file back"
    } else {
      expect(e.message).toMatch(/restore|backup/i);
      await writeFile(target, original); // "restore it from a backup"
    }
    const recovered = await loadAll(later);
    totals.messagesChecked += ALL.length;
    totals.lost += ALL.filter((m) => !recovered.some((r) => JSON.stringify(r) === JSON.stringify(m))).length;
    expect(recovered).toEqual(ALL);
    const loaded = await later.load();
    expect(loaded.context).toEqual(CONTEXT);
    expect(loaded.agentDescription).toEqual(DESCRIPTION);
    expect(loaded.record.key).toEqual(KEY);
    if (file === 'checkpoint.json' && kind === 'deleted') {
      expect(loaded.checkpoint?.compactionInfo).toMatchObject({
        segment: 1,
        archivedThroughSeq: 3,
        archivedMessages: 4,
      });
    } else {
      expect(loaded.checkpoint).toEqual(checkpoint);
    }
    expect((await readdir(sessionDir)).filter((n) => n.includes('.corrupt-'))).toEqual([]);
  });
});
