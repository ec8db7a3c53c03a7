/**
 * @internal The checkpoint a new session may start with (`createSession(key, { checkpoint })`):
 * what a migration carries over from a conversation whose older part only survives as a
 * summary, or what a host knows before the first message. It is version 0, as a checkpoint that
 * only records checks is: no compaction made it and nothing is archived; the first compaction
 * folds into it and makes version 1 (so `stats.totalCompactions` stays a count of compactions).
 */
import { SessionError } from '../core/errors.js';
import type { CheckResult, Checkpoint, CheckpointSummary } from '../core/types.js';
import { emptyCheckpoint } from '../core/empty-checkpoint.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { validateChecks } from './validate-arguments.js';

/**
 * What `createSession(key, { checkpoint })` takes: the five summary sections (each a list of
 * short statements; missing ones are empty), the goals (a PM planning session starts with its
 * feature's), and, optionally, verification checks.
 *
 * @example
 * const start: InitialCheckpoint = { summary: { goals: ['CSV export'], pending: ['Add CSV export'],
 *   decisions: ['UTF-8 only'] } };
 */
export interface InitialCheckpoint {
  summary: Partial<CheckpointSummary>;
  checks?: CheckResult[];
}

const SECTIONS = ['completed', 'inProgress', 'pending', 'decisions', 'blockers'] as const;
/** Sections written only when given: older checkpoints and compactors do not have them. */
const OPTIONAL_SECTIONS = ['goals'] as const;

function invalid(message: string): never {
  throw new SessionError('INVALID_ARGUMENT', 'runtime', `checkpoint: ${message}`);
}

/**
 * @internal Checks an initial checkpoint and returns it as version 0 of the session's checkpoint.
 * @throws SessionError `INVALID_ARGUMENT` naming the field, or when it counts more tokens than the
 *   session's checkpoint budget (a compaction would have to shrink it before anything else).
 */
export function initialCheckpointOf(
  value: unknown,
  options: { now: string; estimator: TokenEstimator; budgetTokens: number },
): Checkpoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid('must be an object like { summary: { completed: [], pending: ["..."] }, checks? }');
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).filter((k) => k !== 'summary' && k !== 'checks');
  if (unknown.length > 0)
    invalid(`unknown field ${JSON.stringify(unknown[0])}; the fields are summary, checks`);
  const s = v.summary;
  if (typeof s !== 'object' || s === null || Array.isArray(s))
    invalid(`summary must be an object with the lists ${SECTIONS.join(', ')}`);
  const known: readonly string[] = [...OPTIONAL_SECTIONS, ...SECTIONS];
  const extra = Object.keys(s).filter((k) => !known.includes(k));
  if (extra.length > 0)
    invalid(`summary has unknown section ${JSON.stringify(extra[0])}; the sections are ${known.join(', ')}`);
  const summary = {} as CheckpointSummary;
  for (const section of SECTIONS) {
    const list = (s as Record<string, unknown>)[section] ?? [];
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string'))
      invalid(`summary.${section} must be a list of strings`);
    summary[section] = [...(list as string[])];
  }
  const goals = (s as Record<string, unknown>).goals;
  if (goals !== undefined) {
    if (!Array.isArray(goals) || !goals.every((item) => typeof item === 'string'))
      invalid('summary.goals must be a list of strings');
    if (goals.length > 0) summary.goals = [...(goals as string[])];
  }
  const checks = v.checks === undefined ? undefined : validateChecks(v.checks);
  const base = emptyCheckpoint(options.now, 'initial');
  const checkpoint: Checkpoint = {
    ...base,
    summary,
    ...(checks ? { checks: checks.map((c) => ({ ...c, at: c.at ?? options.now })) } : {}),
  };
  const tokens = options.estimator.estimateCheckpoint(checkpoint);
  if (tokens > options.budgetTokens)
    invalid(
      `it counts ${tokens} tokens, over the session's checkpoint budget ` +
        `of ${options.budgetTokens} (limits.checkpointTokens); shorten it`,
    );
  return { ...checkpoint, tokens, compactionInfo: { ...checkpoint.compactionInfo, tokensAfter: tokens } };
}
