/**
 * Text renderings of migration and rollback reports, as `dagent-sessions migrate` prints them.
 */
import type { EntryProblem, MigrationReport, RollbackReport } from './types.js';

/** Problems listed per file in text output; `--json` lists them all. */
const LISTED = 20;

function table(rows: string[][], right: readonly number[] = []): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => {
    const cells = r.map((cell, c) =>
      right.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!),
    );
    return `  ${cells.join('  ')}`.trimEnd();
  });
}

function listProblems(lines: string[], heading: string | null, problems: readonly EntryProblem[]): void {
  if (problems.length === 0) return;
  if (heading !== null) lines.push(heading);
  for (const p of problems.slice(0, LISTED)) lines.push(`    [${p.index}] ${p.field}: ${p.reason}`);
  if (problems.length > LISTED)
    lines.push(`    ... and ${problems.length - LISTED} more (--json lists them all)`);
}

/**
 * Renders a migration report: one row per file, the problems and skipped entries, then the
 * summary table (files found, sessions created, messages migrated, entries skipped, backups written).
 *
 * @param report - What `migrateAll` (or `migratePMChat`, `migrateDevSession`) returned.
 * @returns The lines to print.
 * @example
 * ```ts
 * for (const line of formatMigrationReport(await migrateAll('/repo', { dryRun: true }))) console.log(line)
 * ```
 */
export function formatMigrationReport(report: MigrationReport): string[] {
  const lines: string[] = [];
  if (report.dryRun)
    lines.push(
      `Dry run of the migration of ${report.root}: nothing was written; a real run does what follows.`,
    );
  else
    lines.push(
      report.migrationId
        ? `Migration ${report.migrationId} of ${report.root}`
        : `Migration of ${report.root}: nothing to write`,
    );
  lines.push('');
  if (report.files.length === 0) {
    lines.push(`  No DAGent conversation found under ${report.root}. Looked in:`);
    lines.push(
      ...table(
        report.searched.map((p) => [
          p.pattern,
          p.featureDirs === 0
            ? 'nothing there'
            : `${p.featureDirs} feature director${p.featureDirs === 1 ? 'y' : 'ies'}, no conversation`,
        ]),
      ).map((line) => `  ${line}`),
      '',
      '  In each feature directory: chat.json (PM chat), nodes/<taskId>/session.json (dev session),',
      '  nodes/<nodeId>/chat.json (node chat), sessions/session_<id>.json (DAGent session files).',
      '  Is --root the project root, the directory that holds .dagent/ or .dagent-worktrees/?',
    );
  } else {
    const rows = [['file', 'kind', 'status', 'entries', 'messages', 'skipped', 'session']];
    for (const f of report.files)
      rows.push([
        f.file,
        f.kind,
        f.status,
        String(f.entries),
        String(f.messages),
        String(f.skipped.length),
        f.sessionId ?? '-',
      ]);
    lines.push(...table(rows, [3, 4, 5]));
  }
  const troubled = report.files.filter(
    (f) => f.reason !== undefined && f.status !== 'migrated' && f.status !== 'would-migrate',
  );
  if (troubled.length > 0) {
    lines.push('', 'Not migrated:');
    for (const f of troubled) {
      lines.push(`  ${f.file}: ${f.status}: ${f.reason ?? ''}`);
      listProblems(lines, null, f.problems);
    }
  }
  const skipping = report.files.filter((f) => f.skipped.length > 0);
  if (skipping.length > 0) {
    lines.push('', report.dryRun ? 'Entries that would be skipped:' : 'Skipped entries:');
    for (const f of skipping) listProblems(lines, `  ${f.file}: ${f.skipped.length} skipped`, f.skipped);
  }
  const warned = report.files.filter((f) => f.warnings.length > 0);
  if (warned.length > 0) {
    lines.push('', 'Warnings:');
    for (const f of warned) for (const w of f.warnings) lines.push(`  ${f.file}: ${w}`);
  }
  const t = report.totals;
  lines.push(
    '',
    report.dryRun ? 'Summary (would be)' : 'Summary',
    ...table(
      [
        ['files found', String(t.filesFound)],
        ['sessions created', String(t.sessionsCreated)],
        ['messages migrated', String(t.messagesMigrated)],
        ['entries skipped', String(t.entriesSkipped)],
        ['backups written', String(t.backupsWritten)],
        ['checkpoints made', String(t.checkpointsMade)],
        ['already migrated', String(t.alreadyMigrated)],
        ['with problems', String(t.filesWithProblems)],
      ],
      [1],
    ),
  );
  if (report.migrationId && report.manifest) {
    lines.push(
      '',
      `Manifest ${report.manifest}; undo with: ` +
        `dagent-sessions migrate --root ${report.root} --rollback ${report.migrationId}`,
    );
  }
  return lines;
}

/**
 * Renders a rollback report.
 *
 * @param report - What `rollbackMigration` returned.
 * @returns The lines to print.
 * @example
 * ```ts
 * formatRollbackReport(await rollbackMigration('/repo')).forEach((l) => console.log(l))
 * ```
 */
export function formatRollbackReport(report: RollbackReport): string[] {
  const lines = [
    report.dryRun
      ? `Dry run of the rollback of migration ${report.migrationId}: nothing was changed.`
      : `Rolled back migration ${report.migrationId}`,
    '',
  ];
  lines.push(
    ...table(
      [
        ['sessions moved aside', String(report.sessionsRemoved.length)],
        ['sessions restored', String(report.sessionsRestored.length)],
        ['originals restored', String(report.originalsRestored.length)],
        ['originals unchanged', String(report.originalsUnchanged.length)],
      ],
      [1],
    ),
  );
  for (const s of report.sessionsRemoved) lines.push(`  ${s.sessionId} -> ${s.movedTo ?? '(gone)'}`);
  for (const o of report.originalsRestored)
    lines.push(
      `  ${o.file} <- ${o.from}${o.keptAsideAs ? ` (the changed file is kept as ${o.keptAsideAs})` : ''}`,
    );
  if (report.warnings.length > 0) lines.push('', 'Warnings:', ...report.warnings.map((w) => `  ${w}`));
  lines.push('', 'Backups and moved sessions are kept; nothing was deleted.');
  return lines;
}
