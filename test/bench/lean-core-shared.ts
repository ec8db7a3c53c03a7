/**
 * What the lean-core benchmark and its child processes share: realistic messages cut from the
 * shared transcripts, percentiles, the store layer reached through whichever API the tree under
 * test has (the store contract's `create`/`append`, or the older `session(id)` directory), and the
 * peers (plain JSONL + fdatasync, better-sqlite3 in WAL with `synchronous=FULL`).
 *
 * The benchmark is run on older trees too (copied into a worktree of `baseline-stop8`), so it
 * imports only modules that exist there and feature-tests the rest.
 */
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, readdir, rm, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionIdOf } from '../../src/core/ids.js';
import type { Message, SessionKey, SessionRecord } from '../../src/core/types.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PROJECT = path.resolve(HERE, '../..');
/** The shared transcripts: `../shared/transcripts` beside the project, or `$DAGENT_TRANSCRIPTS`. */
export const TRANSCRIPTS = process.env.DAGENT_TRANSCRIPTS ?? path.resolve(PROJECT, '../shared/transcripts');

/** Real text to cut messages from: the shared transcripts, or generated words without them. */
export async function realText(): Promise<string> {
  const names = (await readdir(TRANSCRIPTS).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  const parts: string[] = [];
  for (const name of names.sort()) {
    const data = JSON.parse(await readFile(path.join(TRANSCRIPTS, name), 'utf8')) as {
      messages: { content: string }[];
    };
    for (const m of data.messages) parts.push(m.content);
  }
  const text = parts.join('\n');
  if (text.length > 0) return text;
  console.error(`[bench] ${TRANSCRIPTS} is absent: messages are generated words (set DAGENT_TRANSCRIPTS)`);
  return Array.from({ length: 50_000 }, (_, i) => `word${i} edits file${i % 97}.ts; `).join('');
}

/** `count` distinct texts of `bytes` characters each, cut from `source` at different places. */
export function textsOf(source: string, bytes: number, count: number): string[] {
  const texts: string[] = [];
  const stride = Math.max(1, Math.floor((source.length - bytes) / Math.max(1, count)));
  for (let i = 0; i < count; i++) {
    const start = (i * stride) % Math.max(1, source.length - bytes);
    texts.push(source.slice(start, start + bytes).padEnd(bytes, '.'));
  }
  return texts;
}

/** A stored message as the store layer takes it (seq and tokens set). */
export function storedMessage(seq: number, content: string): Message {
  return {
    id: `msg-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1_000).toISOString(),
    tokens: Math.ceil(content.length / 4),
  };
}

export function keyOf(featureId: string): SessionKey {
  return { type: 'feature', agentType: 'dev', featureId };
}

export function recordOf(key: SessionKey): SessionRecord {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    schemaVersion: 1,
    id: sessionIdOf(key),
    key,
    createdAt: at,
    updatedAt: at,
    status: 'active',
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
  };
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

export async function tempDir(prefix = 'dagent-lean-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The store layer of the tree under test: create a session, append to it, close. */
export interface StoreLayer {
  create(key: SessionKey): Promise<string>;
  append(id: string, messages: readonly Message[]): Promise<void>;
  close(): Promise<void>;
}

interface ContractLike {
  create(record: SessionRecord, files: object): Promise<unknown>;
  append(id: string, messages: readonly Message[]): Promise<void>;
  close(): Promise<void>;
}

/** Opens the JSON-file store of the tree under test, through its contract when it has one. */
export async function openStoreLayer(
  root: string,
  options: { foldMinBytes?: number } = {},
): Promise<StoreLayer> {
  const store = await JsonFileSessionStore.open({ root, ...options });
  const contract = store as unknown as Partial<ContractLike>;
  if (typeof contract.append === 'function' && typeof contract.create === 'function') {
    const c = contract as ContractLike;
    return {
      async create(key) {
        const record = recordOf(key);
        await c.create(record, {});
        return record.id;
      },
      append: (id, messages) => c.append(id, messages),
      close: () => c.close(),
    };
  }
  // Older trees: one SessionDirectory per session.
  const legacy = store as unknown as {
    session(id: string): {
      create(r: SessionRecord): Promise<void>;
      load(): Promise<unknown>;
      appendMessages(m: readonly Message[]): Promise<void>;
      close(): Promise<void>;
    };
    close(): Promise<void>;
  };
  const dirs = new Map<string, ReturnType<typeof legacy.session>>();
  return {
    async create(key) {
      const record = recordOf(key);
      const dir = legacy.session(record.id);
      await dir.create(record);
      await dir.load();
      dirs.set(record.id, dir);
      return record.id;
    },
    append: (id, messages) => dirs.get(id)!.appendMessages(messages),
    async close() {
      for (const dir of dirs.values()) await dir.close();
      await legacy.close();
    },
  };
}

// ---- peers ---------------------------------------------------------------------------------------

/** A JSONL file per session: one line per message, one write + fdatasync per append. */
export async function openJsonl(file: string): Promise<{
  append(lines: readonly string[]): Promise<void>;
  handle: FileHandle;
  close(): Promise<void>;
}> {
  const handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  let tail: Promise<unknown> = Promise.resolve();
  return {
    handle,
    append(lines) {
      const run = tail.then(async () => {
        await handle.write(Buffer.from(lines.map((l) => `${l}\n`).join('')));
        await handle.datasync();
      });
      tail = run.catch(() => undefined);
      return run;
    },
    close: () => handle.close(),
  };
}

/** better-sqlite3's Database, when it is installed and built (a devDependency). */
export type SqliteDatabase = {
  pragma(text: string): unknown;
  exec(sql: string): unknown;
  prepare(sql: string): { run(...args: unknown[]): unknown; all(...args: unknown[]): unknown[] };
  transaction<T extends (...args: never[]) => unknown>(fn: T): T;
  close(): void;
};

/** Opens a SQLite database in WAL mode with `synchronous=FULL`, or null without better-sqlite3. */
export function openSqlite(file: string): SqliteDatabase | null {
  try {
    const require = createRequire(import.meta.url);
    const Database = require('better-sqlite3') as new (file: string) => SqliteDatabase;
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(
      'CREATE TABLE IF NOT EXISTS messages (session TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, ' +
        'PRIMARY KEY (session, seq))',
    );
    return db;
  } catch {
    return null;
  }
}

/**
 * The floor, sampled between the runs it is compared with (the disk is shared, so a floor taken
 * at another moment is not comparable): one write + fdatasync of `bytes` bytes per `sample()`.
 */
export async function openFloor(
  dir: string,
  bytes: number,
): Promise<{
  sample(): Promise<void>;
  p50(): number;
  close(): Promise<void>;
}> {
  const handle = await open(path.join(dir, `floor-${bytes}-${Math.random().toString(36).slice(2)}`), 'a');
  const buffer = Buffer.alloc(bytes, 'x');
  const samples: number[] = [];
  return {
    async sample() {
      const t0 = performance.now();
      await handle.write(buffer);
      await handle.datasync();
      samples.push(performance.now() - t0);
    },
    p50: () => percentile(samples, 0.5),
    close: () => handle.close(),
  };
}

/**
 * The floor of creating something durably: a new file written and fdatasynced, then its
 * directory fsynced (the two syncs any new durable file needs, one after the other), per `sample()`.
 */
export async function openCreateFloor(
  dir: string,
  bytes: number,
): Promise<{
  sample(): Promise<void>;
  p50(): number;
}> {
  const buffer = Buffer.alloc(bytes, 'x');
  const samples: number[] = [];
  let n = 0;
  return {
    async sample() {
      const t0 = performance.now();
      const handle = await open(path.join(dir, `create-floor-${n++}`), 'wx');
      try {
        await handle.write(buffer);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await syncDir(dir);
      samples.push(performance.now() - t0);
    },
    p50: () => percentile(samples, 0.5),
  };
}

/** fsync of a directory (its entries durable). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
