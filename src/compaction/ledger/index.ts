/**
 * The session ledger: recording messages, task-loop iterations and decisions, fitting a checkpoint
 * to its budget, and reading older checkpoints as schema 2.
 */
export { emptyLedger } from './ledger-builder.js';
export { recordMessages } from './record-messages.js';
export { recordIteration, type IterationRecord } from './record-iteration.js';
export { decisionProblems, recordDecision } from './record-decision.js';
export { applyCheckpointChanges, applyEdit, type SummaryAndLedger } from './apply-changes.js';
export {
  compactorView,
  compactorViewCounted,
  fitCheckpoint,
  fitCheckpointCounted,
  summaryBudget,
  type CheckpointParts,
} from './fit-checkpoint.js';
export { isLedger, ledgerProblems } from './ledger-problems.js';
export { upgradeCheckpoint } from './upgrade-checkpoint.js';
