/**
 * Checking that a value is a session ledger, with reasons a person can act on: what a checkpoint
 * validator runs on a checkpoint's `ledger`, written or loaded.
 */
import type { SessionLedger } from '../../core/ledger-types.js';

const FILE_ACTIONS = new Set(['read', 'created', 'edited', 'deleted']);
const STATUSES = new Set(['ok', 'failed', 'unknown']);
const SOURCES = new Set(['iteration', 'todos', 'activity']);
const DECISION_KINDS = new Set(['review', 'merge', 'decision']);
const OUTCOMES = new Set(['approved', 'rejected', 'resolved', 'decided']);

/**
 * What is wrong with `value` as a ledger; empty when it is one.
 *
 * @param value - anything, typically `checkpoint.ledger` as read from disk.
 * @returns one reason per problem (at most one per list), naming the field.
 * @example ledgerProblems({ files: 'x' }) // ['ledger.files must be a list of { path, action, seq, firstSeq }', ...]
 */
export function ledgerProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [
      'ledger must be an object { files, commands, problems, requests, names, status, throughSeq, iterations }',
    ];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  const list = (
    field: string,
    shape: string,
    ok: (item: Record<string, unknown>) => boolean,
    optional = false,
  ) => {
    const items = v[field];
    if (optional && items === undefined) return;
    if (
      !Array.isArray(items) ||
      !items.every((item) => item !== null && typeof item === 'object' && ok(item))
    )
      problems.push(`ledger.${field} must be a list of ${shape}`);
  };
  const text = (x: unknown) => typeof x === 'string';
  const int = (x: unknown, min: number) => typeof x === 'number' && Number.isInteger(x) && x >= min;
  list(
    'files',
    '{ path, action (read, created, edited, deleted), seq, firstSeq }',
    (f) => text(f.path) && FILE_ACTIONS.has(f.action as string) && int(f.seq, -1) && int(f.firstSeq, -1),
  );
  list(
    'commands',
    '{ command, kind, runs >= 1, seq, status (ok, failed, unknown) }',
    (c) =>
      text(c.command) &&
      (c.kind === 'command' || c.kind === 'tool') &&
      int(c.runs, 1) &&
      int(c.seq, -1) &&
      STATUSES.has(c.status as string),
  );
  list(
    'problems',
    '{ key, text, since, seq, count >= 1 }',
    (p) => text(p.key) && text(p.text) && int(p.since, -1) && int(p.seq, -1) && int(p.count, 1),
  );
  list(
    'requests',
    '{ text, seq, correction }',
    (r) => text(r.text) && int(r.seq, -1) && typeof r.correction === 'boolean',
  );
  list(
    'names',
    '{ name, mentions >= 1, seq }',
    (n) => text(n.name) && int(n.mentions, 1) && int(n.seq, -1),
    true,
  );
  list(
    'iterationLog',
    '{ iteration >= 0, text, seq }',
    (i) => int(i.iteration, 0) && text(i.text) && int(i.seq, -1),
    true,
  );
  const texts = (x: unknown) => Array.isArray(x) && x.every(text);
  list(
    'decisions',
    '{ key, kind (review, merge, decision), subject, outcome, text, reasons, count >= 1, seq }',
    (d) =>
      text(d.key) &&
      DECISION_KINDS.has(d.kind as string) &&
      text(d.subject) &&
      OUTCOMES.has(d.outcome as string) &&
      text(d.text) &&
      texts(d.reasons) &&
      (d.files === undefined || texts(d.files)) &&
      int(d.count, 1) &&
      int(d.seq, -1),
    true,
  );
  const status = v.status;
  if (
    status !== null &&
    !(
      typeof status === 'object' &&
      status !== undefined &&
      text((status as Record<string, unknown>).text) &&
      int((status as Record<string, unknown>).seq, -1) &&
      SOURCES.has((status as Record<string, unknown>).source as string)
    )
  )
    problems.push('ledger.status must be null or { text, seq, source (iteration, todos, activity) }');
  if (!int(v.throughSeq, -1)) problems.push('ledger.throughSeq must be an integer >= -1');
  if (!int(v.iterations, 0)) problems.push('ledger.iterations must be an integer >= 0');
  return problems;
}

/**
 * Whether a value is a ledger (see {@link ledgerProblems}).
 *
 * @param value - anything.
 * @returns true when `ledgerProblems(value)` finds nothing.
 * @example isLedger(emptyLedger()) // true
 */
export function isLedger(value: unknown): value is SessionLedger {
  return ledgerProblems(value).length === 0;
}
