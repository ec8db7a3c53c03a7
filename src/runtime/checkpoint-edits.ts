/**
 * @internal Changes to a checkpoint that a host asks for: a hand edit (`editCheckpoint`), a
 * decision (`recordDecision`), and what a clear commits with it (a task-loop iteration). Each is
 * checked before the session's actor sees it, then committed by the actor between compactions, as
 * a new checkpoint version written through the normal write path (a compaction running at the
 * same time never overwrites it).
 */
import type { ClearReply, SessionActorRef } from '../../machines/session.machine.js';
import { checkpointProblems } from '../compaction/checkpoint-schema.js';
import { applyEdit, decisionProblems, emptyLedger, upgradeCheckpoint } from '../compaction/ledger/index.js';
import { emptyCheckpoint } from '../core/empty-checkpoint.js';
import type {
  CheckpointChange,
  CheckpointEdit,
  DecisionInput,
  IterationRecord,
} from '../core/checkpoint-change.js';
import { SessionError } from '../core/errors.js';
import type { Checkpoint, Limits } from '../core/types.js';
import type { SessionHandle } from './session-handle.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import type { SessionEvent } from './events.js';
import { checkMethodOptions } from './method-options.js';
import { toSessionError } from './session-info.js';
import type { ClearOptions, SessionRuntime } from './types.js';
import { jsonProblem } from './validate.js';

type Loaded = { ref: SessionActorRef; dir: SessionHandle; limits: Limits };

/** @internal What these calls need of the runtime. */
export interface CheckpointEditDeps {
  loadedDir(id: string): Promise<Loaded>;
  writableDir(id: string): Promise<Loaded>;
  send<T extends { ok: boolean; error?: unknown }>(
    id: string,
    build: (reply: (value: T) => void) => Parameters<SessionActorRef['send']>[0],
  ): Promise<T>;
  assertWritable(): void;
  estimator: TokenEstimator;
  at(): string;
  publish(event: SessionEvent): void;
}

const SECTIONS = ['goals', 'completed', 'inProgress', 'pending', 'decisions', 'blockers'] as const;
/** Ledger fields a person may edit; `throughSeq` and `iterations` are the ledger's own bookkeeping. */
const LEDGER_FIELDS = [
  'files',
  'commands',
  'problems',
  'requests',
  'names',
  'status',
  'iterationLog',
  'decisions',
] as const;

function invalid(message: string, details?: Record<string, unknown>): never {
  throw new SessionError('INVALID_ARGUMENT', 'runtime', message, details ? { details } : {});
}

