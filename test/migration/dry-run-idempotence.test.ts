import { appendFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateAll, migratePMChat } from '../../src/migration/migrate.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { FIXTURES, VALID_FILES, placeLegacy, validRoot } from './legacy-fixtures.js';

async function histories(root: string): Promise<Record<string, unknown[]>> {
  const runtime = await createSessionRuntime({ root, readOnly: true });
  const out: Record<string, unknown[]> = {};
  for (const s of await runtime.listSessions()) out[s.id] = await runtime.getHistory(s.id);
  await runtime.close();
  return out;
}

describe('dry run', () => {
  it('writes nothing and reports exactly what the real run then does', async () => {
    const root = await validRoot();
    await placeLegacy(root, 'pm', { fixture: 'pm-mixed.json' }, { featureId: 'mixed' });
    await placeLegacy(root, 'dev', { fixture: 'dev-mixed.json' }, { featureId: 'mixed', taskId: 'bad' });
    const before = await snapshotDir(root);

    const dry = await migrateAll(root, { dryRun: true, skipInvalid: true });
    expect(await snapshotDir(root)).toEqual(before);
    expect(dry).toMatchObject({ dryRun: true, migrationId: null, manifest: null, ok: true });
    expect(
      dry.files.every((f) => f.status === 'would-migrate' && f.backup !== null && f.seqRange === null),
    ).toBe(true);

    const real = await migrateAll(root, { skipInvalid: true });
    expect(real.totals).toEqual(dry.totals);
    expect(real.totals).toMatchObject({
      filesFound: 7,
      sessionsCreated: 7,
      backupsWritten: 7,
      messagesMigrated: 32 + 4 + 3,
      entriesSkipped: 3 + 6,
    });
    expect(real.files.map((f) => [f.file, f.messages, f.skipped, f.sessionCreated, f.checkpoint])).toEqual(
      dry.files.map((f) => [
        f.file,
        f.messages,
        f.skipped,
        f.sessionCreated,
        f.checkpoint === 'would-make' ? 'made' : f.checkpoint,
      ]),
    );
  });

  it('reports invalid files, conflicts and already migrated files the way the real run does', async () => {
    const root = await validRoot();
    await placeLegacy(root, 'pm', { fixture: 'pm-malformed-json.json' }, { featureId: 'broken' });
    await migratePMChat(root, 'search');
    const before = await snapshotDir(root);
    const dry = await migrateAll(root, { dryRun: true });
    expect(await snapshotDir(root)).toEqual(before);
    const real = await migrateAll(root);
    expect(real.files.map((f) => [f.file, f.status === 'migrated' ? 'would-migrate' : f.status])).toEqual(
      dry.files.map((f) => [f.file, f.status]),
    );
    expect(real.totals).toEqual(dry.totals);
    expect(real.totals).toMatchObject({
      filesFound: 6,
      alreadyMigrated: 1,
      filesWithProblems: 1,
      sessionsCreated: 4,
    });
  });
});

