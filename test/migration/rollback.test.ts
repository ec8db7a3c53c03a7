import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import { readManifest } from '../../src/migration/manifest.js';
import { migrateAll, migratePMChat } from '../../src/migration/migrate.js';
import { rollbackMigration } from '../../src/migration/rollback.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { exists, snapshotDir } from '../helpers/temp-root.js';
import { SESSION_OF, VALID_FILES, validRoot } from './legacy-fixtures.js';

async function sessionIds(root: string): Promise<string[]> {
  const runtime = await createSessionRuntime({ root, readOnly: true });
  const ids = (await runtime.listSessions()).map((s) => s.id);
  await runtime.close();
  return ids;
}

describe('rollbackMigration', () => {
  it(
    'restores the state before the migration: sessions moved ' +
      'aside (not deleted), originals identical, backups kept',
    async () => {
      const root = await validRoot();
      const features = await snapshotDir(path.join(root, '.dagent/features'));
      const report = await migrateAll(root);
      const id = report.migrationId!;

      const rollback = await rollbackMigration(root);
      expect(rollback.migrationId).toBe(id);
      expect(rollback.sessionsRemoved.map((s) => s.sessionId).sort()).toEqual(
        Object.values(SESSION_OF).sort(),
      );
      expect(rollback.originalsUnchanged.sort()).toEqual([...VALID_FILES].sort());
      expect(rollback.originalsRestored).toEqual([]);
      expect(await sessionIds(root)).toEqual([]);

      // Nothing deleted: every session directory is under the migration's rolled-back/ with its messages.
      const moved = await readdir(path.join(root, '.dagent/migrations', id, 'rolled-back'));
      expect(moved.sort()).toEqual(Object.values(SESSION_OF).sort());
      expect(
        await exists(
          path.join(root, '.dagent/migrations', id, 'rolled-back', 'feature--checkout--pm', 'session.json'),
        ),
      ).toBe(true);

      // Originals byte-identical; backups kept beside them.
      const after = await snapshotDir(path.join(root, '.dagent/features'));
      for (const [file, bytes] of Object.entries(features)) expect(after[file]).toBe(bytes);
      for (const f of report.files) expect(await exists(path.join(root, f.backup!))).toBe(true);
      expect(Object.keys(after).length).toBe(Object.keys(features).length + 5);
      expect(await readManifest(root, id)).toMatchObject({ status: 'rolled-back' });

      // It can be migrated again, and the rollback is not repeated.
      const again = await migrateAll(root);
      expect(again.totals).toMatchObject({ sessionsCreated: 5, messagesMigrated: 32, alreadyMigrated: 0 });
      expect((await rollbackMigration(root)).migrationId).toBe(again.migrationId);
      const twice = await rollbackMigration(root, { migrationId: id }).catch((e: unknown) => e);
      expect(isSessionError(twice, 'INVALID_ARGUMENT')).toBe(true);
      expect((twice as Error).message).toMatch(/already rolled back/);
    },
  );

  it('restores a changed or deleted original from its backup, keeping the changed file aside', async () => {
    const root = await validRoot();
    const chat = path.join(root, '.dagent/features/checkout/chat.json');
    const dev = path.join(root, '.dagent/features/search/nodes/indexer/session.json');
    const originalChat = await readFile(chat);
    const originalDev = await readFile(dev);
    await migrateAll(root);
    await writeFile(chat, '{"entries": "edited after the migration"}');
    await rm(dev);

    const rollback = await rollbackMigration(root);
    expect(rollback.originalsRestored.map((o) => o.file).sort()).toEqual([
      '.dagent/features/checkout/chat.json',
      '.dagent/features/search/nodes/indexer/session.json',
    ]);
    const changed = rollback.originalsRestored.find((o) => o.file.endsWith('checkout/chat.json'))!;
    expect(changed.keptAsideAs).toMatch(/^\.dagent\/features\/checkout\/chat\.json\.changed-\d{8}T\d{9}Z$/);
    expect(await readFile(path.join(root, changed.keptAsideAs!), 'utf8')).toBe(
      '{"entries": "edited after the migration"}',
    );
    expect(await readFile(chat)).toEqual(originalChat);
    expect(await readFile(dev)).toEqual(originalDev);
    expect(rollback.originalsRestored.find((o) => o.file.endsWith('session.json'))!.keptAsideAs).toBeNull();
  });

  it('puts back a session that existed empty before the migration, as it was', async () => {
    const root = await validRoot();
    let runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(
      { type: 'feature', agentType: 'pm', featureId: 'search' },
      { context: { featureName: 'Search' } },
    );
    await runtime.close();
    const before = await snapshotDir(path.join(root, '.dagent/sessions', id));
    await migratePMChat(root, 'search');
    const rollback = await rollbackMigration(root);
    expect(rollback.sessionsRestored).toEqual([id]);
    expect(await snapshotDir(path.join(root, '.dagent/sessions', id))).toEqual(before);
    runtime = await createSessionRuntime({ root, readOnly: true });
    expect(await runtime.getHistory(id)).toEqual([]);
    expect(await runtime.getContext(id)).toEqual({ featureName: 'Search' });
    await runtime.close();
  });

  it(
    'a migration that fails half-way says how to undo it; ' +
      'a re-run refuses to duplicate; the rollback cleans up',
    async () => {
      const root = await validRoot();
      const runtime = await createSessionRuntime({ root });
      let appends = 0;
      const failing = {
        ...runtime,
        addMessage: async (...args: Parameters<typeof runtime.addMessage>) => {
          if (++appends === 3) throw new Error('EIO: the disk went away');
          return runtime.addMessage(...args);
        },
      };
      const report = await migratePMChat(root, 'checkout', { runtime: failing });
      expect(report.ok).toBe(false);
      expect(report.files[0]).toMatchObject({ status: 'failed', messages: 2 });
      expect(report.files[0]!.reason).toMatch(
        new RegExp(`EIO: the disk went away; undo what was written with: .*--rollback ${report.migrationId}`),
      );
      expect((await readManifest(root, report.migrationId!))!.files[0]).toMatchObject({
        state: 'failed',
        seqRange: [0, 1],
        messages: 2,
      });

      const again = await migratePMChat(root, 'checkout', { runtime });
      expect(again.files[0]).toMatchObject({ status: 'conflict' });
      expect(again.files[0]!.reason).toMatch(/did not finish \(failed\)/);
      expect(await runtime.getHistory('feature--checkout--pm')).toHaveLength(2);
      await runtime.close();

      expect((await rollbackMigration(root)).sessionsRemoved.map((s) => s.sessionId)).toEqual([
        'feature--checkout--pm',
      ]);
      const retry = await migratePMChat(root, 'checkout');
      expect(retry.files[0]).toMatchObject({ status: 'migrated', messages: 7 });
    },
  );

  it('a dry run reports and changes nothing', async () => {
    const root = await validRoot();
    const report = await migrateAll(root);
    const before = await snapshotDir(root);
    const dry = await rollbackMigration(root, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, migrationId: report.migrationId });
    expect(dry.sessionsRemoved).toHaveLength(5);
    expect(await snapshotDir(root)).toEqual(before);
  });

  it('needs the root to itself, and something to roll back', async () => {
    const root = await validRoot();
    const none = await rollbackMigration(root).catch((e: unknown) => e);
    expect(isSessionError(none, 'INVALID_ARGUMENT')).toBe(true);
    expect((none as Error).message).toMatch(/nothing to roll back/);
    expect(
      isSessionError(
        await rollbackMigration(root, { migrationId: '../x' }).catch((e: unknown) => e),
        'INVALID_ARGUMENT',
      ),
    ).toBe(true);

    await migrateAll(root);
    const runtime = await createSessionRuntime({ root });
    const locked = await rollbackMigration(root).catch((e: unknown) => e);
    expect(isSessionError(locked, 'ROOT_LOCKED')).toBe(true);
    expect((locked as Error).message).toMatch(/Close the runtime/);
    await runtime.close();
    expect((await rollbackMigration(root)).sessionsRemoved).toHaveLength(5);
  });
});
