/**
 * Migration of legacy DAGent conversations into sessions: a feature's PM chat
 * (`.dagent/features/<featureId>/chat.json`) and a dev task's session
 * (`.dagent/features/<featureId>/nodes/<taskId>/session.json`). See docs/migration.md.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SessionError, isSessionError } from '../core/errors.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import type { SessionRuntime } from '../runtime/types.js';
import {
  DEFAULT_MAX_FILE_BYTES,
  devSessionRef,
  findLegacyFiles,
  pmChatRef,
  type LegacyFileRef,
} from './legacy-file.js';
import { listManifests, manifestPath, newMigrationId, writeManifest } from './manifest.js';
import { migrateFile } from './migrate-file.js';
import type {
  FileReport,
  MigrationManifest,
  MigrationOptions,
  MigrationReport,
  MigrationTotals,
} from './types.js';

/** The default of `checkpointMinTokens`: the default verbatim tail (`keepRecentTokens`, 20% of 100,000). */
export const DEFAULT_CHECKPOINT_MIN_TOKENS = 20_000;

/**
 * Migrates one feature's PM chat into the session `{ type: 'feature', agentType: 'pm', featureId }`.
 *
 * @param root - The directory holding `.dagent/`.
 * @param featureId - The feature whose `chat.json` to migrate.
 * @param options - `runtime` (pass yours when one is open), `dryRun`, `skipInvalid`, `compactor`...
 * @returns The report: one file, with its status, counts, skipped entries and backup.
 * @throws SessionError `INVALID_ARGUMENT` when `root` is not a directory; `ROOT_LOCKED` when another
 *   runtime has the root open and none was passed. Invalid input is reported, not thrown.
 * @example
 * ```ts
 * const report = await migratePMChat('/repo', 'checkout', { dryRun: true })
 * report.files[0]?.status // 'would-migrate'
 * ```
 */
export async function migratePMChat(
  root: string,
  featureId: string,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  return runMigration(root, (resolved) => Promise.resolve([pmChatRef(resolved, String(featureId))]), options);
}

/**
 * Migrates one dev task's legacy session into the session
 * `{ type: 'task', agentType: 'dev', featureId, taskId, taskState: 'in_dev' }`.
 *
 * @param root - The directory holding `.dagent/`.
 * @param featureId - The feature of the task.
 * @param taskId - The task whose `nodes/<taskId>/session.json` to migrate.
 * @param options - As for {@link migratePMChat}.
 * @returns The report of the one file.
 * @throws SessionError `INVALID_ARGUMENT`, `ROOT_LOCKED` as {@link migratePMChat}.
 * @example
 * ```ts
 * const report = await migrateDevSession('/repo', 'checkout', 'cart-api', { runtime })
 * ```
 */
export async function migrateDevSession(
  root: string,
  featureId: string,
  taskId: string,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  return runMigration(
    root,
    (resolved) => Promise.resolve([devSessionRef(resolved, String(featureId), String(taskId))]),
    options,
  );
}

/**
 * Finds every legacy file under `root` (each feature's `chat.json` and its tasks'
 * `nodes/<taskId>/session.json`) and migrates them, one manifest for the whole run.
 * Re-running is idempotent: files migrated before with the same content are reported as
 * `already-migrated`.
 *
 * @param root - The directory holding `.dagent/`.
 * @param options - As for {@link migratePMChat}; `onProgress` is called after each file.
 * @returns The report of every file and the totals; `ok` is false when a file was not migrated.
 * @throws SessionError `INVALID_ARGUMENT`, `ROOT_LOCKED` as {@link migratePMChat}.
 * @example
 * ```ts
 * const report = await migrateAll('/repo', { skipInvalid: true })
 * console.log(report.totals.messagesMigrated, report.migrationId)
 * ```
 */
export async function migrateAll(root: string, options: MigrationOptions = {}): Promise<MigrationReport> {
  return runMigration(root, findLegacyFiles, options);
}

