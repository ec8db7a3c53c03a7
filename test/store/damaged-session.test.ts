/**
 * Damaged sessions seen through the runtime, as a host sees them (issue 9, items 3, 8, 10, 11 and
 * 16): a damaged or missing checkpoint never costs an archived message; a damaged or missing
 * segment is an error on every read and export until repaired; a session without its session.json
 * is damaged, not absent, and createSession refuses it instead of overwriting its files; a session
 * directory linked out of the root is refused; chat.json carries a checksum, and a malformed one is
 * CORRUPT_FILE.
 */
import { lstat, mkdir, readFile, readdir, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import type { Message, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'damaged' };
const ID = 'feature--damaged--dev';

async function open(root: string): Promise<SessionRuntime> {
  return createSessionRuntime({
    root,
    estimator: createTokenEstimator({ mode: 'approximate' }),
    limits: { maxTokens: 4_000 },
  });
}

/** A session of 40 messages, compacted three times (three segments) and closed. */
async function compactedSession(): Promise<{ root: string; dir: string; history: Message[] }> {
  const root = await tempRoot();
  const runtime = await open(root);
  const { id } = await runtime.createSession(KEY, { context: { featureName: 'Damage' } });
  for (let i = 0; i < 40; i++) {
    await runtime.addMessage(id, {
      role: i % 2 ? 'assistant' : 'user',
      content: `message ${i}: ${'word '.repeat(60)}`,
    });
    if (i % 12 === 11) await runtime.compact(id, { keepRecentTokens: 200 });
  }
  const history = await runtime.getHistory(id);
  await runtime.close();
  const dir = path.join(root, '.dagent', 'sessions', ID);
  expect((await readdir(path.join(dir, 'archive'))).length).toBeGreaterThanOrEqual(3);
  return { root, dir, history };
}

async function failure(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isSessionError(error)) throw new Error(`expected a SessionError, got ${String(error)}`);
  return error;
}

describe('a damaged or missing checkpoint never deletes the archive (item 3)', () => {
  it('damaged, set aside, and the .corrupt file deleted as the old message advised: every segment stays', async () => {
    const { root, dir } = await compactedSession();
    const segments = await snapshotDir(path.join(dir, 'archive'));
    await writeFile(path.join(dir, 'checkpoint.json'), '{"version": 3, "summ');
    let runtime = await open(root);
    const error = await failure(runtime.getHistory(ID));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).not.toMatch(/delete the \.corrupt-\* file to accept the loss/);
    expect(error.message).toContain('dagent-sessions repair');
    await runtime.close();
    // What the old message advised: delete the set-aside file and reopen.
    for (const name of await readdir(dir)) if (name.includes('.corrupt-')) await unlink(path.join(dir, name));
    runtime = await open(root);
    const again = await failure(runtime.getHistory(ID));
    expect(again.code).toBe('CORRUPT_FILE');
    expect(again.message).toContain(path.join(dir, 'checkpoint.json'));
    await runtime.close();
    expect(await snapshotDir(path.join(dir, 'archive'))).toEqual(segments);
  });

  it('missing: CORRUPT_FILE, not a fresh session; nothing deleted; repair brings every message back', async () => {
    const { root, dir, history } = await compactedSession();
    await unlink(path.join(dir, 'checkpoint.json'));
    const before = await snapshotDir(dir);
    let runtime = await open(root);
    expect((await failure(runtime.getMessages(ID))).code).toBe('CORRUPT_FILE');
    expect((await failure(runtime.addMessage(ID, { role: 'user', content: 'x' }))).code).toBe('CORRUPT_FILE');
    await runtime.close();
    expect(await snapshotDir(dir)).toEqual(before);
    const { JsonFileSessionStore } = await import('../../src/store/session-store.js');
    const store = await JsonFileSessionStore.open({ root });
    await store.session(ID).repair();
    await store.close();
    runtime = await open(root);
    expect(await runtime.getHistory(ID)).toEqual(history);
    await runtime.close();
  });
});

describe('a damaged or missing segment is an error on every read until repaired (item 8)', () => {
  it('damaged while the session is loaded: every getHistory and export fails, not just the first', async () => {
    const { root, dir, history } = await compactedSession();
    const runtime = await open(root);
    expect(await runtime.getHistory(ID)).toEqual(history); // loaded
    const second = path.join(dir, 'archive', '000002.json');
    const bytes = await readFile(second);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] = flipped[Math.floor(bytes.length / 2)]! ^ 0x02;
    await writeFile(second, flipped);
    for (let i = 0; i < 3; i++) {
      expect((await failure(runtime.getHistory(ID))).code).toBe('CORRUPT_FILE');
      expect((await failure(runtime.exportSession(ID))).code).toBe('CORRUPT_FILE');
    }
    // Repaired (the set-aside copy fixed and renamed back): whole again.
    const aside = (await readdir(path.join(dir, 'archive'))).find((n) => n.includes('.corrupt-'))!;
    await writeFile(path.join(dir, 'archive', aside), bytes);
    await rename(path.join(dir, 'archive', aside), second);
    expect(await runtime.getHistory(ID)).toEqual(history);
    await runtime.close();
  });

  it('deleted: noticed on load and on every read', async () => {
    const { root, dir, history } = await compactedSession();
    const runtime = await open(root);
    expect(await runtime.getHistory(ID)).toEqual(history);
    const first = path.join(dir, 'archive', '000001.json');
    const bytes = await readFile(first);
    await unlink(first);
    for (let i = 0; i < 2; i++) {
      const error = await failure(runtime.getHistory(ID));
      expect(error.code).toBe('CORRUPT_FILE');
      expect(error.details.file).toBe(first);
    }
    await runtime.close();
    const later = await open(root);
    expect((await failure(later.getSession(ID))).code).toBe('CORRUPT_FILE');
    await later.close();
    await writeFile(first, bytes);
    const restored = await open(root);
    expect(await restored.getHistory(ID)).toEqual(history);
    await restored.close();
  });
});

