/**
 * Recording decisions into a ledger: harness reviews (approved or rejected, with the reasons),
 * merge conflict resolutions, and other choices a host or a task loop makes. A decision is kept
 * whatever a compactor writes; only a later decision about the same thing supersedes it.
 */
import type { DecisionInput } from '../../core/checkpoint-change.js';
import { SessionError } from '../../core/errors.js';
import type { LedgerDecision, SessionLedger } from '../../core/ledger-types.js';
import { clip } from '../vocabulary/outcome.js';
import { LedgerBuilder } from './ledger-builder.js';

/** Longest subject, resolution or reason kept, in characters. */
const MAX_TEXT = 300;
/** Most reasons and files kept per decision. */
const MAX_ITEMS = 20;

/**
 * Records a decision into `ledger` and returns the new ledger; `ledger` is not changed. Its key is
 * `<kind>:<subject>`: a decision with the same key replaces the earlier one (its `count` goes up,
 * so the second review of a task says so).
 *
 * @param ledger - the ledger so far (null for none).
 * @param decision - the decision ({@link DecisionInput}); checked, see {@link decisionProblems}.
 * @param options - `at` (ISO time) and `iteration` to stamp on it.
 * @returns the ledger with the decision.
 * @throws SessionError `INVALID_ARGUMENT` naming the field, for a decision that is not one.
 * @example
 * ```ts
 * const ledger = recordDecision(checkpoint.ledger, {
 *   kind: 'review', subject: 'parser', approved: false, reasons: ['no test for empty input'], by: 'harness',
 * });
 * ledger.decisions?.[0]?.text; // 'review of parser: rejected'
 * ```
 */
export function recordDecision(
  ledger: SessionLedger | null | undefined,
  decision: DecisionInput,
  options: { at?: string; iteration?: number } = {},
): SessionLedger {
  const problems = decisionProblems(decision);
  if (problems.length > 0)
    throw new SessionError('INVALID_ARGUMENT', 'runtime', `decision: ${problems.join('; ')}`);
  const builder = new LedgerBuilder(ledger);
  const entry = ledgerDecisionOf(decision, builder.throughSeq);
  if (options.at !== undefined) entry.at = options.at;
  if (options.iteration !== undefined) entry.iteration = options.iteration;
  builder.decision(entry);
  return builder.result();
}

/**
 * What is wrong with `value` as a {@link DecisionInput}; empty when it is one.
 *
 * @param value - anything, typically a host's argument.
 * @returns one reason per problem, naming the field.
 * @example decisionProblems({ kind: 'review', subject: 'parser' }) // ['a review needs "approved": true or false']
 */
export function decisionProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return ['must be an object like { kind: "review", subject, approved, reasons }'];
  const d = value as Record<string, unknown>;
  const problems: string[] = [];
  const text = (field: string, required: boolean) => {
    const v = d[field];
    if (v === undefined && !required) return;
    if (typeof v !== 'string' || v.trim() === '') problems.push(`"${field}" must be a non-empty string`);
  };
  const list = (field: string) => {
    const v = d[field];
    if (v === undefined) return;
    if (!Array.isArray(v) || !v.every((item) => typeof item === 'string'))
      problems.push(`"${field}" must be a list of strings`);
  };
  const known: Record<string, readonly string[]> = {
    review: ['kind', 'subject', 'approved', 'reasons', 'by'],
    merge: ['kind', 'subject', 'resolution', 'files', 'reasons', 'by'],
    decision: ['kind', 'subject', 'text', 'reasons', 'by'],
  };
  const fields = known[d.kind as string];
  if (fields === undefined || !Object.hasOwn(known, d.kind as string))
    return [`"kind" must be "review", "merge" or "decision", got ${JSON.stringify(d.kind)}`];
  text('subject', true);
  text('by', false);
  list('reasons');
  if (d.kind === 'review' && typeof d.approved !== 'boolean')
    problems.push('a review needs "approved": true or false');
  if (d.kind === 'merge') {
    text('resolution', true);
    list('files');
  }
  if (d.kind === 'decision') text('text', true);
  const unknown = Object.keys(d).filter((key) => !fields.includes(key));
  if (unknown.length > 0)
    problems.push(`unknown field ${JSON.stringify(unknown[0])}; the fields are ${fields.join(', ')}`);
  return problems;
}

/** The ledger entry of a checked decision (without its count). */
function ledgerDecisionOf(decision: DecisionInput, seq: number): Omit<LedgerDecision, 'count'> {
  const subject = clip(oneLine(decision.subject), MAX_TEXT);
  const reasons = (decision.reasons ?? [])
    .map((reason) => clip(oneLine(reason), MAX_TEXT))
    .filter((reason) => reason !== '')
    .slice(0, MAX_ITEMS);
  const base = {
    key: `${decision.kind}:${subject}`,
    kind: decision.kind,
    subject,
    reasons,
    seq,
    ...(decision.by === undefined ? {} : { by: clip(oneLine(decision.by), MAX_TEXT) }),
  };
  switch (decision.kind) {
    case 'review': {
      const outcome = decision.approved ? 'approved' : 'rejected';
      return { ...base, outcome, text: `review of ${subject}: ${outcome}` };
    }
    case 'merge': {
      const files = (decision.files ?? [])
        .map(oneLine)
        .filter((f) => f !== '')
        .slice(0, MAX_ITEMS);
      const how = clip(oneLine(decision.resolution), MAX_TEXT);
      return {
        ...base,
        outcome: 'resolved',
        text: `merge conflict in ${subject}${files.length > 0 ? ` (${files.join(', ')})` : ''} resolved: ${how}`,
        ...(files.length > 0 ? { files } : {}),
      };
    }
    case 'decision':
      return { ...base, outcome: 'decided', text: `${subject}: ${clip(oneLine(decision.text), MAX_TEXT)}` };
  }
}

function oneLine(text: string): string {
  return String(text).replace(/\s+/g, ' ').trim();
}
