/**
 * @internal What a task loop makes of an agent's answer: the output checked (messages, checks,
 * files, commands, decisions), whether every check passes, and why an iteration stopped, in the
 * words the checkpoint records.
 */
import { decisionProblems } from '../compaction/ledger/index.js';
import type { DecisionInput, IterationRecord } from '../core/checkpoint-change.js';
import { describeError } from '../core/errors.js';
import type { CheckResult, MessageInput } from '../core/types.js';
import { validateIterationRecord } from '../runtime/checkpoint-edits.js';
import { validateChecks } from '../runtime/validate-arguments.js';
import { validateMessageInput } from '../runtime/validate.js';

/** @internal Every check in the checkpoint passes, and there is at least one. */
export function allPass(checks: readonly CheckResult[] | undefined): boolean {
  return checks !== undefined && checks.length > 0 && checks.every((c) => c.passed);
}

/** @internal The agent's output, checked. */
export interface CheckedOutput {
  messages: MessageInput[];
  checks: CheckResult[];
  done: boolean;
  record: Pick<IterationRecord, 'files' | 'commands'>;
  decisions: DecisionInput[];
}

/** @internal Validates the agent's output; throws a plain error that the loop records. */
export function checkOutput(output: unknown): CheckedOutput {
  if (typeof output !== 'object' || output === null)
    throw new Error('the agent returned no { messages, checks, done } object');
  const o = output as Record<string, unknown>;
  if (!Array.isArray(o.messages)) throw new Error('the agent returned no messages list');
  const messages = o.messages.map((m, i) => {
    try {
      return validateMessageInput(m);
    } catch (error) {
      throw new Error(`the agent's messages[${i}] is invalid: ${describeError(error)}`, { cause: error });
    }
  });
  let checks: CheckResult[];
  try {
    checks = validateChecks(o.checks ?? []);
  } catch (error) {
    throw new Error(`the agent's checks are invalid: ${describeError(error)}`, { cause: error });
  }
  if (o.done !== undefined && typeof o.done !== 'boolean')
    throw new Error('the agent returned a "done" that is not true or false');
  let record: CheckedOutput['record'];
  try {
    const { files, commands } = validateIterationRecord({
      iteration: 1,
      ...(o.files === undefined ? {} : { files: o.files }),
      ...(o.commands === undefined ? {} : { commands: o.commands }),
    });
    record = { ...(files ? { files } : {}), ...(commands ? { commands } : {}) };
  } catch (error) {
    throw new Error(`the agent's files or commands are invalid: ${describeError(error)}`, { cause: error });
  }
  if (o.decisions !== undefined && !Array.isArray(o.decisions))
    throw new Error('the agent returned "decisions" that is not a list');
  const decisions = ((o.decisions ?? []) as unknown[]).map((d, i) => {
    const problems = decisionProblems(d);
    if (problems.length > 0)
      throw new Error(`the agent's decisions[${i}] is invalid: ${problems.join('; ')}`);
    return structuredClone(d) as DecisionInput;
  });
  return { messages, checks, done: o.done === true, record, decisions };
}

/** @internal Why an iteration stopped, in the words the checkpoint records. */
export function stopReasonOf(input: {
  error: { message: string } | null;
  done: boolean;
  passed: boolean;
  checks: readonly CheckResult[];
  last: boolean;
  maxIterations: number;
}): string {
  if (input.error) return `the agent failed: ${input.error.message}`;
  if (input.done) return 'the agent said the work is done';
  if (input.passed) return 'every check passes';
  const reason = input.checks.some((c) => !c.passed) ? 'checks failed' : 'no check passed or failed';
  return input.last ? `${reason}; it was the last of ${input.maxIterations} iterations` : reason;
}
