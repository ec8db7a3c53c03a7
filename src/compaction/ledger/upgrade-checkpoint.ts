/**
 * Checkpoints of schema 1 (a summary, no ledger) read as schema 2: the facts the old summary kept
 * in its own words move to the ledger (a blocker `` `cmd` failed: ... `` becomes an open problem
 * of `cmd`, `User asked: ...` and `User: ...` items become the user's requests); everything else
 * stays in the summary as it was. Nothing is dropped.
 */
import { CHECKPOINT_SCHEMA_VERSION, type Checkpoint, type CheckpointSummary } from '../../core/types.js';
import { LedgerBuilder } from './ledger-builder.js';
import { isLedger } from './ledger-problems.js';
import { isCorrection } from './user-words.js';

const FAILED_COMMAND = /^`([^`]+)` failed(?:: (.*))?$/;
const USER_ITEM = /^User(?: asked)?: (.+)$/;

/**
 * The checkpoint as schema 2: itself when it already is; else a copy with a ledger made from the
 * old summary's facts.
 *
 * @param checkpoint - a checkpoint as read from disk.
 * @returns a schema-2 checkpoint; `checkpoint` is not changed.
 * @example upgradeCheckpoint(v1).ledger.problems // [{ key: 'npm test', text: '`npm test` failed: 2 failed', ... }]
 */
export function upgradeCheckpoint(checkpoint: Checkpoint): Checkpoint {
  if ((checkpoint.schemaVersion ?? 1) >= CHECKPOINT_SCHEMA_VERSION && isLedger(checkpoint.ledger))
    return checkpoint;
  const throughSeq = checkpoint.compactionInfo?.archivedThroughSeq ?? -1;
  const builder = new LedgerBuilder(isLedger(checkpoint.ledger) ? checkpoint.ledger : null);
  const old = checkpoint.summary ?? ({} as Partial<CheckpointSummary>);
  const keep = (section: keyof CheckpointSummary, move: (item: string) => boolean): string[] =>
    (Array.isArray(old[section]) ? (old[section] as string[]) : []).filter((item) => !move(item));
  const summary: CheckpointSummary = {
    completed: keep('completed', () => false),
    inProgress: keep('inProgress', () => false),
    pending: keep('pending', (item) => userItem(builder, item, throughSeq)),
    decisions: keep('decisions', (item) => userItem(builder, item, throughSeq)),
    blockers: keep('blockers', (item) => {
      const failed = FAILED_COMMAND.exec(item);
      if (failed === null) return false;
      builder.fail(failed[1] ?? item, item, throughSeq);
      return true;
    }),
  };
  if (Array.isArray(old.goals) && old.goals.length > 0) summary.goals = [...old.goals];
  builder.seen(throughSeq);
  return { ...checkpoint, schemaVersion: CHECKPOINT_SCHEMA_VERSION, summary, ledger: builder.result() };
}

/** Moves a `User asked: ...` item to the requests; true when it did. */
function userItem(builder: LedgerBuilder, item: string, seq: number): boolean {
  const words = USER_ITEM.exec(item)?.[1];
  if (words === undefined) return false;
  builder.request(words, seq, isCorrection(words));
  return true;
}
