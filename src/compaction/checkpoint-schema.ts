/**
 * The shape a model must give a checkpoint summary: the JSON schema of the `record_checkpoint`
 * tool (goals, in progress, next, decisions: what code cannot know), and a hand-written validator
 * with reasons a person can act on (which field, what type).
 */
import { ledgerProblems } from './ledger/ledger-problems.js';
import type { CheckResult, CheckpointSummary, CompactionEscalation, CompactionInfo } from '../core/types.js';

/** Name of the tool the compaction prompt forces the model to call. */
export const CHECKPOINT_TOOL_NAME = 'record_checkpoint';

/**
 * The sections a model is asked for, in order: what code cannot know. The ledger (files, commands,
 * open problems, the user's words) is given to the model, not asked of it.
 */
export const CHECKPOINT_FIELDS = [
  'goals',
  'inProgress',
  'pending',
  'decisions',
] as const satisfies ReadonlyArray<keyof CheckpointSummary>;

/** Sections a checkpoint answer must have (a model's answer without `goals` is still read). */
const REQUIRED_FIELDS = ['inProgress', 'pending', 'decisions'] as const;
/** Sections of older checkpoints and custom compactors, read when present. */
const OPTIONAL_FIELDS = ['goals', 'completed', 'blockers'] as const;

const FIELD_DESCRIPTIONS: Record<(typeof CHECKPOINT_FIELDS)[number], string> = {
  goals: "What the user is after, in the user's terms: the task and its definition of done.",
  inProgress: 'Work started and not finished, with where it stands.',
  pending: 'What comes next: work asked for or planned and not started, in order.',
  decisions: 'Choices made, each with its reason, and rules to keep (what the user asked for or refused).',
};

/** The type of {@link CHECKPOINT_INPUT_SCHEMA}: assignable to the SDK's `Tool.InputSchema`. */
export type CheckpointInputSchema = {
  type: 'object';
  properties: Record<
    (typeof CHECKPOINT_FIELDS)[number],
    { type: 'array'; items: { type: 'string' }; description: string }
  >;
  required: Array<(typeof CHECKPOINT_FIELDS)[number]>;
  additionalProperties: false;
};

/**
 * JSON schema (draft 2020-12 subset) of what a model records: an object with goals, inProgress,
 * pending (next) and decisions, each an array of strings, all required. It is the `input_schema`
 * of the `record_checkpoint` tool. Treat it as read-only (`buildCheckpointPrompt` hands out copies).
 *
 * The schema says `additionalProperties: false`; {@link validateCheckpointSummary} is lenient
 * there: it reads `completed` and `blockers` when an answer has them, and drops other unknown keys
 * (reporting them) rather than failing a whole compaction over a note the model added.
 *
 * @example
 * ```ts
 * client.messages.create({ tools: [{ name: CHECKPOINT_TOOL_NAME, input_schema: CHECKPOINT_INPUT_SCHEMA }], ... });
 * ```
 */
export const CHECKPOINT_INPUT_SCHEMA: CheckpointInputSchema = {
  type: 'object',
  properties: {
    goals: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.goals },
    inProgress: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.inProgress },
    pending: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.pending },
    decisions: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.decisions },
  },
  required: [...CHECKPOINT_FIELDS],
  additionalProperties: false,
};

/** What {@link validateCheckpointSummary} found. */
export type CheckpointValidation =
  | { ok: true; summary: CheckpointSummary; /** Unknown keys that were dropped. */ dropped: string[] }
  | { ok: false; /** One reason per problem, naming the field and the type found. */ problems: string[] };

/**
 * Checks that `value` is a checkpoint summary: an object with `inProgress`, `pending` and
 * `decisions` (and optionally `goals`, `completed`, `blockers`), each an array of strings. Items are
 * trimmed and blank ones dropped; unknown keys are dropped and listed.
 *
 * @param value - Anything, typically a tool input or parsed JSON from a model.
 * @returns `{ ok: true, summary, dropped }`, or `{ ok: false, problems }` listing every problem
 *   (for example `"inProgress" must be an array of strings, got a string`).
 * @example
 * ```ts
 * validateCheckpointSummary({ goals: ['CSV export'], inProgress: [], pending: ['run the tests'], decisions: [] });
 * // { ok: true, summary: {...}, dropped: [] }
 * validateCheckpointSummary({ inProgress: 'all' });
 * // { ok: false, problems: ['"inProgress" must be an array of strings, got a string', 'missing "pending" ...', ...] }
 * ```
 */
