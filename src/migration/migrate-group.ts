/**
 * @internal The migration of one conversation: the legacy files that go into one session (most
 * often one; DAGent also copied a `chat.json` or `session.json` into its own session files, and a
 * feature may sit in two layouts). Their messages are appended in order, each once: a message
 * another file of the group already brought (same role, content and original time) is counted as
 * a duplicate, not appended again. Then the session gets its initial checkpoint.
 *
 * Order of writes, per file: the manifest record, the backups, then the session (created with the
 * first file, with a DAGent session's context, description and checkpoint) and the messages;
 * the record is marked done last.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { describeError, isSessionError } from '../core/errors.js';
import type { MessageInput, SessionKey } from '../core/types.js';
import { contentToText } from '../request/format.js';
import type { CreateSessionOptions, SessionRuntime } from '../runtime/types.js';
import { ensureDir, fsyncDir } from '../store/durable-fs.js';
import { backupPathOf, writeBackup } from './backup.js';
import { migrationWorkDir } from './manifest.js';
import type { FilePlan } from './plan-file.js';
import type { FileReport, ManifestFile, MigrationManifest } from './types.js';

/** @internal What the migration of a conversation needs from its run. */
export interface GroupContext {
  root: string;
  runtime: SessionRuntime;
  dryRun: boolean;
  /** Give the session its initial checkpoint. */
  checkpoint: boolean;
  checkpointKeepTokens: number;
  now: () => Date;
  /** This run's manifest, created on first use (written with status `running`). */
  manifest(): Promise<MigrationManifest>;
  /** Writes this run's manifest as it is now. */
  saveManifest(): Promise<void>;
}

const relative = (root: string, file: string) => path.relative(root, file).split(path.sep).join('/');

/** What makes two messages of one conversation the same message. */
function identityOf(input: MessageInput): string {
  const text = typeof input.content === 'string' ? input.content : contentToText(input.content);
  const original = input.metadata?.originalTimestamp ?? input.timestamp;
  return `${input.role}\u0000${String(original)}\u0000${text}`;
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
      conflict:
        `session ${id} already exists with ${history.length} ` +
        `messages${checkpoint ? ' and a checkpoint' : ''}; the migration never merges ` +
        `into a session in use. Archive or move that session aside, then migrate again`,
    };
  } catch (error) {
    if (isSessionError(error, 'SESSION_NOT_FOUND')) return 'none';
    return { conflict: `session ${id} exists but cannot be read (${describeError(error)}); repair it first` };
  }
}

/** The session's start: contexts of every file, a DAGent session's description and checkpoint. */
function sessionStart(plans: readonly FilePlan[]): CreateSessionOptions {
  const own = plans.find((p) => p.parsed?.session)?.parsed?.session;
  const facts = plans.map((p) => p.parsed?.context?.legacySession).filter((f) => f !== undefined);
  const context = {
    ...own?.context,
    ...(facts.length === 1 ? { legacySession: facts[0] } : {}),
    ...(facts.length > 1 ? { legacySessions: facts } : {}),
  };
  const summary = plans.find((p) => p.parsed?.session?.checkpoint)?.parsed?.session?.checkpoint;
  return {
    ...(Object.keys(context).length > 0 ? { context } : {}),
    ...(own?.agentDescription ? { agentDescription: own.agentDescription as { role: string } } : {}),
    ...(summary ? { checkpoint: { summary } } : {}),
  };
}

/** Creates the session; a checkpoint over the session's budget goes into its context instead. */
async function createSession(
  runtime: SessionRuntime,
  key: SessionKey,
  start: CreateSessionOptions,
  warnings: string[],
): Promise<void> {
  try {
    await runtime.createSession(key, start);
  } catch (error) {
    if (!start.checkpoint || !isSessionError(error, 'INVALID_ARGUMENT') || !/checkpoint/.test(error.message))
      throw error;
    warnings.push(
      `DAGent's checkpoint could not start the session's checkpoint ` +
        `(${error.message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '')}); ` +
        `it is kept in the context as legacyCheckpoint`,
    );
    const { checkpoint, ...rest } = start;
    await runtime.createSession(key, {
      ...rest,
      context: { ...rest.context, legacyCheckpoint: checkpoint.summary },
    });
  }
}

