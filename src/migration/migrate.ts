/**
 * Migration of legacy DAGent conversations into sessions, wherever DAGent kept them (see
 * docs/migration.md): feature PM chats, dev task sessions, node chats, and DAGent v3.0's own
 * session files, in the documented layout, in per-feature worktrees, in manager worktrees and in
 * the backlog.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SessionError, isSessionError } from '../core/errors.js';
import { sessionIdOf } from '../core/ids.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import type { SessionRuntime } from '../runtime/types.js';
import { documentedPmChatRef, findLegacyFiles, type LegacySearch } from './find-legacy.js';
import { DEFAULT_MAX_FILE_BYTES } from './legacy-file.js';
import { listManifests, manifestPath, newMigrationId, writeManifest } from './manifest.js';
import { migrateGroup } from './migrate-group.js';
import { planFile, type FilePlan } from './plan-file.js';
import type {
  FileReport,
  MigrationManifest,
  MigrationOptions,
  MigrationReport,
  MigrationTotals,
} from './types.js';

/** The default of `checkpointKeepTokens`: the default verbatim tail (`keepRecentTokens`, 20% of 100,000). */
export const DEFAULT_CHECKPOINT_KEEP_TOKENS = 20_000;

/** Which of the files found a run migrates, and what it reports when there is none. */
interface Selection {
  find(root: string): Promise<LegacySearch>;
  /** Keeps the plans of the conversation asked for; all by default. */
  keep?(plan: FilePlan): boolean;
  /** The plan to report when nothing was found (a single-conversation call names its file). */
  missing?(root: string): FilePlan['ref'];
}

/**
 * Migrates one feature's PM chat into the session `{ type: 'feature', agentType: 'pm', featureId }`:
 * its `chat.json` in whichever layout DAGent kept it, and DAGent's own session of it.
 *
 * @param root - The project root (holding `.dagent/` and `.dagent-worktrees/`).
 * @param featureId - The feature whose PM chat to migrate.
 * @param options - `runtime` (pass yours when one is open), `dryRun`, `skipInvalid`, `compactor`...
 * @returns The report of the files of that conversation (one, when the chat is nowhere: "no legacy file").
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
  const id = String(featureId);
  const target = safeId({ type: 'feature', agentType: 'pm', featureId: id });
  return runMigration(
    root,
    {
      find: (r) => findLegacyFiles(r, { featureId: id }),
      keep: (plan) =>
        plan.report.sessionId === target || (plan.ref.kind === 'pm-chat' && plan.report.sessionId === null),
      missing: (r) => documentedPmChatRef(r, id),
    },
    options,
  );
}

/**
 * Migrates one dev task's legacy session into the session
 * `{ type: 'task', agentType: 'dev', featureId, taskId, taskState: 'in_dev' }`: its
 * `nodes/<taskId>/session.json` in whichever layout, and DAGent's own session of it.
 *
 * @param root - The project root.
 * @param featureId - The feature of the task.
 * @param taskId - The task whose `nodes/<taskId>/session.json` to migrate.
 * @param options - As for {@link migratePMChat}.
 * @returns The report of the files of that conversation.
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
  const [f, t] = [String(featureId), String(taskId)];
  const target = safeId({ type: 'task', agentType: 'dev', featureId: f, taskId: t, taskState: 'in_dev' });
  return runMigration(
    root,
    {
      find: (r) => findLegacyFiles(r, { featureId: f }),
      keep: (plan) =>
        plan.report.sessionId === target ||
        (plan.ref.kind === 'dev-session' && plan.ref.taskId === t && plan.report.sessionId === null),
      missing: (r) => {
        const relative = ['.dagent', 'features', f, 'nodes', t, 'session.json'].join('/');
        return {
          kind: 'dev-session',
          layout: 'documented',
          featureId: f,
          taskId: t,
          absolute: path.join(r, relative),
          relative,
        };
      },
    },
    options,
  );
}

/**
 * Finds every DAGent conversation under `root`, in every layout DAGent used, and migrates them,
 * one manifest for the whole run. Re-running is idempotent: files migrated before with the same
 * content are reported as `already-migrated`.
 *
 * @param root - The project root (holding `.dagent/` and `.dagent-worktrees/`).
 * @param options - As for {@link migratePMChat}; `onProgress` is called after each file.
 * @returns The report of every file, where it looked, and the totals; `ok` is false when a file
 *   was not migrated; `totals.filesFound` is 0 when there was nothing to migrate.
 * @throws SessionError `INVALID_ARGUMENT`, `ROOT_LOCKED` as {@link migratePMChat}.
 * @example
 * ```ts
 * const report = await migrateAll('/repo', { skipInvalid: true })
 * console.log(report.totals.messagesMigrated, report.migrationId)
 * ```
 */
export async function migrateAll(root: string, options: MigrationOptions = {}): Promise<MigrationReport> {
  return runMigration(root, { find: (r) => findLegacyFiles(r) }, options);
}