/** @internal Totals of a list of file reports. */
export function totalsOf(files: readonly FileReport[]): MigrationTotals {
  const done = files.filter(
    (f) => f.status === 'migrated' || f.status === 'would-migrate' || f.status === 'failed',
  );
  return {
    filesFound: files.length,
    sessionsCreated: done.filter((f) => f.sessionCreated && f.status !== 'failed').length,
    messagesMigrated: done.reduce((sum, f) => sum + f.messages, 0),
    entriesSkipped: done.reduce((sum, f) => sum + f.skipped.length, 0),
    backupsWritten: done.filter((f) => f.backup !== null).length,
    alreadyMigrated: files.filter((f) => f.status === 'already-migrated').length,
    filesWithProblems: files.filter(
      (f) => f.status === 'invalid' || f.status === 'conflict' || f.status === 'failed',
    ).length,
  };
}

/** @internal Checks the root and resolves it. */
export async function resolveRoot(root: unknown): Promise<string> {
  if (typeof root !== 'string' || root === '')
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      '[migration] root must be the directory that holds .dagent/',
    );
  const resolved = path.resolve(root);
  const info = await stat(resolved).catch(() => null);
  if (!info?.isDirectory())
    throw new SessionError('INVALID_ARGUMENT', 'runtime', `[migration] root ${resolved} is not a directory`);
  return resolved;
}

async function openRuntime(
  root: string,
  options: MigrationOptions,
  dryRun: boolean,
): Promise<SessionRuntime> {
  try {
    return await createSessionRuntime({
      root,
      readOnly: dryRun,
      ...(options.compactor ? { compactor: options.compactor } : {}),
    });
  } catch (error) {
    if (isSessionError(error, 'ROOT_LOCKED')) {
      throw new SessionError(
        'ROOT_LOCKED',
        'runtime',
        `[migration] ${error.message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '')}. A host with a runtime open must pass it: migrateAll(root, { runtime }); or stop the host and run the migration alone`,
        {
          cause: error,
          details: error.details,
        },
      );
    }
    throw error;
  }
}

async function runMigration(
  rootInput: string,
  find: (root: string) => Promise<LegacyFileRef[]>,
  options: MigrationOptions,
): Promise<MigrationReport> {
  const root = await resolveRoot(rootInput);
  const dryRun = options.dryRun ?? false;
  const skipInvalid = options.skipInvalid ?? false;
  const checkpointMinTokens = options.checkpointMinTokens ?? DEFAULT_CHECKPOINT_MIN_TOKENS;
  if (!(typeof checkpointMinTokens === 'number' && checkpointMinTokens >= 0)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `[migration] checkpointMinTokens must be a number >= 0, got ${String(checkpointMinTokens)}`,
    );
  }
  const now = options.now ?? (() => new Date());
  if (options.runtime && path.resolve(options.runtime.root) !== root) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `[migration] the runtime passed is for ${options.runtime.root}, not ${root}`,
    );
  }
  const refs = await find(root);
  const runtime = options.runtime ?? (await openRuntime(root, options, dryRun));
  const files: FileReport[] = [];
  let manifest: MigrationManifest | null = null;
  const id = newMigrationId(now());
  const saveManifest = async () => {
    if (manifest) await writeManifest(root, manifest);
  };
  try {
    const manifests = await listManifests(root);
    const ctx = {
      root,
      runtime,
      manifests,
      dryRun,
      skipInvalid,
      checkpointMinTokens,
      maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
      now,
      saveManifest,
      manifest: async () => {
        if (!manifest) {
          manifest = {
            version: 1,
            id,
            startedAt: now().toISOString(),
            completedAt: null,
            status: 'running',
            rolledBackAt: null,
            skipInvalid,
            files: [],
          };
          await saveManifest();
        }
        return manifest;
      },
    };
    for (const ref of refs) {
      files.push(await migrateFile(ref, ctx));
      options.onProgress?.(files.length, refs.length, ref.relative);
    }
  } finally {
    const written = manifest as MigrationManifest | null;
    if (written) {
      written.status = 'completed';
      written.completedAt = now().toISOString();
      await saveManifest();
    }
    if (!options.runtime) await runtime.close();
  }
  const totals = totalsOf(files);
  const written = manifest as MigrationManifest | null;
  return {
    migrationId: written ? written.id : null,
    manifest: written ? path.relative(root, manifestPath(root, written.id)).split(path.sep).join('/') : null,
    root,
    dryRun,
    skipInvalid,
    files,
    totals,
    ok: totals.filesWithProblems === 0,
  };
}