describe('a session without a readable session.json is damaged, not absent (item 10)', () => {
  it.each(['damaged', 'deleted'] as const)(
    'session.json %s: CORRUPT_FILE (never SESSION_NOT_FOUND), and createSession overwrites nothing',
    async (how) => {
      const { root, dir, history } = await compactedSession();
      const target = path.join(dir, 'session.json');
      const saved = await readFile(target);
      if (how === 'damaged') await writeFile(target, saved.subarray(0, 40));
      else await unlink(target);
      let runtime = await open(root);
      const error = await failure(runtime.getSession(ID));
      expect(error.code).toBe('CORRUPT_FILE');
      expect(error.message).not.toContain('create it with createSession');
      const before = await snapshotDir(dir);
      const refused = await failure(runtime.createSession(KEY, { context: { featureName: 'overwritten?' } }));
      expect(refused.code).toBe('CORRUPT_FILE');
      expect(refused.message).toContain('dagent-sessions repair');
      expect(await snapshotDir(dir)).toEqual(before);
      // Listed with the reason, and figures not read from its files.
      expect((await runtime.listSessions()).find((s) => s.id === ID)).toMatchObject({
        error: { code: 'CORRUPT_FILE' },
        figures: 'unconfirmed',
      });
      await runtime.close();
      // The advice: restore it (here, the saved bytes), and the session is whole.
      for (const name of await readdir(dir))
        if (name.includes('.corrupt-')) await unlink(path.join(dir, name));
      await writeFile(target, saved);
      runtime = await open(root);
      expect(await runtime.getHistory(ID)).toEqual(history);
      expect(await runtime.getContext(ID)).toEqual({ featureName: 'Damage' });
      await runtime.close();
    },
  );
});

describe('a session directory linked out of the root is refused (item 11)', () => {
  it('neither loaded nor created, and nothing outside the root is touched', async () => {
    const { root, dir } = await compactedSession();
    const elsewhere = path.join(await tempRoot(), 'moved-session');
    await rename(dir, elsewhere);
    await symlink(elsewhere, dir);
    const outside = await snapshotDir(elsewhere);
    const runtime = await open(root);
    const error = await failure(runtime.getSession(ID));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toContain('outside the root');
    expect((await failure(runtime.createSession(KEY))).code).toBe('CORRUPT_FILE');
    const other: SessionKey = { type: 'feature', agentType: 'pm', featureId: 'linked' };
    const otherDir = path.join(root, '.dagent', 'sessions', 'feature--linked--pm');
    const empty = path.join(await tempRoot(), 'empty');
    await mkdir(empty);
    await symlink(empty, otherDir);
    expect((await failure(runtime.createSession(other))).code).toBe('CORRUPT_FILE');
    await runtime.close();
    expect(await snapshotDir(elsewhere)).toEqual(outside);
    expect(await readdir(empty)).toEqual([]);
    expect((await lstat(dir)).isSymbolicLink()).toBe(true);
  });
});

describe('chat.json: a checksum, and CORRUPT_FILE for damage (item 16)', () => {
  it('a bit flip that still parses is caught by the checksum, naming chat.json', async () => {
    const { root, dir } = await compactedSession();
    const chat = path.join(dir, 'chat.json');
    const text = await readFile(chat, 'utf8');
    expect(text).toMatch(/^\{"\$crc32":"[0-9a-f]{8}",/);
    await writeFile(chat, text.replace('message 3', 'massage 3').replace('"word ', '"ward '));
    const runtime = await open(root);
    const error = await failure(runtime.getMessages(ID));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toContain(chat); // the runtime passes code and message on
    await runtime.close();
  });

  it('a malformed message in chat.json is CORRUPT_FILE naming it, not COMPACTOR_FAILED', async () => {
    const { root, dir } = await compactedSession();
    const chat = path.join(dir, 'chat.json');
    const value = JSON.parse((await readFile(chat, 'utf8')).replace(/^\{"\$crc32":"[0-9a-f]{8}",/, '{')) as {
      messages: unknown[];
    };
    value.messages[1] = null; // a hand edit gone wrong: no checksum, valid JSON
    await writeFile(chat, JSON.stringify(value));
    const runtime = await open(root);
    for (const call of [
      () => runtime.compact(ID),
      () => runtime.buildRequest(ID, 'hi'),
      () => runtime.getHistory(ID),
    ]) {
      const error = await failure(call());
      expect(error.code).toBe('CORRUPT_FILE');
      expect(error.message).toContain(chat);
    }
    await runtime.close();
  });

  it('old files without a checksum still load', async () => {
    const { root, dir, history } = await compactedSession();
    for (const name of ['chat.json', 'checkpoint.json', 'session.json', 'archive/000001.json']) {
      const file = path.join(dir, name);
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.replace(/^\{"\$crc32":"[0-9a-f]{8}",?/, '{'));
    }
    const runtime = await open(root);
    expect(await runtime.getHistory(ID)).toEqual(history);
    await runtime.close();
  });
});