/**
 * The initial checkpoint: one compaction keeping the most recent messages verbatim (at most
 * `keepTokens`, and at most half of the conversation, though always its newest message when that
 * fits), so that everything older is folded into checkpoint version 1, over a DAGent checkpoint
 * when there was one. A conversation of one message is folded whole.
 */
async function initialCheckpoint(
  runtime: SessionRuntime,
  sessionId: string,
  keepTokens: number,
  tokens: { total: number; newest: number },
  warnings: string[],
): Promise<FileReport['checkpoint']> {
  try {
    const keep = Math.min(keepTokens, Math.max(Math.floor(tokens.total / 2), tokens.newest));
    const live = (await runtime.getMessages(sessionId)).length;
    // The runtime may have compacted while the messages were appended: that is the checkpoint.
    const compacted =
      ((await runtime.getCheckpoint(sessionId))?.compactionInfo.archivedThroughSeq ?? -1) >= 0;
    if (live > 0 && !compacted) {
      const result = await runtime.compact(sessionId, { keepRecentTokens: keep });
      // No cut point before the kept tail (a tool call and its result are never split): fold all.
      if (result.kind !== 'compacted') await runtime.compact(sessionId, { keepRecentTokens: 0 });
    }
    // A DAGent checkpoint the session started with is an initial checkpoint too.
    return (await runtime.getCheckpoint(sessionId)) ? 'made' : 'not-needed';
  } catch (error) {
    warnings.push(
      `the initial checkpoint failed (${describeError(error)}); ` +
        `every message is migrated, and the session compacts by itself when it needs to`,
    );
    return 'failed';
  }
}

