/**
 * @internal The migration of one legacy file: read, validate everything, decide (already
 * migrated, conflict, would migrate), and only then write: backup, manifest record, session,
 * messages in order, the initial checkpoint, and the record marked done.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { describeError, isSessionError } from '../core/errors.js';
import { sessionIdOf } from '../core/ids.js';
import type { SessionKey } from '../core/types.js';
import type { SessionRuntime } from '../runtime/types.js';
import { ensureDir, fsyncDir } from '../store/durable-fs.js';
import { backupPathOf, writeBackup } from './backup.js';
import { parseDevSession, parsePMChat } from './legacy-entries.js';
import { readLegacyFile, type LegacyFileRef, type ParsedLegacyFile } from './legacy-file.js';
import { migrationWorkDir, recordOf } from './manifest.js';
import type { EntryProblem, FileReport, ManifestFile, MigrationManifest } from './types.js';

/** @internal What the migration of one file needs from its run. */
export interface FileMigrationContext {
  root: string;
  runtime: SessionRuntime;
  /** Manifests of earlier migrations. */
  manifests: readonly MigrationManifest[];
  dryRun: boolean;
  skipInvalid: boolean;
  checkpointMinTokens: number;
  maxFileBytes: number;
  now: () => Date;
  /** This run's manifest, created on first use (written with status `running`). */
  manifest(): Promise<MigrationManifest>;
  /** Writes this run's manifest as it is now. */
  saveManifest(): Promise<void>;
}

const relative = (root: string, file: string) => path.relative(root, file).split(path.sep).join('/');

/** @internal The session key of a legacy file. */
export function keyOf(ref: LegacyFileRef): SessionKey {
  return ref.kind === 'pm-chat'
    ? { type: 'feature', agentType: 'pm', featureId: ref.featureId }
    : {
        type: 'task',
        agentType: 'dev',
        featureId: ref.featureId,
        taskId: ref.taskId ?? '',
        taskState: 'in_dev',
      };
}

/** One skipped-entry line per entry: its fields, and its reasons (each with its field when there are several). */
function skippedOf(problems: readonly EntryProblem[]): EntryProblem[] {
  const byIndex = new Map<number, EntryProblem[]>();
  for (const p of problems) byIndex.set(p.index, [...(byIndex.get(p.index) ?? []), p]);
  return [...byIndex].map(([index, list]) => ({
    index,
    field: list.map((p) => p.field).join(', '),
    reason: list.length === 1 ? list[0]!.reason : list.map((p) => `${p.field} ${p.reason}`).join('; '),
  }));
}

/** Whether the session exists, and whether it already holds anything. */
async function existingSession(
  runtime: SessionRuntime,
  id: string,
): Promise<'none' | 'empty' | { conflict: string }> {
  try {
    const history = await runtime.getHistory(id);
    const checkpoint = await runtime.getCheckpoint(id);
    if (history.length === 0 && checkpoint === null) return 'empty';
    return {
      conflict: `session ${id} already exists with ${history.length} messages${checkpoint ? ' and a checkpoint' : ''}; the migration never merges into a session in use. Archive or move that session aside, then migrate again`,
    };
  } catch (error) {
    if (isSessionError(error, 'SESSION_NOT_FOUND')) return 'none';
    return { conflict: `session ${id} exists but cannot be read (${describeError(error)}); repair it first` };
  }
}