/** The session id a single-conversation call aims at, or a value no plan has for an unsafe id. */
function safeId(key: Parameters<typeof sessionIdOf>[0]): string | symbol {
  try {
    return sessionIdOf(key);
  } catch {
    return Symbol('unsafe');
  }
}

/** @internal Totals of a list of file reports. */
export function totalsOf(files: readonly FileReport[]): MigrationTotals {
  const done = files.filter(
    (f) => f.status === 'migrated' || f.status === 'would-migrate' || f.status === 'failed',
  );
  const checkpointed = new Set(
    files.filter((f) => f.checkpoint === 'made' || f.checkpoint === 'would-make').map((f) => f.sessionId),
  );
  return {
    filesFound: files.length,
    sessionsCreated: done.filter((f) => f.sessionCreated && f.status !== 'failed').length,
    messagesMigrated: done.reduce((sum, f) => sum + f.messages, 0),
    entriesSkipped: done.reduce((sum, f) => sum + f.skipped.length, 0),
    // Every file backed up: a DAGent session's parts each have their own backup.
    backupsWritten: done.filter((f) => f.backup !== null).reduce((sum, f) => sum + f.parts.length, 0),
    checkpointsMade: checkpointed.size,
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
        `[migration] ${error.message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '')}. ` +
          `A host with a runtime open must pass it: migrateAll(root, ` +
          `{ runtime }); or stop the host and run the migration alone`,
        {
          cause: error,
          details: error.details,
        },
      );
    }
    throw error;
  }
}

/** Kinds whose sessions DAGent made from the others: migrated after them, so that duplicates are theirs. */
const rank = (plan: FilePlan) => (plan.ref.kind === 'dagent-session' ? 1 : 0);

const MIGRATION_OPTIONS = optionNames({
  runtime: true,
  compactor: true,
  dryRun: true,
  skipInvalid: true,
  checkpoint: true,
  checkpointKeepTokens: true,
  maxFileBytes: true,
  now: true,
  onProgress: true,
} satisfies Record<keyof MigrationOptions, true>);

async function runMigration(
  rootInput: string,
  selection: Selection,
  options: MigrationOptions,
): Promise<MigrationReport> {
  // Before anything is read or written: a misspelt `dryrun` would migrate for real.
  checkOptionNames(
    options,
    MIGRATION_OPTIONS,
    (message) => new SessionError('INVALID_ARGUMENT', 'runtime', `[migration] ${message}`),
  );
  const root = await resolveRoot(rootInput);
  const dryRun = options.dryRun ?? false;
  const skipInvalid = options.skipInvalid ?? false;
  const checkpoint = options.checkpoint ?? true;
  const keepTokens = options.checkpointKeepTokens ?? DEFAULT_CHECKPOINT_KEEP_TOKENS;
  if (!(Number.isSafeInteger(keepTokens) && keepTokens >= 0)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `[migration] checkpointKeepTokens must be an integer >= 0, got ${String(keepTokens)}`,
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
  const search = await selection.find(root);
  const runtime = options.runtime ?? (await openRuntime(root, options, dryRun));
  let plans: FilePlan[] = [];
  let manifest: MigrationManifest | null = null;
  const id = newMigrationId(now());
  const saveManifest = async () => {
    if (manifest) await writeManifest(root, manifest);
  };
  try {
    const manifests = await listManifests(root);
    const planning = {
      runtime,
      manifests,
      skipInvalid,
      maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    };
    for (const ref of search.refs) plans.push(await planFile(ref, planning));
    if (selection.keep) plans = plans.filter(selection.keep);
    if (plans.length === 0 && selection.missing)
      plans.push(await planFile(selection.missing(root), planning));
    // One conversation per session: its files in order, DAGent's own sessions last.
    const groups = new Map<string, FilePlan[]>();
    for (const plan of plans.filter((p) => p.ready)) {
      const sessionId = plan.report.sessionId!;
      groups.set(sessionId, [...(groups.get(sessionId) ?? []), plan]);
    }
    const context = {
      root,
      runtime,
      dryRun,
      checkpoint,
      checkpointKeepTokens: keepTokens,
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
    let done = plans.length - [...groups.values()].flat().length;
    for (const group of groups.values()) {
      group.sort((a, b) => rank(a) - rank(b));
      await migrateGroup(group, context);
      for (const plan of group) options.onProgress?.(++done, plans.length, plan.ref.relative);
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
  const files = plans.map((p) => p.report);
  const totals = totalsOf(files);
  const written = manifest as MigrationManifest | null;
  return {
    migrationId: written ? written.id : null,
    manifest: written ? path.relative(root, manifestPath(root, written.id)).split(path.sep).join('/') : null,
    root,
    dryRun,
    skipInvalid,
    files,
    searched: search.searched,
    totals,
    ok: totals.filesWithProblems === 0,
  };
}