describe('running the migration again', () => {
  it('is idempotent: no new session, message, backup or manifest', async () => {
    const root = await validRoot();
    const first = await migrateAll(root);
    const sessionsBefore = await histories(root);
    const files = await readdir(path.join(root, '.dagent/features/checkout'));

    const again = await migrateAll(root);
    expect(again.files.map((f) => f.status)).toEqual(VALID_FILES.map(() => 'already-migrated'));
    expect(again.files[0]!.reason).toContain(`already migrated by ${first.migrationId}`);
    expect(again).toMatchObject({ ok: true, migrationId: null });
    expect(again.totals).toMatchObject({
      sessionsCreated: 0,
      messagesMigrated: 0,
      backupsWritten: 0,
      alreadyMigrated: 5,
    });
    expect(await histories(root)).toEqual(sessionsBefore);
    expect(await readdir(path.join(root, '.dagent/features/checkout'))).toEqual(files);
    expect(await readdir(path.join(root, '.dagent/migrations'))).toEqual([`${first.migrationId}.json`]);
  });

  it(
    'a legacy file changed after its migration is a ' +
      'conflict that says what to do; nothing is duplicated',
    async () => {
      const root = await validRoot();
      const first = await migratePMChat(root, 'search');
      const chat = path.join(root, '.dagent/features/search/chat.json');
      const value = JSON.parse(await readFile(chat, 'utf8')) as { entries: unknown[] };
      value.entries.push({ role: 'user', content: 'one more', timestamp: '2024-06-11T10:00:00Z' });
      await writeFile(chat, JSON.stringify(value));
      const before = await histories(root);

      const again = await migratePMChat(root, 'search');
      expect(again.ok).toBe(false);
      expect(again.files[0]).toMatchObject({ status: 'conflict', messages: 0, backup: null });
      expect(again.files[0]!.reason).toContain(`changed since migration ${first.migrationId}`);
      expect(again.files[0]!.reason).toContain(`--rollback ${first.migrationId}`);
      expect(await histories(root)).toEqual(before);
    },
  );

  it('refuses to merge into a session that already holds messages, writing nothing', async () => {
    const root = await validRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: 'search' });
    await runtime.addMessage(id, { role: 'user', content: 'a conversation started in sessions' });
    const before = await snapshotDir(path.join(root, '.dagent/features'));
    const report = await migratePMChat(root, 'search', { runtime });
    expect(report.files[0]).toMatchObject({ status: 'conflict', backup: null });
    expect(report.files[0]!.reason).toMatch(/already exists with 1 messages.*never merges/);
    expect(report.migrationId).toBeNull();
    expect(await snapshotDir(path.join(root, '.dagent/features'))).toEqual(before);
    expect(await runtime.getHistory(id)).toHaveLength(1);
    await runtime.close();
  });

  it(
    'migrates into an existing empty session (created ' +
      'by the host with its context), keeping that context',
    async () => {
      const root = await validRoot();
      const runtime = await createSessionRuntime({ root });
      const key = {
        type: 'task',
        agentType: 'dev',
        featureId: 'search',
        taskId: 'indexer',
        taskState: 'in_dev',
      } as const;
      const { id } = await runtime.createSession(key, { context: { taskTitle: 'Build the indexer' } });
      const report = await migrateAll(root, { runtime });
      const file = report.files.find((f) => f.sessionId === id)!;
      expect(file).toMatchObject({ status: 'migrated', sessionCreated: false, messages: 6 });
      expect(report.totals.sessionsCreated).toBe(4);
      expect(await runtime.getContext(id)).toMatchObject({
        taskTitle: 'Build the indexer',
        legacySession: { agentId: 'dev-agent-3' },
      });
      expect(await runtime.getHistory(id)).toHaveLength(6);
      await runtime.close();
    },
  );
});

describe('ids that cannot name a session', () => {
  it('reports the file and writes nothing for it', async () => {
    const root = await tempRoot('dagent-migration-');
    const valid = await readFile(path.join(FIXTURES, 'valid/.dagent/features/search/chat.json'), 'utf8');
    await placeLegacy(root, 'pm', { text: valid }, { featureId: 'bad--id' });
    await placeLegacy(root, 'pm', { text: valid }, { featureId: 'has space' });
    await placeLegacy(
      root,
      'dev',
      {
        text: await readFile(
          path.join(FIXTURES, 'valid/.dagent/features/search/nodes/indexer/session.json'),
          'utf8',
        ),
      },
      { featureId: 'ok', taskId: '__proto__' },
    );
    const before = await snapshotDir(root);
    const report = await migrateAll(root);
    expect(report.files.map((f) => [f.file, f.status, f.sessionId])).toEqual([
      ['.dagent/features/bad--id/chat.json', 'invalid', null],
      ['.dagent/features/has space/chat.json', 'invalid', null],
      ['.dagent/features/ok/nodes/__proto__/session.json', 'invalid', null],
    ]);
    expect(report.files[0]!.reason).toMatch(
      /featureId "bad--id" must not contain "--".*Rename its directory/,
    );
    expect(report.files[1]!.reason).toMatch(/may only contain letters, digits/);
    expect(report.files[2]!.reason).toMatch(/taskId "__proto__" is a reserved name/);
    expect(report.totals.filesWithProblems).toBe(3);
    expect(await snapshotDir(root)).toEqual(before);
  });

  it('never reads outside the features directory', async () => {
    const root = await tempRoot('dagent-migration-');
    await mkdir(path.join(root, '.dagent'), { recursive: true });
    await appendFile(path.join(root, '.dagent/chat.json'), '{"entries":[]}');
    const report = await migratePMChat(root, '..');
    expect(report.files[0]).toMatchObject({ status: 'invalid', sessionId: null, entries: 0 });
  });
});