/** @internal Migrates (or, in a dry run, plans) one legacy file. Never throws for bad input. */
export async function migrateFile(ref: LegacyFileRef, ctx: FileMigrationContext): Promise<FileReport> {
  const report: FileReport = {
    file: ref.relative,
    kind: ref.kind,
    featureId: ref.featureId,
    ...(ref.taskId === undefined ? {} : { taskId: ref.taskId }),
    sessionId: null,
    status: 'invalid',
    entries: 0,
    messages: 0,
    skipped: [],
    problems: [],
    sessionCreated: false,
    backup: null,
    checkpoint: null,
    seqRange: null,
    warnings: [],
  };
  const key = keyOf(ref);
  try {
    report.sessionId = sessionIdOf(key);
  } catch (error) {
    const why = describeError(error).replace(/^\[dagent-sessions\] \[[a-z]+\] /, '');
    return {
      ...report,
      reason: `${ref.relative} cannot name a session: ${why}. Rename its directory to letters, digits, ".", "-" and "_" (no "--", no spaces), then migrate again`,
    };
  }
  const read = await readLegacyFile(ref, ctx.maxFileBytes);
  if (!read.ok) return { ...report, reason: read.reason };
  const outcome = ref.kind === 'pm-chat' ? parsePMChat(read.value, ref) : parseDevSession(read.value, ref);
  if (!outcome.ok) return { ...report, reason: outcome.reason };
  const parsed = outcome.parsed;
  report.entries = parsed.total;
  report.warnings.push(...parsed.warnings);
  if (parsed.problems.length > 0 && !ctx.skipInvalid) {
    const bad = new Set(parsed.problems.map((p) => p.index)).size;
    return {
      ...report,
      problems: parsed.problems,
      reason: `${bad} of ${parsed.total} entries are invalid; nothing was written. Fix them, or migrate with --skip-invalid to take the ${parsed.messages.length} valid entries and list the skipped ones`,
    };
  }
  report.skipped = skippedOf(parsed.problems);

  const earlier = recordOf(ctx.manifests, ref.relative);
  if (earlier) {
    const { manifest, file } = earlier;
    if (file.state === 'done' && file.sha256 === read.sha256) {
      return {
        ...report,
        skipped: [],
        status: 'already-migrated',
        reason: `already migrated by ${manifest.id} into ${file.sessionId}; nothing to do`,
      };
    }
    const why =
      file.state === 'done'
        ? `changed since migration ${manifest.id} took it into ${file.sessionId} (its content then is in ${file.backupPath})`
        : `was being migrated by ${manifest.id}, which did not finish (${file.state})`;
    return {
      ...report,
      skipped: [],
      status: 'conflict',
      reason: `${ref.relative} ${why}. To migrate it as it is now: dagent-sessions migrate --root <root> --rollback ${manifest.id}, then migrate again`,
    };
  }

  const sessionId = report.sessionId;
  const existing = await existingSession(ctx.runtime, sessionId);
  if (typeof existing === 'object')
    return { ...report, skipped: [], status: 'conflict', reason: existing.conflict };
  report.sessionCreated = existing === 'none';
  const tokens = parsed.messages.reduce((sum, m) => sum + ctx.runtime.estimator.estimateMessage(m.input), 0);
  const needsCheckpoint = parsed.messages.length > 0 && tokens > ctx.checkpointMinTokens;

  if (ctx.dryRun) {
    return {
      ...report,
      status: 'would-migrate',
      messages: parsed.messages.length,
      backup: relative(ctx.root, backupPathOf(ref.absolute, ctx.now())),
      checkpoint: needsCheckpoint ? 'would-make' : 'not-needed',
    };
  }
  return write(ref, ctx, report, {
    parsed,
    key,
    sessionId,
    bytes: read.bytes,
    sha256: read.sha256,
    needsCheckpoint,
  });
}

