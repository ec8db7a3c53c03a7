import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import type { Message } from '../../src/core/types.js';
import { migrateAll, migrateDevSession, migratePMChat } from '../../src/migration/migrate.js';
import { readManifest } from '../../src/migration/manifest.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';
import { SESSION_OF, VALID_FILES, expectedMessages, placeLegacy, validRoot } from './legacy-fixtures.js';

/** Every message of the legacy file is in the session: same content, order, timestamps, and metadata kept. */
async function assertMigrated(
  runtime: SessionRuntime,
  root: string,
  rel: string,
  sessionId: string,
  only?: readonly number[],
): Promise<Message[]> {
  const history = await runtime.getHistory(sessionId);
  const expected = await expectedMessages(root, rel, only);
  expect(history.map((m) => [m.role, m.content, m.timestamp])).toEqual(
    expected.map((e) => [e.role, e.content, e.timestamp]),
  );
  expect(history.map((m) => m.seq)).toEqual(expected.map((_, i) => i));
  history.forEach((m, i) => {
    const e = expected[i]!;
    expect(m.metadata?.migratedFrom).toEqual({ file: rel, index: e.index });
    expect(m.metadata?.originalTimestamp).toBe(e.timestamp);
    if (rel.endsWith('chat.json')) {
      expect(m.metadata?.media).toEqual(e.raw.media);
    } else {
      const legacy = (e.raw.metadata ?? {}) as Record<string, unknown>;
      expect(m.metadata?.originalType).toBe(e.raw.type);
      expect(m.metadata?.direction).toBe(e.raw.direction);
      for (const field of ['toolName', 'toolInput', 'toolResult'])
        expect(m.metadata?.[field]).toEqual(legacy[field]);
      expect(field(m, 'toolResult')).toBe('toolResult' in legacy);
    }
  });
  return history;
}

const field = (m: Message, name: string) => m.metadata !== undefined && name in m.metadata;

