/**
 * Rollback of a migration: the root goes back to its state before the migration, and nothing is
 * deleted. Sessions the migration created are moved under `.dagent/migrations/<id>/rolled-back/`;
 * a session that existed (empty) before is put back from the copy taken then; a legacy file that
 * changed or vanished is restored from its backup, the changed file kept aside first.
 */
import { cp, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { SessionError, isSessionError } from '../core/errors.js';
import { keyOfSessionId } from '../core/ids.js';
import { ensureDir, fsyncDir, isErrno } from '../store/durable-fs.js';
import { acquireRootLock, type RootLock } from '../store/root-lock.js';
import { writeNewFile } from './backup.js';
import { sha256Of } from './legacy-file.js';
import {
  compactTimestamp,
  isMigrationId,
  listManifests,
  migrationWorkDir,
  readManifest,
  writeManifest,
} from './manifest.js';
import { resolveRoot } from './migrate.js';
import type { ManifestFile, MigrationManifest, RollbackOptions, RollbackReport } from './types.js';

const rel = (root: string, file: string) => path.relative(root, file).split(path.sep).join('/');
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

/** A free path: `base`, else `base-2`, `base-3`... */
async function freePath(base: string): Promise<string> {
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? base : `${base}-${i}`;
    if (!(await exists(candidate))) return candidate;
  }
}

/** A manifest is ours, but it is a file: its paths must stay under the root and its ids be session ids. */
function assertSane(root: string, manifest: MigrationManifest): MigrationManifest {
  const inside = (p: unknown) =>
    typeof p === 'string' && !path.isAbsolute(p) && !rel(root, path.join(root, p)).startsWith('..');
  for (const f of manifest.files) {
    const ok =
      inside(f.legacyPath) &&
      inside(f.backupPath) &&
      (f.parts ?? []).every((p) => inside(p.legacyPath) && inside(p.backupPath)) &&
      (f.preExistingCopy === null || inside(f.preExistingCopy)) &&
      typeof f.sessionId === 'string' &&
      keyOfSessionId(f.sessionId) !== null;
    if (!ok)
      throw new SessionError(
        'CORRUPT_FILE',
        'store',
        `[migration] manifest ${manifest.id} holds a record with a path outside ` +
          `the root or an invalid session id; it will not be used for a rollback`,
      );
  }
  return manifest;
}

/**
 * The migration to undo: the one named, else the latest unfinished one (a crashed run), else the
 * latest one not rolled back. Returns it with notes for the report.
 */
async function chooseManifest(
  root: string,
  id: string | undefined,
): Promise<{ manifest: MigrationManifest; notes: string[] }> {
  if (id !== undefined) {
    if (typeof id !== 'string' || !isMigrationId(id)) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `[migration] "${String(id)}" is not a migration id (like 20250301T101500123Z-a1b2c3); see .dagent/migrations/`,
      );
    }
    const manifest = await readManifest(root, id);
    if (!manifest)
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `[migration] no migration ${id} under ${root}/.dagent/migrations/`,
      );
    if (manifest.status === 'rolled-back')
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `[migration] migration ${id} was already rolled back at ${manifest.rolledBackAt ?? 'an earlier time'}`,
      );
    return { manifest: assertSane(root, manifest), notes: [] };
  }
  const candidates = (await listManifests(root)).filter((m) => m.status !== 'rolled-back');
  // An unfinished migration comes first: its process died half-way (a live one holds the root
  // lock this rollback took), its files are refused by every later run until it is undone, and
  // runs after it only migrated other files, so undoing it leaves theirs intact.
  const unfinished = candidates.filter((m) => m.status === 'running');
  const chosen = unfinished[unfinished.length - 1] ?? candidates[candidates.length - 1];
  if (!chosen)
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `[migration] nothing to roll back: ` +
        `no migration under ${root}/.dagent/migrations/ that is not rolled back already`,
    );
  const later = candidates.filter((m) => m.id > chosen.id).map((m) => m.id);
  const otherUnfinished = unfinished.filter((m) => m !== chosen).map((m) => m.id);
  const notes: string[] = [];
  if (chosen.status === 'running') {
    const one = later.length === 1;
    const laterNote =
      later.length > 0
        ? `; the later migration${one ? '' : 's'} ${later.join(', ')} keep${one ? 's' : ''} ` +
          `${one ? 'its' : 'their'} sessions (roll ${one ? 'it' : 'them'} back by id if you want)`
        : '';
    notes.push(
      `migration ${chosen.id} did not finish (its process stopped half-way): ` +
        `it is the one rolled back${laterNote}`,
    );
  }
  if (otherUnfinished.length > 0)
    notes.push(
      `migration${otherUnfinished.length === 1 ? '' : 's'} ${otherUnfinished.join(', ')} did ` +
        `not finish either: roll back again to undo ${otherUnfinished.length === 1 ? 'it' : 'them'}`,
    );
  return { manifest: assertSane(root, chosen), notes };
}

