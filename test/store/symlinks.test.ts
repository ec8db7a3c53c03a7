/**
 * Links are never followed out of the root: a chat.log or chat.json that is a symbolic link to a
 * file elsewhere, or a session directory that is a link to a directory elsewhere, stops the
 * session with `CORRUPT_FILE`, and the files out there are left byte for byte as they were.
 */
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const ID = 'feature--links--dev';

const message = (seq: number): Message => ({
  id: `m-${seq}`,
  seq,
  role: 'user',
  content: `message ${seq}`,
  timestamp: '2026-01-01T00:00:00.000Z',
  tokens: 3,
});

async function rejection(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSessionError(error)) throw new Error(`expected a SessionError, got ${String(error)}`);
  return error;
}

/** A root with one session of two messages, closed again. */
async function sessionRoot(): Promise<{ root: string; dir: string }> {
  const root = await tempRoot('dagent-links-');
  const store = await JsonFileSessionStore.open({ root, durable: false });
  const dir = store.session(ID);
  await dir.create({
    schemaVersion: 1,
    id: ID,
    key: { type: 'feature', agentType: 'dev', featureId: 'links' },
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
  });
  await dir.load();
  await dir.appendMessages([message(0), message(1)]);
  await dir.close();
  await store.close();
  return { root, dir: path.join(root, '.dagent', 'sessions', ID) };
}

/** Loads the session and tries an append; resolves to the errors of both. */
async function loadAndAppend(root: string): Promise<SessionError[]> {
  const store = await JsonFileSessionStore.open({ root, durable: false });
  const dir = store.session(ID);
  try {
    return [await rejection(dir.load()), await rejection(dir.appendMessages([message(2)]))];
  } finally {
    await dir.close();
    await store.close();
  }
}

describe('symbolic links in the store', () => {
  it.each(['chat.log', 'chat.json'])(
    '%s linked to a file outside the root: CORRUPT_FILE, the file untouched',
    async (name) => {
      const { root, dir } = await sessionRoot();
      const outside = path.join(await tempRoot('dagent-outside-'), 'precious.txt');
      await writeFile(outside, 'precious data\nthat is not ours\n');
      await rm(path.join(dir, name), { force: true });
      await symlink(outside, path.join(dir, name));
      const [loaded, appended] = await loadAndAppend(root);
      for (const error of [loaded!, appended!]) {
        expect(error.code).toBe('CORRUPT_FILE');
        expect(error.details).toMatchObject({ file: path.join(dir, name) });
        expect(error.message).toContain('symbolic link');
      }
      expect(await readFile(outside, 'utf8')).toBe('precious data\nthat is not ours\n');
    },
  );

  it('a session directory linked to a directory outside the root: CORRUPT_FILE, nothing there changed', async () => {
    const { root, dir } = await sessionRoot();
    const outside = path.join(await tempRoot('dagent-outside-'), ID);
    await cp(dir, outside, { recursive: true });
    await rm(dir, { recursive: true });
    await symlink(outside, dir);
    const before = await snapshotDir(outside);
    const [loaded, appended] = await loadAndAppend(root);
    for (const error of [loaded!, appended!]) {
      expect(error.code).toBe('CORRUPT_FILE');
      expect(error.message).toContain('outside the root');
    }
    expect(await snapshotDir(outside)).toEqual(before);
  });

  it('a session directory linked inside the root is followed', async () => {
    const { root, dir } = await sessionRoot();
    const moved = path.join(root, 'kept-elsewhere');
    await mkdir(moved);
    await cp(dir, path.join(moved, ID), { recursive: true });
    await rm(dir, { recursive: true });
    await symlink(path.join(moved, ID), dir);
    const store = await JsonFileSessionStore.open({ root, durable: false });
    const session = store.session(ID);
    expect((await session.load()).messages.map((m) => m.seq)).toEqual([0, 1]);
    await session.appendMessages([message(2)]);
    await session.close();
    await store.close();
  });
});
