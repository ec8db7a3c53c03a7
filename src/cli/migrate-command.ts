/**
 * `dagent-sessions migrate`: moves legacy DAGent conversations into sessions, or rolls a
 * migration back. See docs/migration.md.
 */
import { parseArgs } from 'node:util';
import { SessionError } from '../core/errors.js';
import { formatMigrationReport, formatRollbackReport } from '../migration/format-report.js';
import { migrateAll } from '../migration/migrate.js';
import { rollbackMigration } from '../migration/rollback.js';
import type { CliCommand, CliIO } from './io.js';
import { createProgress } from './progress.js';

/** The help of `dagent-sessions migrate`. */
export const MIGRATE_USAGE =
  'Usage: dagent-sessions migrate --root DIR [--dry-run] [--skip-invalid] [--no-checkpoint] ' +
  `[--json]
       dagent-sessions migrate --root DIR --rollback [ID] [--dry-run] [--json]

Moves DAGent's conversations into sessions, wherever DAGent kept them under the project root DIR:
.dagent-worktrees/<featureId>/.dagent/ (one worktree per feature), .dagent-worktrees/<manager>/
.dagent/features/<featureId>/ (manager worktrees), .dagent/features/{backlog,archived}/<featureId>/
and .dagent/features/<featureId>/. In each: chat.json (PM chat), nodes/<taskId>/session.json (dev
session), nodes/<nodeId>/chat.json (node chat) and sessions/session_<id>.json with its chat_,
checkpoint_, context_ and agent-description_ files (DAGent's own sessions). Each original is backed
up beside itself and never deleted; every conversation gets an initial checkpoint. Running it again
skips what was already migrated.

Options:
  --root DIR       the project root, holding .dagent/ or .dagent-worktrees/ (required)
  --dry-run        validate and report what would happen; write nothing
  --skip-invalid   migrate the valid entries of a file with invalid ones, listing each skipped entry
                   (default: such a file is not migrated at all)
  --no-checkpoint  do not give migrated conversations their initial checkpoint
  --rollback [ID]  undo migration ID (default: the latest one that did not finish, else the
                   latest one not rolled back yet); sessions it created are moved aside,
                   changed originals restored from their backups
  --json           print the report as JSON
  -h, --help       show this help

Exit code: 0 when every file is migrated (or already was), 1 for a usage error or when the
migration cannot run (root locked by a running host, nothing to roll back), 2 when some file
could not be migrated (invalid, conflict, failed: the report says why and what to do), 3 when no
DAGent conversation was found (the report lists where it looked).
See docs/migration.md.`;

/** The exit code of a migration that found nothing to migrate. */
export const NOTHING_FOUND_EXIT_CODE = 3;

class UsageError extends Error {}
const usage = (message: string) => new UsageError(message);

function parse(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      root: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'skip-invalid': { type: 'boolean', default: false },
      'no-checkpoint': { type: 'boolean', default: false },
      rollback: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return { help: true as const };
  if (values.root === undefined || values.root === '') throw usage('--root DIR is required');
  if (!values.rollback && positionals.length > 0) throw usage(`unexpected argument "${positionals[0]}"`);
  if (values.rollback && positionals.length > 1) throw usage('--rollback takes at most one migration id');
  if (values.rollback && values['skip-invalid']) throw usage('--skip-invalid does not apply to --rollback');
  if (values.rollback && values['no-checkpoint']) throw usage('--no-checkpoint does not apply to --rollback');
  return {
    help: false as const,
    root: values.root,
    dryRun: values['dry-run'],
    skipInvalid: values['skip-invalid'],
    checkpoint: !values['no-checkpoint'],
    rollback: values.rollback ? { id: positionals[0] } : null,
    json: values.json,
  };
}

function printError(io: CliIO, error: unknown, json: boolean): void {
  const payload =
    error instanceof SessionError
      ? { code: error.code, message: error.message }
      : { code: 'UNEXPECTED', message: error instanceof Error ? error.message : String(error) };
  if (json) io.out(JSON.stringify({ error: payload }, null, 2));
  io.err(
    `dagent-sessions migrate: ${payload.message}${error instanceof SessionError ? ` (${error.code})` : ''}`,
  );
}

/**
 * Runs `dagent-sessions migrate` with its arguments (after the command name).
 *
 * @param args - `--root DIR [--dry-run] [--skip-invalid] [--no-checkpoint] [--rollback [ID]] [--json] [-h|--help]`.
 * @param io - Where output goes; a progress bar is drawn on stderr when `io.interactive`.
 * @returns 0 on success, 1 for a usage error or a migration that cannot run, 2 when a file was
 *   not migrated (the report says why), 3 when no DAGent conversation was found.
 * @throws Never: every failure becomes an exit code and a message on `io.err`.
 * @example
 * ```ts
 * const code = await migrateCommand(['--root', '/repo', '--dry-run'], processIO)
 * ```
 */
export const migrateCommand: CliCommand = async (args, io) => {
  let options: ReturnType<typeof parse>;
  try {
    options = parse(args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`dagent-sessions migrate: ${message}\n\n${MIGRATE_USAGE}`);
    return 1;
  }
  if (options.help) {
    io.out(MIGRATE_USAGE);
    return 0;
  }
  const print = (lines: string[]) => lines.forEach((line) => io.out(line));
  try {
    if (options.rollback) {
      const report = await rollbackMigration(options.root, {
        dryRun: options.dryRun,
        ...(options.rollback.id === undefined ? {} : { migrationId: options.rollback.id }),
      });
      if (options.json) io.out(JSON.stringify(report, null, 2));
      else print(formatRollbackReport(report));
      return 0;
    }
    const progress = createProgress(
      options.dryRun ? 'checking' : 'migrating',
      io.interactive && !options.json,
    );
    let report;
    try {
      report = await migrateAll(options.root, {
        dryRun: options.dryRun,
        skipInvalid: options.skipInvalid,
        checkpoint: options.checkpoint,
        onProgress: (done, total) => progress.update(done, total),
      });
    } finally {
      progress.stop();
    }
    if (options.json) io.out(JSON.stringify(report, null, 2));
    else print(formatMigrationReport(report));
    if (report.totals.filesFound === 0) {
      io.err(
        `dagent-sessions migrate: no DAGent conversation found under ${report.root}; the report lists where it looked`,
      );
      return NOTHING_FOUND_EXIT_CODE;
    }
    if (!report.ok)
      io.err(
        `dagent-sessions migrate: ${report.totals.filesWithProblems} file(s) not migrated; see the report`,
      );
    return report.ok ? 0 : 2;
  } catch (error) {
    printError(io, error, options.json);
    return 1;
  }
};
