/**
 * @internal The first step of migrating one legacy file: read it whole, validate everything, and
 * decide what can be decided from the file alone (invalid, already migrated, refused because an
 * earlier migration of it changed or did not finish). Nothing is written here.
 */
import { describeError } from '../core/errors.js';
import { sessionIdOf } from '../core/ids.js';
import type { SessionKey } from '../core/types.js';
import { assertRegistered } from '../runtime/agent-profiles.js';
import type { SessionRuntime } from '../runtime/types.js';
import { readDagentSession } from './dagent-session.js';
import { parseDevSession, parsePMChat } from './legacy-entries.js';
import { readLegacyFile, type LegacyFileRef, type ParsedLegacyFile } from './legacy-file.js';
import { recordOf } from './manifest.js';
import type { EntryProblem, FileReport, MigrationManifest } from './types.js';

/** @internal What planning needs of its run. */
export interface PlanContext {
  runtime: SessionRuntime;
  /** Manifests of earlier migrations. */
  manifests: readonly MigrationManifest[];
  skipInvalid: boolean;
  maxFileBytes: number;
}

/** @internal One file with its bytes, to back up. */
export interface PlannedPart {
  ref: LegacyFileRef;
  bytes: Buffer;
  sha256: string;
}

/** @internal A legacy file read and judged: `ready` ones go on to their session's group. */
export interface FilePlan {
  ref: LegacyFileRef;
  report: FileReport;
  ready: boolean;
  key?: SessionKey;
  parsed?: ParsedLegacyFile;
  /** Of the file; of a DAGent session, of its parts' names and hashes. */
  sha256?: string;
  parts?: PlannedPart[];
}

const withoutPrefix = (error: unknown) =>
  describeError(error).replace(/^\[dagent-sessions\] \[[a-z]+\] /, '');

/**
 * @internal The session of a legacy file: a PM chat → the feature's `pm` session; a dev session →
 * the task's `dev` session in `in_dev`; a node chat → the task's `pm` session in `planning` (the
 * user's conversation about the task in DAGent's graph view); a DAGent session → the key it names.
 */
export function keyOfRef(ref: LegacyFileRef): SessionKey | null {
  if (ref.kind === 'pm-chat') return { type: 'feature', agentType: 'pm', featureId: ref.featureId };
  const taskId = ref.taskId ?? '';
  if (ref.kind === 'dev-session')
    return { type: 'task', agentType: 'dev', featureId: ref.featureId, taskId, taskState: 'in_dev' };
  if (ref.kind === 'node-chat')
    return { type: 'task', agentType: 'pm', featureId: ref.featureId, taskId, taskState: 'planning' };
  return null;
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

/** The session id of a key this runtime can create, or why not. */
function sessionOf(
  key: SessionKey,
  ref: LegacyFileRef,
  runtime: SessionRuntime,
): string | { reason: string } {
  try {
    const id = sessionIdOf(key);
    assertRegistered(runtime.agents, key);
    return id;
  } catch (error) {
    const why = withoutPrefix(error);
    return {
      reason: /not registered/.test(why)
        ? `${ref.relative} names a session this runtime cannot create: ${why}. ` +
          `Migrate with the host's runtime, which registers it: migrateAll(root, { runtime })`
        : `${ref.relative} cannot name a session: ${why}. Rename its directory to letters, ` +
          `digits, ".", "-" and "_" (no "--", no spaces, no "-" at either end), then migrate again`,
    };
  }
}

/** @internal Reads, validates and judges one legacy file. Never throws for bad input. */
export async function planFile(ref: LegacyFileRef, ctx: PlanContext): Promise<FilePlan> {
  const report: FileReport = {
    file: ref.relative,
    kind: ref.kind,
    layout: ref.layout,
    parts: [ref.relative],
    featureId: ref.featureId,
    ...(ref.taskId === undefined ? {} : { taskId: ref.taskId }),
    sessionId: null,
    status: 'invalid',
    entries: 0,
    messages: 0,
    duplicates: 0,
    skipped: [],
    problems: [],
    sessionCreated: false,
    backup: null,
    checkpoint: null,
    seqRange: null,
    warnings: [],
  };
  const plan: FilePlan = { ref, report, ready: false };
  const fail = (reason: string): FilePlan => ({ ...plan, report: { ...report, reason } });

  let key = keyOfRef(ref);
  if (key) {
    const id = sessionOf(key, ref, ctx.runtime);
    if (typeof id !== 'string') return fail(id.reason);
    report.sessionId = id;
  }
  let parsed: ParsedLegacyFile;
  if (ref.kind === 'dagent-session') {
    const read = await readDagentSession(ref, ctx.maxFileBytes);
    if (!read.ok) return fail(read.reason);
    report.parts = read.parts.map((p) => p.ref.relative);
    plan.sha256 = read.sha256;
    plan.parts = read.parts.map((p) => ({ ref: p.ref, bytes: p.bytes, sha256: p.sha256 }));
    if (!read.outcome.ok) return fail(read.outcome.reason);
    parsed = read.outcome.parsed;
    key = parsed.key!;
    const id = sessionOf(key, ref, ctx.runtime);
    if (typeof id !== 'string') return fail(id.reason);
    report.sessionId = id;
  } else {
    const read = await readLegacyFile(ref, ctx.maxFileBytes);
    if (!read.ok) return fail(read.reason);
    plan.sha256 = read.sha256;
    plan.parts = [{ ref, bytes: read.bytes, sha256: read.sha256 }];
    const outcome =
      ref.kind === 'dev-session' ? parseDevSession(read.value, ref) : parsePMChat(read.value, ref);
    if (!outcome.ok) return fail(outcome.reason);
    parsed = outcome.parsed;
  }
  report.entries = parsed.total;
  report.warnings.push(...parsed.warnings);
  if (parsed.problems.length > 0 && !ctx.skipInvalid) {
    const bad = new Set(parsed.problems.map((p) => p.index)).size;
    return {
      ...plan,
      report: {
        ...report,
        problems: parsed.problems,
        reason:
          `${bad} of ${parsed.total} entries are invalid; nothing was written. Fix them, ` +
          `or migrate with --skip-invalid to take the ${parsed.messages.length} ` +
          `valid entries and list the skipped ones`,
      },
    };
  }
  report.skipped = skippedOf(parsed.problems);

  const earlier = recordOf(ctx.manifests, ref.relative);
  if (earlier) {
    const { manifest, file } = earlier;
    if (file.state === 'done' && file.sha256 === plan.sha256) {
      report.skipped = [];
      report.status = 'already-migrated';
      report.reason = `already migrated by ${manifest.id} into ${file.sessionId}; nothing to do`;
      return { ...plan, report };
    }
    const why =
      file.state === 'done'
        ? `changed since migration ${manifest.id} took it ` +
          `into ${file.sessionId} (its content then is in ${file.backupPath})`
        : `was being migrated by ${manifest.id}, which did not finish (${file.state})`;
    report.skipped = [];
    report.status = 'conflict';
    report.reason =
      `${ref.relative} ${why}. To migrate it as it is now: ` +
      `dagent-sessions migrate --root <root> --rollback ${manifest.id}, then migrate again`;
    return { ...plan, report };
  }
  return { ...plan, report, ready: true, key: key!, parsed };
}