describe('migrateAll on the valid fixtures', () => {
  it(
    'moves every message of every legacy file into its session, ' +
      'identical and in order, with backups and a manifest',
    async () => {
      const root = await validRoot();
      const originals = await Promise.all(VALID_FILES.map((f) => readFile(path.join(root, f))));
      const report = await migrateAll(root);

      expect(report.ok).toBe(true);
      expect(report.files.map((f) => [f.file, f.status, f.sessionId])).toEqual(
        VALID_FILES.map((f) => [f, 'migrated', SESSION_OF[f]]),
      );
      expect(report.totals).toEqual({
        filesFound: 5,
        sessionsCreated: 5,
        messagesMigrated: 32,
        entriesSkipped: 0,
        backupsWritten: 5,
        checkpointsMade: 5,
        alreadyMigrated: 0,
        filesWithProblems: 0,
      });

      const runtime = await createSessionRuntime({ root, readOnly: true });
      expect((await runtime.listSessions()).map((s) => s.id).sort()).toEqual(
        Object.values(SESSION_OF).sort(),
      );
      for (const rel of VALID_FILES) await assertMigrated(runtime, root, rel, SESSION_OF[rel]);

      // The unknown type is kept as it is; session-level facts go to the context.
      const cart = await runtime.getHistory(
        SESSION_OF['.dagent/features/checkout/nodes/cart-api/session.json'],
      );
      expect(cart.map((m) => m.metadata?.originalType)).toEqual([
        'progress',
        'intention',
        'approval',
        'progress',
        'progress',
        'error',
        'heartbeat',
        'intention',
        'rejection',
        'completion',
      ]);
      expect(await runtime.getContext('task--checkout--cart-api--in_dev--dev')).toMatchObject({
        legacySession: {
          file: '.dagent/features/checkout/nodes/cart-api/session.json',
          agentId: 'dev-agent-1',
          status: 'completed',
          startedAt: '2024-05-02T10:00:00Z',
          completedAt: '2024-05-02T12:30:00Z',
        },
      });
      expect(await runtime.getContext('feature--checkout--pm')).toBeNull();
      await runtime.close();

      // Originals untouched; each backup beside its original, byte-identical.
      for (const [i, rel] of VALID_FILES.entries()) {
        const file = report.files[i]!;
        expect(await readFile(path.join(root, rel))).toEqual(originals[i]);
        expect(file.backup).toMatch(new RegExp(`^${rel.replace(/[.]/g, '\\.')}\\.backup-\\d{8}T\\d{9}Z$`));
        expect(await readFile(path.join(root, file.backup!))).toEqual(originals[i]);
      }

      const manifest = await readManifest(root, report.migrationId!);
      expect(report.manifest).toBe(`.dagent/migrations/${report.migrationId}.json`);
      expect(manifest).toMatchObject({ status: 'completed', skipInvalid: false });
      expect(
        manifest!.files.map((f) => [f.legacyPath, f.state, f.sessionCreated, f.seqRange, f.sha256.length]),
      ).toEqual(VALID_FILES.map((f, i) => [f, 'done', true, [0, report.files[i]!.messages - 1], 64]));
    },
  );

  it('migratePMChat and migrateDevSession migrate one file each', async () => {
    const root = await validRoot();
    const pm = await migratePMChat(root, 'search');
    expect(pm.files).toHaveLength(1);
    expect(pm.files[0]).toMatchObject({
      status: 'migrated',
      sessionId: 'feature--search--pm',
      messages: 4,
      sessionCreated: true,
      checkpoint: 'made',
    });
    const dev = await migrateDevSession(root, 'checkout', 'payment-form');
    expect(dev.files[0]).toMatchObject({
      status: 'migrated',
      sessionId: 'task--checkout--payment-form--in_dev--dev',
      messages: 5,
    });
    expect(dev.migrationId).not.toBe(pm.migrationId);
    const runtime = await createSessionRuntime({ root, readOnly: true });
    expect((await runtime.listSessions()).map((s) => s.id)).toEqual([
      'feature--search--pm',
      'task--checkout--payment-form--in_dev--dev',
    ]);
    await assertMigrated(runtime, root, '.dagent/features/search/chat.json', 'feature--search--pm');
    await runtime.close();
  });

  it('a host with its runtime open passes it; without it the migration says so (ROOT_LOCKED)', async () => {
    const root = await validRoot();
    const runtime = await createSessionRuntime({ root });
    const refused = await migrateAll(root).catch((e: unknown) => e);
    expect(isSessionError(refused, 'ROOT_LOCKED')).toBe(true);
    expect((refused as Error).message).toMatch(/must pass it: migrateAll\(root, \{ runtime \}\)/);
    const report = await migrateAll(root, { runtime });
    expect(report.totals.messagesMigrated).toBe(32);
    await assertMigrated(runtime, root, VALID_FILES[1], SESSION_OF[VALID_FILES[1]]);
    await runtime.close();
  });

  it('gives every conversation its initial checkpoint, short or long, keeping every message in history', async () => {
    const root = await tempRoot('dagent-migration-');
    const messages = Array.from({ length: 60 }, (_, i) => ({
      timestamp: new Date(Date.UTC(2024, 4, 2, 10, i)).toISOString(),
      direction: i % 2 ? 'task_to_harness' : 'harness_to_task',
      type: i % 2 ? 'progress' : 'approval',
      content:
        `step ${i}: edited src/module${i}.ts and ran npm ` +
        `test; ${'the tests pass and the build is green. '.repeat(12)}`,
      ...(i % 2
        ? { metadata: { toolName: 'Bash', toolInput: { command: `npm test -- ${i}` }, toolResult: 'ok' } }
        : {}),
    }));
    const long = await placeLegacy(
      root,
      'dev',
      {
        json: {
          taskId: 'long',
          agentId: 'a',
          status: 'completed',
          startedAt: '2024-05-02T10:00:00Z',
          messages,
        },
      },
      { taskId: 'long' },
    );
    const short = await placeLegacy(root, 'pm', {
      json: {
        entries: [
          { role: 'user', content: 'Add a CSV export.', timestamp: '2024-05-02T10:00:00Z' },
          { role: 'assistant', content: 'Planned: exporter, quoting, tests.', timestamp: 1714644060000 },
        ],
      },
    });

    const dry = await migrateAll(root, { checkpointKeepTokens: 2_000, dryRun: true });
    expect(dry.files.map((f) => f.checkpoint)).toEqual(['would-make', 'would-make']);
    expect(dry.totals.checkpointsMade).toBe(2);
    const report = await migrateAll(root, { checkpointKeepTokens: 2_000 });
    expect(report.files.map((f) => [f.file, f.checkpoint])).toEqual([
      [short, 'made'],
      [long, 'made'],
    ]);
    expect(report.totals.checkpointsMade).toBe(2);

    const runtime = await createSessionRuntime({ root, readOnly: true });
    const id = report.files[1]!.sessionId!;
    const checkpoint = await runtime.getCheckpoint(id);
    expect(checkpoint?.version).toBe(1);
    expect(checkpoint!.compactionInfo.messagesCompacted).toBeGreaterThan(0);
    // The kept tail: at most 2,000 tokens of the most recent messages.
    const live = await runtime.getMessages(id);
    expect(live.length).toBeGreaterThan(0);
    expect(live.reduce((sum, m) => sum + m.tokens, 0)).toBeLessThanOrEqual(2_000);
    await assertMigrated(runtime, root, long, id);
    // A short conversation: its older half folded, its newest message kept verbatim.
    const pm = report.files[0]!.sessionId!;
    expect((await runtime.getCheckpoint(pm))?.compactionInfo.messagesCompacted).toBe(1);
    expect((await runtime.getMessages(pm)).map((m) => m.content)).toEqual([
      'Planned: exporter, quoting, tests.',
    ]);
    expect((await runtime.getHistory(pm)).map((m) => m.timestamp)).toEqual([
      '2024-05-02T10:00:00Z',
      '2024-05-02T10:01:00.000Z',
    ]);
    await runtime.close();
    expect((await readManifest(root, report.migrationId!))!.files.map((f) => f.checkpoint)).toEqual([
      'made',
      'made',
    ]);
  });

  it('--no-checkpoint (checkpoint: false) leaves the migrated sessions without one', async () => {
    const root = await validRoot();
    const dry = await migrateAll(root, { checkpoint: false, dryRun: true });
    expect(dry.files.every((f) => f.checkpoint === 'off')).toBe(true);
    const report = await migrateAll(root, { checkpoint: false });
    expect(report.files.every((f) => f.checkpoint === 'off')).toBe(true);
    expect(report.totals.checkpointsMade).toBe(0);
    const runtime = await createSessionRuntime({ root, readOnly: true });
    for (const f of report.files) {
      expect(await runtime.getCheckpoint(f.sessionId!)).toBeNull();
      expect((await runtime.getMessages(f.sessionId!)).length).toBe(f.messages);
    }
    await runtime.close();
  });

  it('finds nothing in a root without legacy files and writes nothing', async () => {
    const root = await tempRoot('dagent-migration-');
    const report = await migrateAll(root);
    expect(report).toMatchObject({ ok: true, migrationId: null, manifest: null, files: [] });
    expect(report.totals.filesFound).toBe(0);
    expect(report.searched.map((p) => [p.pattern, p.featureDirs])).toEqual([
      ['.dagent/features/<featureId>/', 0],
      ['.dagent/features/backlog/<featureId>/', 0],
      ['.dagent/features/archived/<featureId>/', 0],
      ['.dagent-worktrees/<featureId>/.dagent/', 0],
    ]);
    expect(await readdir(path.join(root, '.dagent')).catch(() => [])).not.toContain('migrations');
  });

  it('refuses a root that is not a directory', async () => {
    const err = await migrateAll(path.join(await tempRoot(), 'missing')).catch((e: unknown) => e);
    expect(isSessionError(err, 'INVALID_ARGUMENT')).toBe(true);
  });
});