export function validateCheckpointSummary(value: unknown): CheckpointValidation {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      problems: [
        `expected an object with ${CHECKPOINT_FIELDS.map((f) => `"${f}"`).join(', ')} ` +
          `(arrays of strings), got ${describeType(value)}`,
      ],
    };
  }
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  const summary: CheckpointSummary = {
    completed: [],
    inProgress: [],
    pending: [],
    decisions: [],
    blockers: [],
  };
  const read = (field: keyof CheckpointSummary, required: boolean): void => {
    if (!Object.hasOwn(record, field)) {
      if (required) problems.push(`missing "${field}" (an array of strings; [] when there is nothing)`);
      return;
    }
    const items = record[field];
    if (!Array.isArray(items)) {
      problems.push(`"${field}" must be an array of strings, got ${describeType(items)}`);
      return;
    }
    const kept: string[] = [];
    items.forEach((item: unknown, index) => {
      if (typeof item !== 'string')
        problems.push(`"${field}[${index}]" must be a string, got ${describeType(item)}`);
      else if (item.trim() !== '') kept.push(item.trim());
    });
    if (field === 'goals') {
      if (kept.length > 0) summary.goals = kept;
    } else summary[field] = kept;
  };
  for (const field of REQUIRED_FIELDS) read(field, true);
  for (const field of OPTIONAL_FIELDS) read(field, false);
  if (problems.length > 0) return { ok: false, problems };
  const known = new Set<string>([...REQUIRED_FIELDS, ...OPTIONAL_FIELDS]);
  return { ok: true, summary, dropped: Object.keys(record).filter((key) => !known.has(key)) };
}

/** @internal `a string`, `a number`, `null`, `an array`, `an object`... for messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

const COUNTS = [
  'messagesCompacted',
  'tokensBefore',
  'tokensAfter',
  'durationMs',
  'chunks',
  'archivedMessages',
  'archivedTokens',
] as const satisfies ReadonlyArray<keyof CompactionInfo>;

/** Every {@link CompactionEscalation}: what `compactionInfo.escalation` may hold. */
const ESCALATIONS: ReadonlySet<unknown> = new Set<CompactionEscalation>([0, 1, 2]);

const isCount = (value: unknown): boolean =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isWhole = (value: unknown, min: number): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= min;

/**
 * Checks a whole checkpoint as `checkpoint.json` holds it: the one rule for what may be written
 * (a compaction's result is checked before anything is written) and what a load accepts, so that
 * the store never writes a file its own loader rejects. Unknown top-level keys are allowed, so
 * that later fields can be added by extending this function.
 *
 * @param value - Anything, typically a checkpoint about to be written or just parsed.
 * @returns Every problem found (empty when it is a valid checkpoint), each naming its field.
 * @example
 * ```ts
 * checkpointProblems({ version: 1, summary: 'all done' });
 * // ['"createdAt" must be a string, got nothing', 'summary: expected an object with ...', ...]
 * ```
 */
export function checkpointProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [`a checkpoint must be an object, got ${describeType(value)}`];
  const c = value as Record<string, unknown>;
  const problems: string[] = [];
  if (!isWhole(c.version, 0))
    problems.push(`"version" must be an integer >= 0, got ${describeType(c.version)}`);
  for (const field of ['createdAt', 'updatedAt'] as const) {
    if (typeof c[field] !== 'string')
      problems.push(`"${field}" must be a string, got ${describeType(c[field])}`);
  }
  const summary = validateCheckpointSummary(c.summary);
  if (!summary.ok) problems.push(...summary.problems.map((p) => `summary: ${p}`));
  if (c.checks !== undefined) {
    const checksOk =
      Array.isArray(c.checks) &&
      c.checks.every(
        (check: unknown) =>
          typeof check === 'object' &&
          check !== null &&
          typeof (check as CheckResult).checkId === 'string' &&
          typeof (check as CheckResult).passed === 'boolean',
      );
    if (!checksOk) problems.push('"checks" must be a list of { checkId: string, passed: boolean }');
  }
  if (!isCount(c.tokens)) problems.push(`"tokens" must be a number >= 0, got ${describeType(c.tokens)}`);
  if (c.ledger !== undefined) problems.push(...ledgerProblems(c.ledger).map((p) => `ledger: ${p}`));
  const info = c.compactionInfo as Record<string, unknown> | null | undefined;
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    problems.push(`"compactionInfo" must be an object, got ${describeType(info)}`);
    return problems;
  }
  if (typeof info.compactor !== 'string') problems.push('"compactionInfo.compactor" must be a string');
  if (!isWhole(info.archivedThroughSeq, -1))
    problems.push('"compactionInfo.archivedThroughSeq" must be an integer >= -1');
  if (!isWhole(info.segment, 0)) problems.push('"compactionInfo.segment" must be an integer >= 0');
  for (const field of COUNTS) {
    if (!isCount(info[field])) problems.push(`"compactionInfo.${field}" must be a number >= 0`);
  }
  if (!ESCALATIONS.has(info.escalation))
    problems.push(
      `"compactionInfo.escalation" must be 0, 1 or 2 (the no-progress guard's step), ` +
        `got ${typeof info.escalation === 'number' ? String(info.escalation) : describeType(info.escalation)}`,
    );
  return problems;
}
