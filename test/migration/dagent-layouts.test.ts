/**
 * The migration on a project root laid out as DAGent's code laid it out (fixtures/legacy/dagent,
 * see its README for the DAGent file each shape comes from), through the real entry point
 * (`node --import tsx src/cli/main.ts migrate ...`): dry run, run, re-run, rollback and a run after
 * the corrupted file is repaired; and the places DAGent used, one by one, in temporary roots.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { listManifests } from '../../src/migration/manifest.js';
import { migrateAll } from '../../src/migration/migrate.js';
import type { FileReport, MigrationReport, RollbackReport } from '../../src/migration/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { FIXTURES } from './legacy-fixtures.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WT = '.dagent-worktrees/feature-checkout/.dagent';
const BROKEN = '.dagent-worktrees/cyber/.dagent/features/feature-broken/chat.json';

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate', ...args], {
      cwd: REPO,
      env: { ...process.env, ANTHROPIC_API_KEY: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function dagentRoot(): Promise<string> {
  const root = await tempRoot('dagent-layouts-');
  await cp(path.join(FIXTURES, 'dagent'), root, { recursive: true });
  return root;
}

const json = async (root: string, rel: string) =>
  JSON.parse(await readFile(path.join(root, rel), 'utf8')) as Record<string, unknown>;

type Entry = { role: string; content: unknown; timestamp: string | number };

async function sessions(root: string) {
  const runtime = await createSessionRuntime({ root, readOnly: true });
  const out: Record<string, { history: Message[]; live: number; checkpoint: unknown; context: unknown }> = {};
  try {
    for (const s of await runtime.listSessions())
      out[s.id] = {
        history: await runtime.getHistory(s.id),
        live: (await runtime.getMessages(s.id)).length,
        checkpoint: await runtime.getCheckpoint(s.id),
        context: await runtime.getContext(s.id),
      };
    return {
      out,
      descriptions: await Promise.all(Object.keys(out).map((id) => runtime.getAgentDescription(id))),
    };
  } finally {
    await runtime.close();
  }
}

const byLayout = (files: FileReport[]) =>
  files.reduce<Record<string, number>>((n, f) => ({ ...n, [f.layout]: (n[f.layout] ?? 0) + 1 }), {});

describe('dagent-sessions migrate on a root in DAGent layouts', () => {
  it(
    'dry run, run, re-run, rollback and repair: ' +
      'every conversation found, each message once, with checkpoints',
    async () => {
      const root = await dagentRoot();
      const before = await snapshotDir(root);

      // Dry run: writes nothing, reports what the run does.
      const dry = await cli('--root', root, '--dry-run', '--json');
      expect(dry.code, dry.stderr).toBe(2);
      const planned = JSON.parse(dry.stdout) as MigrationReport;
      expect(await snapshotDir(root)).toEqual(before);

      // The run.
      const run = await cli('--root', root, '--json');
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('1 file(s) not migrated');
      const report = JSON.parse(run.stdout) as MigrationReport;
      expect(report.totals).toEqual(planned.totals);
      expect(report.totals).toEqual({
        filesFound: 11,
        sessionsCreated: 8,
        messagesMigrated: 34,
        entriesSkipped: 0,
        backupsWritten: 7 + 3 * 5, // a DAGent session's five files are backed up each
        checkpointsMade: 8,
        alreadyMigrated: 0,
        filesWithProblems: 1,
      });
      expect(byLayout(report.files)).toEqual({ 'feature-worktree': 5, 'manager-worktree': 5, backlog: 1 });
      expect(report.files.map((f) => f.kind).sort()).toEqual([
        ...['dagent-session', 'dagent-session', 'dagent-session', 'dev-session', 'dev-session'],
        ...['node-chat', 'node-chat', 'pm-chat', 'pm-chat', 'pm-chat', 'pm-chat'],
      ]);
      const broken = report.files.find((f) => f.file === BROKEN)!;
      expect(broken).toMatchObject({ status: 'invalid', messages: 0, backup: null });
      expect(broken.reason).toMatch(/is not valid JSON .*; repair it, or move it away/);
      expect(
        report.files
          .filter((f) => f.file !== BROKEN)
          .every((f) => f.status === 'migrated' && f.checkpoint === 'made'),
      ).toBe(true);
      expect(report.searched.map((p) => [p.pattern, p.featureDirs])).toEqual([
        ['.dagent/features/<featureId>/', 0],
        ['.dagent/features/backlog/<featureId>/', 1],
        ['.dagent/features/archived/<featureId>/', 0],
        ['.dagent-worktrees/<featureId>/.dagent/', 1],
        ['.dagent-worktrees/<manager>/.dagent/features/<featureId>/', 2],
        ['.dagent-worktrees/<manager>/.dagent/features/backlog/<featureId>/', 0],
        ['.dagent-worktrees/<manager>/.dagent/features/archived/<featureId>/', 0],
      ]);

      const { out } = await sessions(root);
      expect(Object.keys(out).sort()).toEqual([
        'feature--feature-checkout--pm',
        'feature--feature-export--pm',
        'feature--feature-search--pm',
        'task--feature-checkout--task-cart--in_dev--dev',
        'task--feature-checkout--task-cart--in_qa--qa',
        'task--feature-checkout--task-cart--planning--pm',
        'task--feature-search--task-index--in_dev--dev',
        'task--feature-search--task-index--planning--pm',
      ]);
      // Every session has its initial checkpoint; nothing is lost from history.
      for (const [id, s] of Object.entries(out)) {
        expect(s.checkpoint, id).not.toBeNull();
        expect(
          s.history.map((m) => m.seq),
          id,
        ).toEqual(s.history.map((_, i) => i));
      }

      // PM chat + DAGent's own PM session: the 4 entries DAGent copied are there once, then its 3 new messages.
      const pmChat = ((await json(root, `${WT}/chat.json`)).entries as Entry[]).map((e) => e.content);
      const flat = (
        (await json(root, `${WT}/sessions/chat_pm-feature-feature-checkout.json`)).messages as Entry[]
      ).map((m) => m.content);
      const pm = out['feature--feature-checkout--pm']!;
      expect(pm.history.map((m) => m.content)).toEqual([...pmChat, ...flat.slice(4)]);
      expect(
        report.files.find((f) => f.file.endsWith('session_pm-feature-feature-checkout.json')),
      ).toMatchObject({
        messages: 3,
        duplicates: 4,
        parts: [
          `${WT}/sessions/session_pm-feature-feature-checkout.json`,
          `${WT}/sessions/chat_pm-feature-feature-checkout.json`,
          `${WT}/sessions/checkpoint_pm-feature-feature-checkout.json`,
          `${WT}/sessions/context_pm-feature-feature-checkout.json`,
          `${WT}/sessions/agent-description_pm-feature-feature-checkout.json`,
        ],
      });
      const [copied, , media, , , tools, internal] = pm.history;
      expect(copied!.metadata?.migratedFrom).toEqual({ file: `${WT}/chat.json`, index: 0 });
      expect(media!.metadata?.media).toEqual(['attachments/checkout-mockup.png']);
      expect(tools!.metadata).toMatchObject({
        agentType: 'pm',
        toolUses: [{ name: 'CreateTask', result: 'created task-applepay' }],
        tokens: { input: 5120, output: 210 },
        originalId: '8e2fab63-1b55-4c66-9072-2d3e4f5a6b7c',
        migratedFrom: { file: `${WT}/sessions/chat_pm-feature-feature-checkout.json`, index: 5 },
      });
      expect(internal).toMatchObject({ role: 'system', metadata: { internal: true } });
      // DAGent's context and agent description start the session.
      expect(pm.context).toMatchObject({
        featureName: 'Checkout',
        featureGoal: 'Customers pay for their cart in one page.',
        legacySession: {
          file: `${WT}/sessions/session_pm-feature-feature-checkout.json`,
          format: 'dagent-session',
          id: 'pm-feature-feature-checkout',
          pmMetadata: { complexity: 'medium' },
        },
      });

      // Dev session + DAGent's copy of it (internal): its 5 messages once, then 2 new ones.
      const index = out['task--feature-search--task-index--in_dev--dev']!;
      expect(index.history).toHaveLength(7);
      expect(index.history.slice(0, 5).map((m) => m.metadata?.originalType)).toEqual([
        'approval',
        'intention',
        'rejection',
        'intention',
        'approval',
      ]);
      expect(index.history[5]!.metadata).toMatchObject({
        iterationNumber: 1,
        verificationResults: [{ checkId: 'build' }, { checkId: 'test' }],
      });
      expect(index.history[6]!.metadata).toMatchObject({ internal: true, iteration: 1 });

      // Heartbeat, unknown type, tool metadata and an epoch-milliseconds timestamp.
      const cart = out['task--feature-checkout--task-cart--in_dev--dev']!.history;
      expect(cart.map((m) => m.metadata?.originalType)).toEqual([
        ...[
          'approval',
          'intention',
          'approval',
          'progress',
          'progress',
          'error',
          'heartbeat',
          'review_requested',
        ],
      ]);
      expect(cart[2]).toMatchObject({
        timestamp: '2024-12-15T10:02:00.000Z',
        metadata: { originalTimestamp: 1734256920000 },
      });
      expect(cart[4]!.metadata).toMatchObject({ toolName: 'Bash', toolResult: { exitCode: 1 } });
      expect(cart[7]!.metadata?.toolResult).toBeNull();
      // A node chat: text blocks kept as blocks, media, epoch seconds.
      const node = out['task--feature-checkout--task-cart--planning--pm']!.history;
      expect(node[1]!.content).toEqual([
        { type: 'text', text: 'It is a first step;' },
        { type: 'text', text: ' Redis comes with task-session.' },
      ]);
      expect(node[2]).toMatchObject({
        timestamp: '2024-12-15T11:11:00.000Z',
        metadata: { media: ['attachments/cart-flow.svg'] },
      });

      // A DAGent session compacted by DAGent: its checkpoint goes on in the session's.
      const qa = out['task--feature-checkout--task-cart--in_qa--qa']!;
      const summary = (qa.checkpoint as { summary: Record<string, string[]> }).summary;
      expect(summary.decisions).toContain('Negative quantities are rejected with HTTP 400');
      expect(summary.completed).toContain('Ran the cart test suite: 11 of 12 passed');
      expect(qa.context).toMatchObject({
        taskTitle: 'Cart API',
        legacySession: { checkpoint: { version: 2, compactionInfo: { messagesCompacted: 6 } } },
      });

      // Re-run: idempotent (the corrupted file still refused): no new session, message, backup or manifest.
      const afterRun = await snapshotDir(root);
      const manifests = (await listManifests(root)).length;
      const again = await cli('--root', root, '--json');
      expect(again.code).toBe(2);
      expect((JSON.parse(again.stdout) as MigrationReport).totals).toMatchObject({
        filesFound: 11,
        alreadyMigrated: 10,
        messagesMigrated: 0,
        backupsWritten: 0,
        sessionsCreated: 0,
      });
      expect(await snapshotDir(root)).toEqual(afterRun);
      expect((await listManifests(root)).length).toBe(manifests);

      // Rollback without an id: every session moved aside, every DAGent file as it was.
      const rollback = await cli('--root', root, '--rollback', '--json');
      expect(rollback.code, rollback.stderr).toBe(0);
      const undone = JSON.parse(rollback.stdout) as RollbackReport;
      expect(undone.migrationId).toBe(report.migrationId);
      expect(undone.sessionsRemoved).toHaveLength(8);
      // 7 files, and the 5 parts of each of the 3 DAGent sessions.
      expect(undone.originalsUnchanged).toHaveLength(7 + 3 * 5);
      expect(Object.keys((await sessions(root)).out)).toEqual([]);
      const now = await snapshotDir(root);
      for (const [file, bytes] of Object.entries(before)) expect(now[file], file).toBe(bytes);

      // Repaired, the corrupted chat is the only thing left to migrate; then all is done: exit 0.
      const redo = await cli('--root', root, '--json');
      expect(redo.code).toBe(2);
      await writeFile(
        path.join(root, BROKEN),
        JSON.stringify({
          entries: [
            { role: 'user', content: 'Rename the account settings page.', timestamp: '2025-03-01T10:00:00Z' },
          ],
        }),
      );
      const repaired = await cli('--root', root, '--json');
      expect(repaired.code, repaired.stderr).toBe(0);
      const last = JSON.parse(repaired.stdout) as MigrationReport;
      expect(last.files.find((f) => f.file === BROKEN)).toMatchObject({
        status: 'migrated',
        messages: 1,
        checkpoint: 'made',
      });
      expect(last.totals).toMatchObject({ alreadyMigrated: 10, messagesMigrated: 1, filesWithProblems: 0 });
    },
    // Six CLI runs, each a process of its own (tsx): minutes on a loaded 2-core machine.
    300_000,
  );

  it('a root without any DAGent conversation: says so, lists where it looked, exit 3', async () => {
    const root = await tempRoot('dagent-empty-');
    await mkdir(path.join(root, '.dagent-worktrees', 'neon', '.dagent', 'features', 'feature-x'), {
      recursive: true,
    });
    const before = await snapshotDir(root);
    const result = await cli('--root', root);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/no DAGent conversation found under .*; the report lists where it looked/);
    expect(result.stdout).toMatch(/No DAGent conversation found under .*\. Looked in:/);
    expect(result.stdout).toMatch(
      /\.dagent-worktrees\/<manager>\/\.dagent\/features\/<featureId>\/\s+1 feature directory, no conversation/,
    );
    expect(result.stdout).toMatch(/\.dagent-worktrees\/<featureId>\/\.dagent\/\s+nothing there/);
    expect(result.stdout).toMatch(/\.dagent\/features\/backlog\/<featureId>\/\s+nothing there/);
    expect(await snapshotDir(root)).toEqual(before);
    expect((await cli('--root', root, '--dry-run', '--json')).code).toBe(3);
  });

  it('--no-checkpoint: no compaction; a DAGent checkpoint is still kept', async () => {
    const root = await dagentRoot();
    const result = await cli('--root', root, '--no-checkpoint', '--json');
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as MigrationReport;
    const { out } = await sessions(root);
    for (const f of report.files.filter((x) => x.status === 'migrated')) {
      const s = out[f.sessionId!]!;
      expect(s.live, f.file).toBe(s.history.length);
      if (f.sessionId === 'task--feature-checkout--task-cart--in_qa--qa') {
        expect(f.checkpoint).toBe('made');
        expect(s.checkpoint).toMatchObject({ version: 0, compactionInfo: { compactor: 'initial' } });
      } else {
        expect(f.checkpoint, f.file).toBe('off');
        expect(s.checkpoint, f.file).toBeNull();
      }
    }
    expect(report.totals.checkpointsMade).toBe(1);
  });
});

describe('where DAGent kept conversations', () => {
  const chat = (content: string) =>
    JSON.stringify({ entries: [{ role: 'user', content, timestamp: '2025-01-01T00:00:00Z' }] });
  const place = async (root: string, rel: string, text: string) => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  };

  it('finds each layout, takes backlog/ and archived/ as containers, and follows no symbolic link', async () => {
    const root = await tempRoot('dagent-places-');
    const outside = await tempRoot('dagent-outside-');
    await place(outside, 'chat.json', chat('outside the root'));
    const files: Record<string, string> = {
      '.dagent/features/f-doc/chat.json': 'documented',
      '.dagent/features/f-doc/nodes/t1/session.json': 'documented',
      '.dagent/features/backlog/f-back/chat.json': 'backlog',
      '.dagent/features/archived/f-old/nodes/n1/chat.json': 'archived',
      '.dagent-worktrees/f-wt/.dagent/chat.json': 'feature-worktree',
      '.dagent-worktrees/pulse/.dagent/features/f-mgr/chat.json': 'manager-worktree',
      '.dagent-worktrees/pulse/.dagent/features/backlog/f-mb/chat.json': 'backlog',
      '.dagent-worktrees/pulse/.dagent/features/archived/f-ma/chat.json': 'archived',
    };
    for (const rel of Object.keys(files)) {
      if (rel.endsWith('session.json'))
        await place(
          root,
          rel,
          JSON.stringify({
            taskId: 't1',
            agentId: 'a',
            status: 'active',
            startedAt: '2025-01-01T00:00:00Z',
            messages: [],
          }),
        );
      else await place(root, rel, chat(rel));
    }
    await mkdir(path.join(root, '.dagent/features/f-link'), { recursive: true });
    await symlink(path.join(outside, 'chat.json'), path.join(root, '.dagent/features/f-link/chat.json'));
    await symlink(outside, path.join(root, '.dagent-worktrees/f-linked'));
    const report = await migrateAll(root, { dryRun: true });
    expect(Object.fromEntries(report.files.map((f) => [f.file, f.layout]))).toEqual(files);
    expect(
      report.files.find((f) => f.file === '.dagent/features/archived/f-old/nodes/n1/chat.json'),
    ).toMatchObject({
      kind: 'node-chat',
      sessionId: 'task--f-old--n1--planning--pm',
    });
  });

  it(
    'refuses a DAGent session of an agent type its runtime ' +
      "does not know, and migrates it with the host's runtime",
    async () => {
      const root = await tempRoot('dagent-investigation-');
      const dir = '.dagent-worktrees/f1/.dagent/sessions';
      await place(
        root,
        `${dir}/session_investigation-feature-f1.json`,
        JSON.stringify({
          id: 'investigation-feature-f1',
          type: 'feature',
          agentType: 'investigation',
          featureId: 'f1',
        }),
      );
      await place(
        root,
        `${dir}/chat_investigation-feature-f1.json`,
        JSON.stringify({
          messages: [
            {
              id: 'm1',
              role: 'assistant',
              content: 'The bug is in src/a.ts',
              timestamp: '2025-01-01T00:00:00Z',
            },
          ],
        }),
      );
      const refused = (await migrateAll(root)).files[0]!;
      expect(refused.status).toBe('invalid');
      expect(refused.reason).toMatch(
        /agent type "investigation" is not registered.*migrateAll\(root, \{ runtime \}\)/,
      );
      const runtime = await createSessionRuntime({
        root,
        agents: { investigation: { description: { role: 'Investigates a bug before planning.' } } },
      });
      const report = await migrateAll(root, { runtime });
      expect(report.files[0]).toMatchObject({
        status: 'migrated',
        sessionId: 'feature--f1--investigation',
        messages: 1,
      });
      expect((await runtime.getHistory('feature--f1--investigation'))[0]?.content).toBe(
        'The bug is in src/a.ts',
      );
      await runtime.close();
    },
  );

  it(
    'refuses a DAGent session whose file names point ' +
      'outside its directory, or whose part does not parse',
    async () => {
      const root = await tempRoot('dagent-parts-');
      const dir = '.dagent-worktrees/f1/.dagent/sessions';
      await place(
        root,
        `${dir}/session_pm-feature-f1.json`,
        JSON.stringify({
          type: 'feature',
          agentType: 'pm',
          featureId: 'f1',
          files: { chat: '../../../../etc/passwd' },
        }),
      );
      await place(
        root,
        `${dir}/session_dev-task-f1-t1-in_dev.json`,
        JSON.stringify({
          type: 'task',
          agentType: 'dev',
          featureId: 'f1',
          taskId: 't1',
          taskState: 'in_dev',
        }),
      );
      await place(root, `${dir}/chat_dev-task-f1-t1-in_dev.json`, '{"messages": [');
      const before = await snapshotDir(root);
      const report = await migrateAll(root);
      expect(report.files.map((f) => [f.status, f.reason])).toEqual(
        [
          [
            'invalid',
            expect.stringMatching(
              /"files\.chat" must be a file name beside it.*got "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd"/,
            ),
          ],
          [
            'invalid',
            expect.stringMatching(
              /chat_dev-task-f1-t1-in_dev\.json is not valid JSON.*a part of the DAGent session/,
            ),
          ],
        ].reverse(),
      );
      expect(await snapshotDir(root)).toEqual(before);
    },
  );
});