async function write(
  ref: LegacyFileRef,
  ctx: FileMigrationContext,
  report: FileReport,
  plan: {
    parsed: ParsedLegacyFile;
    key: SessionKey;
    sessionId: string;
    bytes: Buffer;
    sha256: string;
    needsCheckpoint: boolean;
  },
): Promise<FileReport> {
  const { runtime } = ctx;
  const { parsed, sessionId } = plan;
  let record: ManifestFile | null = null;
  let manifestId: string | null = null;
  try {
    // 1. The record that makes it undoable, before anything is written for the file: a run
    // killed at any later point is in the manifest as unfinished. 2. The backup.
    const manifest = await ctx.manifest();
    manifestId = manifest.id;
    record = {
      kind: ref.kind,
      legacyPath: ref.relative,
      backupPath: relative(ctx.root, backupPathOf(ref.absolute, ctx.now())),
      sha256: plan.sha256,
      sessionId,
      sessionCreated: report.sessionCreated,
      preExistingCopy: null,
      state: 'pending',
      seqRange: null,
      messages: 0,
      skipped: report.skipped,
      checkpoint: null,
    };
    manifest.files.push(record);
    await ctx.saveManifest();
    report.backup = relative(ctx.root, await writeBackup(ref.absolute, plan.bytes, ctx.now()));
    record.backupPath = report.backup;
    if (!report.sessionCreated) {
      // An empty session that existed: keep a copy, so that a rollback puts it back as it was.
      const copy = path.join(migrationWorkDir(ctx.root, manifest.id), 'pre-existing', sessionId);
      await ensureDir(path.dirname(copy));
      await cp(path.join(ctx.root, '.dagent', 'sessions', sessionId), copy, {
        recursive: true,
        errorOnExist: true,
        force: false,
      });
      await fsyncDir(path.dirname(copy));
      record.preExistingCopy = relative(ctx.root, copy);
    }
    await ctx.saveManifest();

    // 3. The session and its messages, in order.
    if (report.sessionCreated) {
      await runtime.createSession(plan.key, parsed.context ? { context: parsed.context } : {});
    } else if (parsed.context) {
      await runtime.setContext(sessionId, { ...(await runtime.getContext(sessionId)), ...parsed.context });
    }
    for (const { input } of parsed.messages) {
      const message = await runtime.addMessage(sessionId, input);
      record.seqRange = [record.seqRange?.[0] ?? message.seq, message.seq];
      record.messages++;
    }
    report.messages = record.messages;
    report.seqRange = record.seqRange;

    // 4. The initial checkpoint (see docs/migration.md for the rule).
    report.checkpoint = plan.needsCheckpoint
      ? await initialCheckpoint(runtime, sessionId, Math.floor(ctx.checkpointMinTokens), report)
      : 'not-needed';
    record.checkpoint = report.checkpoint;
    record.state = 'done';
    await ctx.saveManifest();
    return { ...report, status: 'migrated' };
  } catch (error) {
    if (record) {
      record.state = 'failed';
      await ctx.saveManifest().catch(() => undefined);
    }
    const undo = manifestId
      ? `; undo what was written with: dagent-sessions migrate --root <root> --rollback ${manifestId}`
      : '; nothing was written to sessions';
    return {
      ...report,
      messages: record?.messages ?? 0,
      status: 'failed',
      reason: `migrating ${ref.relative} into ${sessionId} failed: ${describeError(error)}${undo}`,
    };
  }
}

/**
 * The rule: a conversation over `checkpointMinTokens` is compacted once, keeping that many tokens
 * of recent messages verbatim, so everything older is folded into the first checkpoint.
 */
async function initialCheckpoint(
  runtime: SessionRuntime,
  sessionId: string,
  keepRecentTokens: number,
  report: FileReport,
): Promise<FileReport['checkpoint']> {
  try {
    // A conversation past the threshold was compacted by the runtime itself while appending.
    if (await runtime.getCheckpoint(sessionId)) return 'made';
    const result = await runtime.compact(sessionId, { keepRecentTokens });
    if (result.kind === 'compacted' || (await runtime.getCheckpoint(sessionId))) return 'made';
    report.warnings.push(
      `no initial checkpoint: ${result.reason ?? 'nothing to fold'} (no cut point before the last ${keepRecentTokens} tokens)`,
    );
    return 'not-needed';
  } catch (error) {
    report.warnings.push(
      `the initial checkpoint failed (${describeError(error)}); every message is migrated, and the session compacts by itself when it needs to`,
    );
    return 'failed';
  }
}
