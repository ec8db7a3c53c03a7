import { cp, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadChat, saveChat, type LegacyChat } from '../../src/compat/legacy-chat.js';
import { isSessionError } from '../../src/core/errors.js';
import { migrateAll } from '../../src/migration/migrate.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { FIXTURES, placeLegacy, validRoot } from './legacy-fixtures.js';

const CHAT = '.dagent/features/checkout/chat.json';
const legacyChat = async (root: string) =>
  JSON.parse(await readFile(path.join(root, CHAT), 'utf8')) as LegacyChat;

afterEach(() => {
  vi.restoreAllMocks();
});

// The first test of this file must be the first call of the deprecated functions in the process.
describe('the deprecated legacy chat layer', () => {
  it('warns once per process, with code DAGENT_DEPRECATED and a pointer to the migration doc', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const root = await validRoot();
    await loadChat(root, 'checkout');
    await loadChat(root, 'search');
    await saveChat(root, 'search', await loadChat(root, 'search'));
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, options] = warn.mock.calls[0] as [string, { type: string; code: string }];
    expect(message).toMatch(/loadChat\(\).*deprecated.*docs\/migration\.md/);
    expect(options).toMatchObject({ type: 'DeprecationWarning', code: 'DAGENT_DEPRECATED' });
  });

  it(
    'loadChat reads the legacy file before migration and ' +
      'the session after, identically; reading writes nothing',
    async () => {
      const root = await validRoot();
      const before = await snapshotDir(root);
      const unmigrated = await loadChat(root, 'checkout');
      expect(await snapshotDir(root)).toEqual(before);
      expect(unmigrated).toEqual(await legacyChat(root));
      await migrateAll(root);
      expect(await loadChat(root, 'checkout')).toEqual(await legacyChat(root));
      expect(await loadChat(root, 'no-such-feature')).toEqual({ entries: [] });
    },
  );

  it(
    "loadChat finds a PM chat in DAGent's layouts, " +
      "or DAGent's own PM session when there is no chat.json",
    async () => {
      const root = await tempRoot('dagent-compat-');
      await cp(path.join(FIXTURES, 'dagent'), root, { recursive: true });
      const wt = '.dagent-worktrees/feature-checkout/.dagent';
      const chat = JSON.parse(await readFile(path.join(root, wt, 'chat.json'), 'utf8')) as LegacyChat;
      expect(await loadChat(root, 'feature-checkout')).toEqual(chat);
      expect((await loadChat(root, 'feature-export')).entries).toHaveLength(2); // .dagent/features/backlog/
      await rm(path.join(root, wt, 'chat.json'));
      const own = await loadChat(root, 'feature-checkout');
      // DAGent's session holds the 4 copied entries and 2 new user/assistant messages (its system
      // message has no legacy form).
      expect(own.entries.map((e) => e.content)).toEqual([
        ...chat.entries.map((e) => e.content),
        'Add Apple Pay as well.',
        'Added task-applepay after task-pay.',
      ]);
    },
  );

  it('saveChat appends new entries through the session; loadChat gives them back (round trip)', async () => {
    const root = await validRoot();
    await migrateAll(root);
    const chat = await loadChat(root, 'checkout');
    chat.entries.push({
      role: 'user',
      content: 'Ship it on Friday.',
      timestamp: '2024-05-04T10:00:00Z',
      media: ['release-notes.md'],
    });
    chat.entries.push({ role: 'assistant', content: 'Scheduled.', timestamp: '2024-05-04T10:00:05Z' });
    expect(await saveChat(root, 'checkout', chat)).toEqual({ appended: 2 });
    expect(await saveChat(root, 'checkout', chat)).toEqual({ appended: 0 });
    expect(await loadChat(root, 'checkout')).toEqual(chat);

    const runtime = await createSessionRuntime({ root, readOnly: true });
    const history = await runtime.getHistory('feature--checkout--pm');
    expect(history).toHaveLength(9);
    expect(history[7]).toMatchObject({
      role: 'user',
      content: 'Ship it on Friday.',
      timestamp: '2024-05-04T10:00:00Z',
      metadata: { media: ['release-notes.md'], savedBy: 'saveChat' },
    });
    await runtime.close();
  });

  it('saveChat migrates an unmigrated legacy chat first (with its backup), then appends', async () => {
    const root = await validRoot();
    const chat = await loadChat(root, 'search');
    chat.entries.push({ role: 'user', content: 'and facets', timestamp: '2024-06-11T09:00:00Z' });
    expect(await saveChat(root, 'search', chat)).toEqual({ appended: 1 });
    expect(
      (await readdir(path.join(root, '.dagent/features/search'))).some((f) =>
        f.startsWith('chat.json.backup-'),
      ),
    ).toBe(true);
    expect(await loadChat(root, 'search')).toEqual(chat);
    // A feature without any chat yet gets a new session.
    expect(
      await saveChat(root, 'fresh', {
        entries: [{ role: 'user', content: 'hello', timestamp: '2024-06-11T09:00:00Z' }],
      }),
    ).toEqual({ appended: 1 });
  });

  it('saveChat refuses to drop or rewrite entries the session holds, and invalid chats', async () => {
    const root = await validRoot();
    await migrateAll(root);
    const chat = await loadChat(root, 'checkout');
    const shorter = await saveChat(root, 'checkout', { entries: chat.entries.slice(1) }).catch(
      (e: unknown) => e,
    );
    expect(isSessionError(shorter, 'INVALID_ARGUMENT')).toBe(true);
    expect((shorter as Error).message).toMatch(
      /holds 7 entries and the chat to save has 6: saveChat only appends/,
    );
    const rewritten = {
      entries: chat.entries.map((e, i) => (i === 2 ? { ...e, timestamp: '2030-01-01T00:00:00Z' } : e)),
    };
    expect(((await saveChat(root, 'checkout', rewritten).catch((e: unknown) => e)) as Error).message).toMatch(
      /entry 2 of the chat to save .* is not the one the session holds/,
    );
    const invalid = await saveChat(root, 'checkout', {
      entries: [{ role: 'robot', content: 'x', timestamp: 'now' }],
    } as never).catch((e: unknown) => e);
    expect(isSessionError(invalid, 'INVALID_ARGUMENT')).toBe(true);
    expect((invalid as Error).message).toMatch(
      /entries\[0\]\.role must be "user" or "assistant".*entries\[0\]\.timestamp/,
    );
    expect(await loadChat(root, 'checkout')).toEqual(chat);
  });

  it('works through the host runtime, and reports a corrupt unmigrated file', async () => {
    const root = await tempRoot('dagent-compat-');
    await placeLegacy(root, 'pm', { fixture: 'pm-mixed.json' });
    const corrupt = await loadChat(root, 'f1').catch((e: unknown) => e);
    expect(isSessionError(corrupt, 'CORRUPT_FILE')).toBe(true);
    expect((corrupt as Error).message).toMatch(/entries\[1\]\.content must be a string/);

    const runtime = await createSessionRuntime({ root });
    const chat = { entries: [{ role: 'user' as const, content: 'hi', timestamp: '2024-01-01T00:00:00Z' }] };
    expect(await saveChat(root, 'f2', chat, { runtime })).toEqual({ appended: 1 });
    expect(await loadChat(root, 'f2', { runtime })).toEqual(chat);
    await runtime.close();
  });
});
