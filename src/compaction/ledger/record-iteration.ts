/**
 * Recording a task-loop (Ralph-loop) iteration's outcome into a ledger: what the agent changed,
 * which commands ran and how they ended, the checks, and why the iteration stopped. The same rules
 * as for messages apply: a failed check is an open problem until it passes, a command's last run
 * replaces the earlier one, the status is the newest.
 */
import type { FileAction, SessionLedger } from '../../core/ledger-types.js';
import { normaliseCommand } from '../vocabulary/describe-call.js';
import { clip, type Outcome } from '../vocabulary/outcome.js';
import { LedgerBuilder } from './ledger-builder.js';

/** One iteration of a task loop, as its loop saw it. */
export interface IterationRecord {
  /** The iteration's number, from 1. */
  iteration: number;
  /** Files the agent changed (or read). */
  files?: ReadonlyArray<{ path: string; action: FileAction }>;
  /** Commands that ran, in order, with how they ended. */
  commands?: ReadonlyArray<{
    command: string;
    /** Exit code; `ok` is derived from it when not given. */
    exitCode?: number;
    ok?: boolean;
    passed?: number;
    failed?: number;
    /** The telling line of a failure. */
    error?: string;
  }>;
  /** The loop's checks: a failed one is an open problem (`check:<id>`) until it passes. */
  checks?: ReadonlyArray<{ checkId: string; passed: boolean; error?: string }>;
  /** Why the iteration stopped (`checks passed`, `max iterations`, `agent gave up: ...`). */
  stopReason?: string;
  /** Problem keys the loop settles itself (a user decision, a waived check). */
  settled?: readonly string[];
}

/**
 * Records an iteration into `ledger` and returns the new ledger; `ledger` is not changed.
 * Facts of an iteration carry its number; the status becomes
 * `iteration N: <stop reason> (checks: 2 of 3 passed)`.
 *
 * @param ledger - the ledger so far (null for none).
 * @param record - what the iteration did.
 * @returns the ledger with the iteration's facts.
 * @example
 * ```ts
 * const ledger = recordIteration(checkpoint.ledger ?? null, {
 *   iteration: 3,
 *   files: [{ path: 'src/parser.ts', action: 'edited' }],
 *   commands: [{ command: 'npm test', exitCode: 1, failed: 2, passed: 40, error: 'AssertionError: ...' }],
 *   checks: [{ checkId: 'tests', passed: false, error: '2 failed' }],
 *   stopReason: 'checks failed',
 * });
 * ```
 */
export function recordIteration(
  ledger: SessionLedger | null | undefined,
  record: IterationRecord,
): SessionLedger {
  const builder = new LedgerBuilder(ledger);
  const seq = builder.throughSeq;
  const iteration = record.iteration;
  builder.nextIteration(iteration);
  for (const file of record.files ?? []) builder.file(file.path, file.action, seq, iteration);
  for (const run of record.commands ?? []) {
    const command = normaliseCommand(run.command);
    if (command === '') continue;
    const ok = run.ok ?? (run.exitCode === undefined ? undefined : run.exitCode === 0);
    const outcome: Outcome = { status: ok === undefined ? 'unknown' : ok ? 'ok' : 'failed' };
    if (run.exitCode !== undefined) outcome.exitCode = run.exitCode;
    if (run.passed !== undefined) outcome.passed = run.passed;
    if (run.failed !== undefined) outcome.failed = run.failed;
    if (run.error !== undefined && ok === false) outcome.error = clip(run.error, 160);
    builder.run({ command, kind: 'command', problemKey: command, outcome, seq, iteration });
  }
  for (const check of record.checks ?? []) {
    const key = `check:${check.checkId}`;
    if (check.passed) builder.settle([key]);
    else
      builder.fail(
        key,
        `check ${check.checkId} failed${check.error ? `: ${check.error}` : ''}`,
        seq,
        iteration,
      );
  }
  builder.settle(record.settled ?? []);
  const checks = record.checks ?? [];
  const passed = checks.filter((check) => check.passed).length;
  const status = [
    `iteration ${iteration}`,
    record.stopReason ? `: ${record.stopReason}` : ': ended',
    checks.length > 0 ? ` (checks: ${passed} of ${checks.length} passed)` : '',
  ].join('');
  builder.status(status, seq, 'iteration', iteration);
  return builder.result();
}
