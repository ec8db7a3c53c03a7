/**
 * Recording a task-loop (Ralph-loop) iteration's outcome into a ledger: what the agent changed,
 * which commands ran and how they ended, the checks, and why the iteration stopped. The same rules
 * as for messages apply: a failed check is an open problem until it passes, a command's last run
 * replaces the earlier one, the status is the newest.
 */
import type { IterationRecord } from '../../core/checkpoint-change.js';
import type { LedgerCommand, LedgerFile, SessionLedger } from '../../core/ledger-types.js';
import { commandLine } from '../../request/format-ledger.js';
import { normaliseCommand } from '../vocabulary/describe-call.js';
import { clip, type Outcome } from '../vocabulary/outcome.js';
import { LedgerBuilder } from './ledger-builder.js';

export type { IterationRecord } from '../../core/checkpoint-change.js';

/**
 * Records an iteration into `ledger` and returns the new ledger; `ledger` is not changed.
 * Facts of an iteration carry its number; the status becomes
 * `iteration N: <stop reason> (checks: 2 of 3 passed)`, and the iteration log gets a line of what
 * it did: why it stopped, its checks (a check that passes again says when it failed), the files it
 * changed and the commands it ran with their last outcome. Those are the facts of `record` and the
 * ledger's facts newer than the previous iteration's line (what its messages showed, recorded
 * before with {@link recordMessages}).
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
  // What this iteration's messages showed: the facts newer than the last iteration's line.
  const since = builder.lastIteration()?.seq ?? -1;
  const recovered = new Map<string, string>(); // check id → when it failed
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
    const open = builder.problem(key);
    if (check.passed && open !== undefined) recovered.set(check.checkId, failedWhen(open));
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
  builder.iterationLine(
    iteration,
    iterationText(record, builder.touchedSince(since, iteration), recovered),
    seq,
  );
  return builder.result();
}

/** `failed in iteration 1`, `failed 3 times, last in iteration 4`. */
function failedWhen(problem: { count: number; iteration?: number }): string {
  const last = problem.iteration === undefined ? '' : ` in iteration ${problem.iteration}`;
  return problem.count > 1 ? `failed ${problem.count} times, last${last}` : `failed${last}`;
}

/**
 * The iteration's line: `checks failed · failed: tests (2 failing) · passed: lint · edited
 * src/a.ts · ran \`npm test\` → failed (exit 1)`.
 */
function iterationText(
  record: IterationRecord,
  touched: { files: readonly LedgerFile[]; commands: readonly LedgerCommand[] },
  recovered: ReadonlyMap<string, string>,
): string {
  const checks = record.checks ?? [];
  const failed = checks.filter((c) => !c.passed);
  const passed = checks.filter((c) => c.passed).map((c) => c.checkId);
  const parts: string[] = [record.stopReason ?? 'ended'];
  if (failed.length > 0)
    parts.push(
      `failed: ${failed.map((c) => `${c.checkId}${c.error ? ` (${clip(c.error, 80)})` : ''}`).join(', ')}`,
    );
  if (recovered.size > 0)
    parts.push(`passes again: ${[...recovered].map(([id, when]) => `${id} (${when})`).join(', ')}`);
  const others = passed.filter((id) => !recovered.has(id));
  if (others.length > 0) parts.push(`passed: ${others.join(', ')}`);
  // Files changed and commands run, oldest first, each with its last action or outcome.
  const byAction = new Map<string, string[]>();
  for (const file of [...touched.files].reverse())
    if (file.action !== 'read') byAction.set(file.action, [...(byAction.get(file.action) ?? []), file.path]);
  for (const [action, paths] of byAction) parts.push(`${action} ${paths.join(', ')}`);
  const ran = [...touched.commands].reverse().map((c) => commandLine({ ...c, runs: 1 }));
  if (ran.length > 0) parts.push(`ran ${ran.join('; ')}`);
  return parts.join(' · ');
}
