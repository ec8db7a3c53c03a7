/**
 * The session ledger: what deterministic code knows for certain about a session, kept in every
 * checkpoint whatever compactor runs. Pure types; the functions that keep it are in
 * src/compaction/ledger/, its rendering in src/request/format-ledger.ts.
 */

/** The last thing done to a file. */
export type FileAction = 'read' | 'created' | 'edited' | 'deleted';

/** A file the session touched, with the last (most telling) action on it. */
export interface LedgerFile {
  path: string;
  action: FileAction;
  /** Seq of the message of the last action (or -1 when recorded from an iteration). */
  seq: number;
  /** Seq of the first time the session touched it. */
  firstSeq: number;
  /** The task-loop iteration of the last action, when one recorded it. */
  iteration?: number;
}

/** How a command or tool call ended. */
export type RunStatus = 'ok' | 'failed' | 'unknown';

/** A distinct command (or tool call) and its last run. */
export interface LedgerCommand {
  /** The command line, one line, set-up prefixes (`cd dir &&`) removed; `tool target` for other tools. */
  command: string;
  /** `command` for shell commands, `tool` for other tools. */
  kind: 'command' | 'tool';
  runs: number;
  /** Seq of the message that holds the last run's result (or its call, when it has none). */
  seq: number;
  status: RunStatus;
  exitCode?: number;
  passed?: number;
  failed?: number;
  /** The most telling line of a failed run's output, cut to about 160 characters. */
  error?: string;
  iteration?: number;
}

/** Something that failed and has not been settled since. */
export interface LedgerProblem {
  /** What settles it: the command line, `tool target`, `check:<id>`, or `user` for a blocker the user named. */
  key: string;
  /** What failed, on one line. */
  text: string;
  /** Seq (or iteration) at which it first failed. */
  since: number;
  /** Seq of the last failure. */
  seq: number;
  /** Consecutive failures. */
  count: number;
  iteration?: number;
}

/** The user's own words: a request or a correction, verbatim (cut when very long). */
export interface LedgerRequest {
  text: string;
  seq: number;
  /** Whether it corrects the agent (`no, ...`, `not ...`, `instead ...`). */
  correction: boolean;
}

/** Where the work stands, as of the newest fact that said so. */
export interface LedgerStatus {
  text: string;
  seq: number;
  /** What said so: an iteration's outcome, the agent's todo list, or the last command. */
  source: 'iteration' | 'todos' | 'activity';
  iteration?: number;
}

/** A name (function, class, test, variable, module) the user and the agent keep using. */
export interface LedgerName {
  name: string;
  /** Messages that mention it. */
  mentions: number;
  /** Seq of the last mention. */
  seq: number;
}

/** One task-loop (Ralph-loop) iteration: what it did and how it ended, on one line. */
export interface LedgerIteration {
  iteration: number;
  /**
   * Why it stopped, the checks (a check that passes again says since when it failed), the files it
   * changed and the commands it ran with their outcome: `checks failed: tests (2 failing) · edited
   * src/a.ts · ran `npm test` → failed (exit 1)`.
   */
  text: string;
  /** Seq of the last message recorded when it ended: facts after it belong to later iterations. */
  seq: number;
}

/** What kind of decision: a review (approved or rejected), a merge conflict resolved, any other. */
export type DecisionKind = 'review' | 'merge' | 'decision';

/**
 * A decision recorded by the host or a task loop (a harness review, a merge conflict resolution):
 * kept whatever a compactor writes, and superseded only by a later decision of the same key.
 */
export interface LedgerDecision {
  /** `<kind>:<subject>`: a later decision with the same key replaces this one. */
  key: string;
  kind: DecisionKind;
  /** What it is about: a task id, a file, a branch. */
  subject: string;
  /** `approved` or `rejected` (reviews), `resolved` (merges), `decided`. */
  outcome: 'approved' | 'rejected' | 'resolved' | 'decided';
  /** The decision on one line: `review of parser: rejected`, `merge conflict in parser resolved: kept both`. */
  text: string;
  /** Why, one reason per item. */
  reasons: string[];
  /** Files it concerns (a merge's conflicted files). */
  files?: string[];
  /** Who decided (`harness`, `merge`, `user`...). */
  by?: string;
  /** How many decisions of this key were recorded (2: the second review of the task). */
  count: number;
  /** Seq of the last message recorded when it was made. */
  seq: number;
  iteration?: number;
  /** ISO-8601 time it was recorded. */
  at?: string;
}

/**
 * The ledger of a checkpoint. Newer facts about the same thing (a file, a command, a problem)
 * replace older ones; nothing is removed only for its age. Lists are newest first.
 */
export interface SessionLedger {
  files: LedgerFile[];
  commands: LedgerCommand[];
  problems: LedgerProblem[];
  requests: LedgerRequest[];
  /** Names mentioned by the user or in the agent's prose and tool calls (rendered when used twice or more). */
  names: LedgerName[];
  status: LedgerStatus | null;
  /** Seq of the last message recorded (-1 before any). */
  throughSeq: number;
  /** Task-loop iterations recorded. */
  iterations: number;
  /** Each task-loop iteration's outcome, newest first (absent in ledgers written before it existed). */
  iterationLog?: LedgerIteration[];
  /** Reviews, merge resolutions and other decisions, newest first (absent in older ledgers). */
  decisions?: LedgerDecision[];
}
