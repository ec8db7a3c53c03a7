import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { migrateCommand } from '../../src/cli/migrate-command.js';
import type { MigrationReport, RollbackReport } from '../../src/migration/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { placeLegacy, validRoot } from './legacy-fixtures.js';

function fakeIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), interactive: false };
}

async function run(args: string[]) {
  const io = fakeIO();
  const code = await migrateCommand(args, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

const summaryRow = (out: string, label: string) => new RegExp(`^  ${label}\\s+(\\d+)$`, 'm').exec(out)?.[1];

describe('dagent-sessions migrate', () => {
  it('migrates a root: a row per file, the summary table, exit 0', async () => {
    const root = await validRoot();
    const { code, out, err } = await run(['--root', root]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^Migration \d{8}T\d{9}Z-[0-9a-f]{6} of /);
    expect(out).toMatch(
      /\.dagent\/features\/checkout\/chat\.json\s+pm-chat\s+migrated\s+7\s+7\s+0\s+feature--checkout--pm/,
    );
    expect([
      summaryRow(out, 'files found'),
      summaryRow(out, 'sessions created'),
      summaryRow(out, 'messages migrated'),
      summaryRow(out, 'entries skipped'),
      summaryRow(out, 'backups written'),
    ]).toEqual(['5', '5', '32', '0', '5']);
    expect(out).toMatch(/undo with: dagent-sessions migrate --root .* --rollback \d{8}T/);

    const again = await run(['--root', root, '--json']);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.out) as MigrationReport;
    expect(report.totals).toMatchObject({ filesFound: 5, alreadyMigrated: 5, messagesMigrated: 0 });
  });

  it('--dry-run writes nothing and prints the same summary the real run does', async () => {
    const root = await validRoot();
    const before = await snapshotDir(root);
    const dry = await run(['--root', root, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/^Dry run of the migration of .*: nothing was written/);
    expect(await snapshotDir(root)).toEqual(before);
    const real = await run(['--root', root]);
    for (const label of [
      'files found',
      'sessions created',
      'messages migrated',
      'entries skipped',
      'backups written',
    ]) {
      expect(summaryRow(real.out, label)).toBe(summaryRow(dry.out, label));
    }
  });

  it(
    'exits 2 with the reasons when a file is invalid; ' +
      '--skip-invalid migrates the valid entries and lists the skipped ones',
    async () => {
      const root = await tempRoot('dagent-cli-');
      await placeLegacy(root, 'pm', { fixture: 'pm-mixed.json' });
      await placeLegacy(root, 'dev', { fixture: 'dev-malformed-json.json' });
      const strict = await run(['--root', root]);
      expect(strict.code).toBe(2);
      expect(strict.err).toMatch(/2 file\(s\) not migrated/);
      expect(strict.out).toMatch(/chat\.json: invalid: 3 of 7 entries are invalid; nothing was written/);
      expect(strict.out).toMatch(
        /\[1\] entries\[1\]\.content: must be a string or a list of content blocks .*, got null/,
      );
      expect(strict.out).toMatch(/session\.json: invalid: .*is not valid JSON/);

      const lenient = await run(['--root', root, '--skip-invalid', '--json']);
      expect(lenient.code).toBe(2); // the malformed dev session still cannot be migrated
      const report = JSON.parse(lenient.out) as MigrationReport;
      expect(report.files.map((f) => f.status)).toEqual(['migrated', 'invalid']);
      expect(report.files[0]!.skipped.map((s) => [s.index, s.field])).toEqual([
        [1, 'entries[1].content'],
        [3, 'entries[3]'],
        [5, 'entries[5].role'],
      ]);
      expect(report.totals).toMatchObject({ messagesMigrated: 4, entriesSkipped: 3, filesWithProblems: 1 });
    },
  );

  it('--rollback [ID] undoes a migration; exit 1 when there is nothing to roll back', async () => {
    const root = await validRoot();
    const migrated = JSON.parse((await run(['--root', root, '--json'])).out) as MigrationReport;
    const dry = await run(['--root', root, '--rollback', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/Dry run of the rollback of migration/);
    const rolled = await run(['--root', root, '--rollback', migrated.migrationId!, '--json']);
    expect(rolled.code).toBe(0);
    expect((JSON.parse(rolled.out) as RollbackReport).sessionsRemoved).toHaveLength(5);
    const runtime = await createSessionRuntime({ root, readOnly: true });
    expect(await runtime.listSessions()).toEqual([]);
    await runtime.close();
    const nothing = await run(['--root', root, '--rollback']);
    expect(nothing.code).toBe(1);
    expect(nothing.err).toMatch(/nothing to roll back.*\(INVALID_ARGUMENT\)/);
  });

  it('usage errors exit 1 with the usage; --help exits 0', async () => {
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['-h'])).out).toMatch(/^Usage: dagent-sessions migrate --root DIR/);
    for (const args of [
      [],
      ['--root'],
      ['--root', '/tmp', '--bogus'],
      ['--root', '/tmp', 'extra'],
      ['--root', '/tmp', '--rollback', 'a', 'b'],
      ['--root', '/tmp', '--rollback', '--skip-invalid'],
    ]) {
      const { code, err } = await run(args);
      expect(code, args.join(' ')).toBe(1);
      expect(err).toMatch(/Usage: dagent-sessions migrate/);
    }
    const missing = await run(['--root', path.join(await tempRoot(), 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/is not a directory \(INVALID_ARGUMENT\)/);
  });

  it('exit 1 naming the holder when a host has the root open', async () => {
    const root = await validRoot();
    const runtime = await createSessionRuntime({ root });
    const { code, err } = await run(['--root', root]);
    expect(code).toBe(1);
    expect(err).toMatch(/open for writing .* must pass it.*\(ROOT_LOCKED\)/);
    await runtime.close();
  });
});