/** @internal Migrates (or, in a dry run, plans) one conversation; fills in each plan's report. */
export async function migrateGroup(plans: FilePlan[], ctx: GroupContext): Promise<void> {
  const { runtime } = ctx;
  const sessionId = plans[0]!.report.sessionId!;
  const key = plans[0]!.key!;
  // Which messages of each file go in: those no earlier file of the conversation brought.
  const seen = new Set<string>();
  const appends = plans.map((plan) => {
    const own = plan.parsed!.messages.map((m) => ({ ...m, identity: identityOf(m.input) }));
    const fresh = own.filter((m) => !seen.has(m.identity));
    own.forEach((m) => seen.add(m.identity));
    plan.report.duplicates = own.length - fresh.length;
    if (plan.report.duplicates > 0)
      plan.report.warnings.push(
        `${plan.report.duplicates} of its messages are already in ${plans
          .slice(0, plans.indexOf(plan))
          .map((p) => p.ref.relative)
          .join(', ')} (same role, content and original time): each is migrated once`,
      );
    return fresh;
  });
  const existing = await existingSession(runtime, sessionId);
  if (typeof existing === 'object') {
    for (const plan of plans)
      Object.assign(plan.report, { skipped: [], status: 'conflict', reason: existing.conflict });
    return;
  }
  plans[0]!.report.sessionCreated = existing === 'none';
  const start = sessionStart(plans);
  const counts = appends.flat().map((m) => runtime.estimator.estimateMessage(m.input));
  const tokens = counts.reduce((sum, n) => sum + n, 0);
  const planned = (ctx.checkpoint && tokens > 0) || start.checkpoint !== undefined;
  const checkpointOf = (value: FileReport['checkpoint']) => {
    for (const plan of plans) plan.report.checkpoint = value;
  };

  if (ctx.dryRun) {
    plans.forEach((plan, i) => {
      plan.report.status = 'would-migrate';
      plan.report.messages = appends[i]!.length;
      plan.report.backup = relative(ctx.root, backupPathOf(plan.ref.absolute, ctx.now()));
    });
    // Off, no compaction is made; a DAGent checkpoint is still kept (it is data, not a compaction).
    checkpointOf(planned ? 'would-make' : ctx.checkpoint ? 'not-needed' : 'off');
    return;
  }

  let index = 0;
  let manifestId: string | null = null;
  try {
    for (; index < plans.length; index++) {
      const plan = plans[index]!;
      const report = plan.report;
      // 1. The record, before anything is written for the file: a run killed at any later point
      // is in the manifest as unfinished. 2. The backups.
      const manifest = await ctx.manifest();
      manifestId = manifest.id;
      const record: ManifestFile = {
        kind: plan.ref.kind,
        legacyPath: plan.ref.relative,
        backupPath: relative(ctx.root, backupPathOf(plan.ref.absolute, ctx.now())),
        sha256: plan.sha256!,
        sessionId,
        sessionCreated: report.sessionCreated,
        ...(index > 0 ? { joined: true } : {}),
        preExistingCopy: null,
        state: 'pending',
        seqRange: null,
        messages: 0,
        skipped: report.skipped,
        checkpoint: null,
      };
      manifest.files.push(record);
      await ctx.saveManifest();
      const backups = [];
      for (const part of plan.parts!) {
        const backup = relative(ctx.root, await writeBackup(part.ref.absolute, part.bytes, ctx.now()));
        backups.push({ legacyPath: part.ref.relative, backupPath: backup, sha256: part.sha256 });
      }
      record.backupPath = backups[0]!.backupPath;
      if (plan.ref.kind === 'dagent-session') record.parts = backups;
      report.backup = record.backupPath;
      if (index === 0 && existing === 'empty') {
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

      // 3. The session (with the first file) and the messages, in order.
      if (index === 0) {
        if (existing === 'none') await createSession(runtime, key, start, report.warnings);
        else if (start.context || start.checkpoint) {
          // An existing session keeps its checkpoint (none): DAGent's goes into the context.
          if (start.checkpoint)
            report.warnings.push(
              "the session existed (empty), so DAGent's checkpoint could not start it; it is kept in " +
                'the context as legacyCheckpoint',
            );
          await runtime.setContext(sessionId, {
            ...(await runtime.getContext(sessionId)),
            ...start.context,
            ...(start.checkpoint ? { legacyCheckpoint: start.checkpoint.summary } : {}),
          });
        }
      }
      for (const { input } of appends[index]!) {
        const message = await runtime.addMessage(sessionId, input);
        record.seqRange = [record.seqRange?.[0] ?? message.seq, message.seq];
        record.messages++;
      }
      report.messages = record.messages;
      report.seqRange = record.seqRange;
      record.state = 'done';
      report.status = 'migrated';
      await ctx.saveManifest();
    }
  } catch (error) {
    const manifest = manifestId ? await ctx.manifest() : null;
    const record = manifest?.files.find((f) => f.legacyPath === plans[index]!.ref.relative);
    if (record) {
      record.state = 'failed';
      await ctx.saveManifest().catch(() => undefined);
    }
    const undo = manifestId
      ? `; undo what was written with: dagent-sessions migrate --root <root> --rollback ${manifestId}`
      : '; nothing was written to sessions';
    for (const [i, plan] of plans.entries()) {
      if (i < index) continue;
      Object.assign(plan.report, {
        status: 'failed',
        messages: i === index ? (record?.messages ?? 0) : 0,
        reason:
          i === index
            ? `migrating ${plan.ref.relative} into ${sessionId} failed: ${describeError(error)}${undo}`
            : `not migrated: ${plans[index]!.ref.relative}, of the same conversation, failed before it${undo}`,
      });
    }
    return;
  }

  // 4. The initial checkpoint (see docs/migration.md for the rule).
  const warnings = plans[plans.length - 1]!.report.warnings;
  const outcome = ctx.checkpoint
    ? await initialCheckpoint(
        runtime,
        sessionId,
        ctx.checkpointKeepTokens,
        { total: tokens, newest: counts[counts.length - 1] ?? 0 },
        warnings,
      )
    : (await runtime.getCheckpoint(sessionId))
      ? 'made'
      : 'off';
  checkpointOf(outcome);
  const manifest = await ctx.manifest();
  for (const record of manifest.files) if (record.sessionId === sessionId) record.checkpoint = outcome;
  await ctx.saveManifest();
}
