/**
 * The shape a model must give a checkpoint summary: the JSON schema of the `record_checkpoint`
 * tool, and a hand-written validator with reasons a person can act on (which field, what type).
 */
import type { CheckpointSummary } from '../core/types.js';

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
