/**
 * Changes to a checkpoint other than a compaction's: a task-loop iteration's outcome, decisions
 * (harness reviews, merge conflict resolutions), a hand edit. Pure types; the session applies them
 * in the commit of a clear (or in a commit of their own), one at a time with compactions, so that
 * no change is lost to a compaction running at the same time.
 */
import type { FileAction, SessionLedger } from './ledger-types.js';
import type { CheckpointSummary } from './types.js';

/**
 * One iteration of a task loop, as its loop saw it.
 *
 * @example
 * const record: IterationRecord = { iteration: 2, checks: [{ checkId: 'tests', passed: true }],
 *   stopReason: 'checks passed' };
 */
export interface IterationRecord {
  /** The iteration's number, from 1. */
  iteration: number;
  /** Files the agent changed (or read), when its messages do not show them as tool calls. */
  files?: ReadonlyArray<{ path: string; action: FileAction }>;
  /** Commands that ran, in order, with how they ended, when its messages do not show them. */
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
 * A decision to record in a session's ledger. A later decision of the same kind about the same
 * subject supersedes it (the second review of a task replaces the first).
 *
 * - `review`: a harness review of `subject` (a task id), approved or rejected, with the reasons;
 * - `merge`: a merge conflict of `subject` resolved: how (`resolution`), which files, why;
 * - `decision`: any other choice (`text`), with its reasons.
 *
 * @example
 * const review: DecisionInput = { kind: 'review', subject: 'parser', approved: false,
 *   reasons: ['no tests for empty input'] };
 */
export type DecisionInput =
  | { kind: 'review'; subject: string; approved: boolean; reasons?: string[]; by?: string }
  | {
      kind: 'merge';
      subject: string;
      resolution: string;
      files?: string[];
      reasons?: string[];
      by?: string;
    }
  | { kind: 'decision'; subject: string; text: string; reasons?: string[]; by?: string };

/**
 * A hand edit of a checkpoint: the summary sections given replace those sections, the ledger
 * fields given replace those fields; everything else stays.
 *
 * @example const edit: CheckpointEdit = { summary: { pending: ['Write the CSV exporter first'] } };
 */
export interface CheckpointEdit {
  summary?: Partial<CheckpointSummary>;
  ledger?: Partial<SessionLedger>;
}

/**
 * What one clear (or edit) changes in the checkpoint besides archiving, applied in order after the
 * archived messages are recorded in the ledger.
 *
 * @example const change: CheckpointChange = { iteration: { iteration: 1, stopReason: 'checks failed' } };
 */
export interface CheckpointChange {
  iteration?: IterationRecord;
  decisions?: DecisionInput[];
  edit?: CheckpointEdit;
  /** ISO-8601 time the change was asked for (stamped on decisions). */
  at?: string;
}