async function undoSession(
  root: string,
  manifest: MigrationManifest,
  file: ManifestFile,
  report: RollbackReport,
  dryRun: boolean,
): Promise<void> {
  const sessionDir = path.join(root, '.dagent', 'sessions', file.sessionId);
  // Another file of the same conversation created the session in this migration: undoing that
  // record moves the session, with this file's messages.
  if (file.joined) return;
  if (!file.sessionCreated && file.preExistingCopy === null) {
    report.warnings.push(
      `session ${file.sessionId} existed before the migration, which had not written into it yet: left as is`,
    );
    return;
  }
  if (await exists(sessionDir)) {
    const target = await freePath(
      path.join(migrationWorkDir(root, manifest.id), 'rolled-back', file.sessionId),
    );
    if (!dryRun) {
      await ensureDir(path.dirname(target));
      await rename(sessionDir, target);
      await fsyncDir(path.dirname(sessionDir));
      await fsyncDir(path.dirname(target));
    }
    report.sessionsRemoved.push({ sessionId: file.sessionId, movedTo: rel(root, target) });
  } else if (file.sessionCreated) {
    report.warnings.push(`session ${file.sessionId} was already gone`);
  }
  if (!file.sessionCreated && file.preExistingCopy !== null) {
    if (!dryRun) {
      await cp(path.join(root, file.preExistingCopy), sessionDir, {
        recursive: true,
        errorOnExist: true,
        force: false,
      });
      await fsyncDir(path.dirname(sessionDir));
    }
    report.sessionsRestored.push(file.sessionId);
  }
}

async function undoLegacyFile(
  root: string,
  file: Pick<ManifestFile, 'legacyPath' | 'backupPath' | 'sha256'>,
  report: RollbackReport,
  dryRun: boolean,
  now: Date,
): Promise<void> {
  const original = path.join(root, file.legacyPath);
  const current = await readOrNull(original);
  if (current !== null && sha256Of(current) === file.sha256) {
    report.originalsUnchanged.push(file.legacyPath);
    return;
  }
  const backup = await readOrNull(path.join(root, file.backupPath));
  if (backup === null || sha256Of(backup) !== file.sha256) {
    report.warnings.push(
      `${file.legacyPath} differs from what was migrated, but its backup ${file.backupPath} ` +
        `is ${backup === null ? 'missing' : 'not the original any more'}: left as is`,
    );
    return;
  }
  let keptAside: string | null = null;
  if (current !== null) {
    keptAside = await freePath(`${original}.changed-${compactTimestamp(now)}`);
    if (!dryRun) await rename(original, keptAside);
  }
  if (!dryRun) await writeNewFile(original, backup);
  report.originalsRestored.push({
    file: file.legacyPath,
    from: file.backupPath,
    keptAsideAs: keptAside === null ? null : rel(root, keptAside),
  });
}

/**
 * Undoes a migration (by default the latest unfinished one, a run that crashed half-way, else the
 * latest one not rolled back): sessions it created are moved
 * (never deleted) to `.dagent/migrations/<id>/rolled-back/`, sessions that existed empty are put
 * back as they were, legacy files that changed or vanished are restored from their backups (a
 * changed file is first kept aside as `<file>.changed-<time>`). Backups are kept. The manifest is
 * marked `rolled-back`, so the files can be migrated again.
 *
 * It needs the root to itself: it takes the root's write lock, so close any runtime of the root
 * first. Everything appended to a rolled-back session, also after the migration, moves with it.
 *
 * @param root - The directory holding `.dagent/`.
 * @param options - `migrationId` (default: the latest unfinished, else the latest), `dryRun` to only report.
 * @returns What was (or would be) moved and restored.
 * @throws SessionError `INVALID_ARGUMENT` when there is nothing to roll back or the id is unknown;
 *   `ROOT_LOCKED` when a runtime has the root open; `CORRUPT_FILE` for a manifest that does not parse.
 * @example
 * ```ts
 * const report = await rollbackMigration('/repo')
 * console.log(report.sessionsRemoved.length, report.originalsRestored)
 * ```
 */
export async function rollbackMigration(
  rootInput: string,
  options: RollbackOptions = {},
): Promise<RollbackReport> {
  const root = await resolveRoot(rootInput);
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? (() => new Date());
  let lock: RootLock | null = null;
  if (!dryRun) {
    try {
      lock = await acquireRootLock(root, `dagent-sessions migration rollback (pid ${process.pid})`);
    } catch (error) {
      if (!isSessionError(error, 'ROOT_LOCKED')) throw error;
      throw new SessionError(
        'ROOT_LOCKED',
        'runtime',
        `[migration] a rollback needs the root to ` +
          `itself: ${error.message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '')}. ` +
          `Close the runtime (or stop the host), then roll back`,
        { cause: error, details: error.details },
      );
    }
  }
  try {
    const { manifest, notes } = await chooseManifest(root, options.migrationId);
    const report: RollbackReport = {
      migrationId: manifest.id,
      dryRun,
      sessionsRemoved: [],
      sessionsRestored: [],
      originalsRestored: [],
      originalsUnchanged: [],
      warnings: notes,
    };
    for (const file of [...manifest.files].reverse()) {
      await undoSession(root, manifest, file, report, dryRun);
      // A DAGent session is several files, each with its own backup.
      for (const part of file.parts ?? [file]) await undoLegacyFile(root, part, report, dryRun, now());
    }
    if (!dryRun)
      await writeManifest(root, { ...manifest, status: 'rolled-back', rolledBackAt: now().toISOString() });
    return report;
  } finally {
    await lock?.release();
  }
}
