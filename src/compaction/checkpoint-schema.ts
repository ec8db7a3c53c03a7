/**
 * The shape a model must give a checkpoint summary: the JSON schema of the `record_checkpoint`
 * tool, and a hand-written validator with reasons a person can act on (which field, what type).
 */
import type { CheckResult, CheckpointSummary, CompactionInfo } from '../core/types.js';

/** Name of the tool the compaction prompt forces the model to call. */
export const CHECKPOINT_TOOL_NAME = 'record_checkpoint';

/** The five sections of a checkpoint, in the order they are asked for and rendered. */
export const CHECKPOINT_FIELDS = [
  'completed',
  'inProgress',
  'pending',
  'decisions',
  'blockers',
] as const satisfies ReadonlyArray<keyof CheckpointSummary>;

const FIELD_DESCRIPTIONS: Record<keyof CheckpointSummary, string> = {
  completed: 'Work that is done: what changed (files, commands, results), one short factual statement each.',
  inProgress: 'Work started and not finished yet, with where it stands.',
  pending: 'Work asked for or planned and not started yet.',
  decisions:
    'Choices made and rules to keep (APIs, formats, conventions, what the user asked for or refused).',
  blockers: 'Open problems: failing commands or tests with their first error line, missing information.',
};

/** The type of {@link CHECKPOINT_INPUT_SCHEMA}: assignable to the SDK's `Tool.InputSchema`. */
export type CheckpointInputSchema = {
  type: 'object';
  properties: Record<
    keyof CheckpointSummary,
    { type: 'array'; items: { type: 'string' }; description: string }
  >;
  required: Array<keyof CheckpointSummary>;
  additionalProperties: false;
};

/**
 * JSON schema (draft 2020-12 subset) of a checkpoint summary: an object with exactly the five
 * sections, each an array of strings, all required. It is the `input_schema` of the
 * `record_checkpoint` tool. Treat it as read-only (`buildCheckpointPrompt` hands out copies).
 *
 * The schema says `additionalProperties: false`; {@link validateCheckpointSummary} is lenient
 * there and drops unknown keys (reporting them) rather than failing a whole compaction over a
 * note the model added. Missing sections and items that are not strings are errors.
 *
 * @example
 * ```ts
 * client.messages.create({ tools: [{ name: CHECKPOINT_TOOL_NAME, input_schema: CHECKPOINT_INPUT_SCHEMA }], ... });
 * ```
 */
export const CHECKPOINT_INPUT_SCHEMA: CheckpointInputSchema = {
  type: 'object',
  properties: {
    completed: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.completed },
    inProgress: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.inProgress },
    pending: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.pending },
    decisions: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.decisions },
    blockers: { type: 'array', items: { type: 'string' }, description: FIELD_DESCRIPTIONS.blockers },
  },
  required: [...CHECKPOINT_FIELDS],
  additionalProperties: false,
};

/** What {@link validateCheckpointSummary} found. */
export type CheckpointValidation =
  | { ok: true; summary: CheckpointSummary; /** Unknown keys that were dropped. */ dropped: string[] }
  | { ok: false; /** One reason per problem, naming the field and the type found. */ problems: string[] };

/**
 * Checks that `value` is a checkpoint summary: an object with the five sections, each an array of
 * strings. Items are trimmed and blank ones dropped; unknown keys are dropped and listed.
 *
 * @param value - Anything, typically a tool input or parsed JSON from a model.
 * @returns `{ ok: true, summary, dropped }`, or `{ ok: false, problems }` listing every problem
 *   (for example `"inProgress" must be an array of strings, got a string`).
 * @example
 * ```ts
 * validateCheckpointSummary({ completed: ['ran npm test (ok)'], inProgress: [], pending: [], decisions: [], blockers: [] });
 * // { ok: true, summary: {...}, dropped: [] }
 * validateCheckpointSummary({ completed: 'all' });
 * // { ok: false, problems: ['"completed" must be an array of strings, got a string', 'missing "inProgress" ...', ...] }
 * ```
 */
export function validateCheckpointSummary(value: unknown): CheckpointValidation {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      problems: [
        `expected an object with ${CHECKPOINT_FIELDS.map((f) => `"${f}"`).join(', ')} (arrays of strings), got ${describeType(value)}`,
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
  for (const field of CHECKPOINT_FIELDS) {
    if (!Object.hasOwn(record, field)) {
      problems.push(`missing "${field}" (an array of strings; [] when there is nothing)`);
      continue;
    }
    const items = record[field];
    if (!Array.isArray(items)) {
      problems.push(`"${field}" must be an array of strings, got ${describeType(items)}`);
      continue;
    }
    items.forEach((item: unknown, index) => {
      if (typeof item !== 'string')
        problems.push(`"${field}[${index}]" must be a string, got ${describeType(item)}`);
      else if (item.trim() !== '') summary[field].push(item.trim());
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  const known = new Set<string>(CHECKPOINT_FIELDS);
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
  'escalation',
  'archivedMessages',
  'archivedTokens',
] as const satisfies ReadonlyArray<keyof CompactionInfo>;

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
  return problems;
}
