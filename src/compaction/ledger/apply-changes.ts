/**
 * The checkpoint changes a clear commits besides archiving (a task-loop iteration, decisions, a
 * hand edit), applied to a summary and a ledger. Pure: a clear, an edit and their tests share it.
 */
import type { CheckpointChange, CheckpointEdit } from '../../core/checkpoint-change.js';
import type { SessionLedger } from '../../core/ledger-types.js';
import { isInternalMessage } from '../../core/request-size.js';
import type { CheckpointSummary, Message } from '../../core/types.js';
import { recordDecision } from './record-decision.js';
import { recordIteration } from './record-iteration.js';
import { recordMessages } from './record-messages.js';

/** The parts of a checkpoint that changes touch. */
export interface SummaryAndLedger {
  summary: CheckpointSummary;
  ledger: SessionLedger;
}

/**
 * Records `messages` in the ledger (internal ones are never read), then applies `changes` in
 * order: an iteration ({@link recordIteration}), its decisions ({@link recordDecision}, stamped
 * with the iteration and the change's `at`), a hand edit ({@link applyEdit}). The arguments are not
 * changed.
 *
 * @param parts - the summary and ledger before.
 * @param messages - the messages the clear archives, oldest first.
 * @param changes - what to apply after them.
 * @returns the new summary and ledger.
 * @throws SessionError `INVALID_ARGUMENT` for a decision that is not one.
 * @example
 * ```ts
 * const next = applyCheckpointChanges({ summary, ledger }, archived, [
 *   { iteration: { iteration: 3, stopReason: 'checks passed' } },
 * ]);
 * ```
 */
export function applyCheckpointChanges(
  parts: SummaryAndLedger,
  messages: readonly Message[],
  changes: readonly CheckpointChange[],
): SummaryAndLedger {
  let { summary, ledger } = parts;
  const sent = messages.filter((message) => !isInternalMessage(message));
  if (sent.length > 0) ledger = recordMessages(ledger, sent);
  for (const change of changes) {
    if (change.iteration !== undefined) ledger = recordIteration(ledger, change.iteration);
    for (const decision of change.decisions ?? [])
      ledger = recordDecision(ledger, decision, {
        ...(change.at === undefined ? {} : { at: change.at }),
        ...(change.iteration === undefined ? {} : { iteration: change.iteration.iteration }),
      });
    if (change.edit !== undefined) ({ summary, ledger } = applyEdit({ summary, ledger }, change.edit));
  }
  return { summary, ledger };
}

/**
 * A hand edit applied: each summary section given replaces that section, each ledger field given
 * replaces that field; what is not given stays. Copies; the arguments are not changed. The result
 * is not checked here: a session checks the whole checkpoint before it writes it.
 *
 * @param parts - the summary and ledger before.
 * @param edit - the sections and fields to replace.
 * @returns the edited summary and ledger.
 * @example applyEdit({ summary, ledger }, { summary: { pending: ['ship it'] }, ledger: { problems: [] } })
 */
export function applyEdit(parts: SummaryAndLedger, edit: CheckpointEdit): SummaryAndLedger {
  const defined = <T extends object>(value: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    summary: structuredClone({ ...parts.summary, ...defined(edit.summary) }),
    ledger: structuredClone({ ...parts.ledger, ...defined(edit.ledger) }),
  };
}