function plainObject(value: unknown, what: string, fields: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid(`${what} must be an object with some of ${fields.join(', ')}`);
  const unknown = Object.keys(value).filter((key) => !fields.includes(key));
  if (unknown.length > 0) {
    const own = unknown[0] === 'throughSeq' || unknown[0] === 'iterations';
    invalid(
      own
        ? `${what}.${unknown[0]} is kept by the ledger itself and cannot be edited; the fields are ${fields.join(', ')}`
        : `${what} has unknown field ${JSON.stringify(unknown[0])}; the fields are ${fields.join(', ')}`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * @internal Checks the shape of a hand edit: `{ summary?, ledger? }`, at least one, summary
 * sections as lists of strings, known ledger fields only. The fields' contents are checked with
 * the whole checkpoint they make ({@link checkpointProblems}).
 * @throws SessionError `INVALID_ARGUMENT` naming the field.
 */
export function validateCheckpointEdit(value: unknown): CheckpointEdit {
  const edit = plainObject(value, 'edit', ['summary', 'ledger']);
  if (edit.summary === undefined && edit.ledger === undefined)
    invalid('edit must give summary, ledger or both: { summary: { pending: ["..."] } }');
  const problem = jsonProblem(edit, 'edit');
  if (problem) invalid(problem);
  if (edit.summary !== undefined) {
    const summary = plainObject(edit.summary, 'edit.summary', SECTIONS);
    for (const [section, items] of Object.entries(summary))
      if (!Array.isArray(items) || !items.every((item) => typeof item === 'string'))
        invalid(`edit.summary.${section} must be a list of strings`);
  }
  if (edit.ledger !== undefined) plainObject(edit.ledger, 'edit.ledger', LEDGER_FIELDS);
  return structuredClone(edit) as CheckpointEdit;
}

/**
 * @internal Checks a task-loop iteration record (what `clearMessages(id, { iteration })` commits).
 * @throws SessionError `INVALID_ARGUMENT` naming the field.
 */
export function validateIterationRecord(value: unknown): IterationRecord {
  const r = plainObject(value, 'iteration', [
    'iteration',
    'files',
    'commands',
    'checks',
    'stopReason',
    'settled',
  ]);
  if (!(Number.isSafeInteger(r.iteration) && (r.iteration as number) >= 1))
    invalid('iteration.iteration must be an integer >= 1');
  const listOf = (field: string, ok: (item: Record<string, unknown>) => boolean, shape: string) => {
    const items = r[field];
    if (items === undefined) return;
    if (
      !Array.isArray(items) ||
      !items.every((item) => typeof item === 'object' && item !== null && ok(item as Record<string, unknown>))
    )
      invalid(`iteration.${field} must be a list of ${shape}`);
  };
  const text = (x: unknown) => typeof x === 'string' && x !== '';
  const optional = (x: unknown, type: string) => x === undefined || typeof x === type;
  listOf(
    'files',
    (f) => text(f.path) && ['read', 'created', 'edited', 'deleted'].includes(f.action as string),
    '{ path, action (read, created, edited, deleted) }',
  );
  listOf(
    'commands',
    (c) =>
      text(c.command) &&
      (c.exitCode === undefined || Number.isSafeInteger(c.exitCode)) &&
      optional(c.ok, 'boolean') &&
      optional(c.passed, 'number') &&
      optional(c.failed, 'number') &&
      optional(c.error, 'string'),
    '{ command, exitCode?, ok?, passed?, failed?, error? }',
  );
  listOf(
    'checks',
    (c) => text(c.checkId) && typeof c.passed === 'boolean' && optional(c.error, 'string'),
    '{ checkId, passed, error? }',
  );
  if (!optional(r.stopReason, 'string')) invalid('iteration.stopReason must be a string');
  if (r.settled !== undefined && !(Array.isArray(r.settled) && r.settled.every(text)))
    invalid('iteration.settled must be a list of problem keys');
  const problem = jsonProblem(r, 'iteration');
  if (problem) invalid(problem);
  return structuredClone(r) as unknown as IterationRecord;
}

/**
 * @internal Checks a decision ({@link decisionProblems}).
 * @throws SessionError `INVALID_ARGUMENT` naming the field.
 */
export function validateDecision(value: unknown): DecisionInput {
  const problems = decisionProblems(value);
  if (problems.length > 0) invalid(`decision: ${problems.join('; ')}`);
  return structuredClone(value) as DecisionInput;
}

/**
 * @internal Checks what `clearMessages` is given to commit with the clear. Its names follow the
 * rule of every options object ({@link checkMethodOptions}): none other, and one set to
 * `undefined` is let be.
 * @throws SessionError `INVALID_ARGUMENT` naming the field.
 */
export function validateClearOptions(value: unknown): ClearOptions {
  if (value === undefined || value === null) return {};
  checkMethodOptions('clearMessages', value);
  const o = value as Record<string, unknown>;
  const options: ClearOptions = {};
  if (o.iteration !== undefined) options.iteration = validateIterationRecord(o.iteration);
  if (o.decisions !== undefined) {
    if (!Array.isArray(o.decisions)) invalid('options.decisions must be a list of decisions');
    options.decisions = o.decisions.map(validateDecision);
  }
  return options;
}

/**
 * @internal The checkpoint a hand edit makes of `checkpoint` (null: an empty one), checked: a
 * valid checkpoint within `limits.checkpointTokens`. The session on Restate runs the same check.
 * @throws SessionError `INVALID_ARGUMENT` saying what is wrong; nothing was written.
 */
export function checkEditedCheckpoint(
  checkpoint: Checkpoint | null,
  edit: CheckpointEdit,
  deps: { limits: Pick<Limits, 'checkpointTokens'>; estimator: TokenEstimator; at: string },
): Checkpoint {
  const { limits, estimator } = deps;
  const current = checkpoint === null ? emptyCheckpoint(deps.at) : upgradeCheckpoint(checkpoint);
  const parts = applyEdit({ summary: current.summary, ledger: current.ledger ?? emptyLedger() }, edit);
  const next: Checkpoint = { ...current, ...parts, version: current.version + 1 };
  const problems = checkpointProblems(next);
  if (problems.length > 0)
    invalid(
      `editCheckpoint: the edit does not make a valid checkpoint (${problems.join('; ')}); nothing was written`,
      {
        problems,
      },
    );
  const tokens = estimator.estimateCheckpoint(next);
  if (tokens > limits.checkpointTokens)
    invalid(
      `editCheckpoint: the edited checkpoint counts ${tokens} tokens, over the session's checkpoint budget of ` +
        `${limits.checkpointTokens} (limits.checkpointTokens); shorten it. Nothing was written`,
      { tokens, budgetTokens: limits.checkpointTokens },
    );
  return next;
}

/** @internal The calls, bound to the runtime's internals. */
export function checkpointEdits(
  deps: CheckpointEditDeps,
): Pick<SessionRuntime, 'editCheckpoint' | 'recordDecision'> {
  const { loadedDir, writableDir, send, assertWritable, estimator, at, publish } = deps;

  /** Commits `change` as a new checkpoint version (mode `edit`: nothing archived); returns it. */
  async function commit(id: string, change: CheckpointChange): Promise<Checkpoint> {
    const reply = await send<ClearReply>(id, (r) => ({ type: 'CLEAR', mode: 'edit', change, reply: r }));
    if (!reply.ok) throw toSessionError(reply.error, id);
    const { dir } = await loadedDir(id); // the actor that committed it (send may have reopened the session)
    const checkpoint = dir.checkpoint ?? emptyCheckpoint(at());
    publish({
      type: 'session.checkpoint.edited',
      sessionId: id,
      at: at(),
      what: change.edit !== undefined ? 'edit' : 'decision',
      checkpointVersion: checkpoint.version,
    });
    return structuredClone(checkpoint);
  }

  return {
    async editCheckpoint(id, editInput) {
      assertWritable();
      const edit = validateCheckpointEdit(editInput);
      const { dir, limits } = await writableDir(id);
      // Checked against the checkpoint as it is now, so that a bad edit is refused before it is queued.
      checkEditedCheckpoint(dir.checkpoint, edit, { limits, estimator, at: at() });
      return commit(id, { edit, at: at() });
    },

    async recordDecision(id, decisionInput) {
      assertWritable();
      const decision = validateDecision(decisionInput);
      return commit(id, { decisions: [decision], at: at() });
    },
  };
}
