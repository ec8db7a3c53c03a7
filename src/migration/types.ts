/**
 * The public types of the migration of legacy DAGent conversations into sessions: options,
 * reports and the manifest that makes a migration idempotent and undoable.
 */
import type { Compactor } from '../compaction/compactor.js';
import type { SessionRuntime } from '../runtime/types.js';

/**
 * The legacy formats: a feature's PM chat (`chat.json`, `{ entries }`), a dev task's session
 * (`nodes/<taskId>/session.json`, `{ taskId, agentId, status, startedAt, messages }`), a node's chat
 * (`nodes/<nodeId>/chat.json`, `{ entries }`), and a session of DAGent v3.0's own session manager
 * (`sessions/session_<id>.json` with its `chat_`, `checkpoint_`, `context_`, `agent-description_` files).
 */
export type LegacyKind = 'pm-chat' | 'dev-session' | 'node-chat' | 'dagent-session';

/**
 * Where DAGent kept a feature's files, relative to the project root:
 * - `documented`: `.dagent/features/<featureId>/` (DAGent's docs; its code never wrote it);
 * - `feature-worktree`: `.dagent-worktrees/<featureId>/.dagent/` (DAGent v3.0, one worktree per feature);
 * - `manager-worktree`: `.dagent-worktrees/<manager>/.dagent/features/<featureId>/` (later DAGent);
 * - `backlog`, `archived`: `.dagent/features/{backlog,archived}/<featureId>/`, also inside a manager worktree.
 */
export type LegacyLayout = 'documented' | 'feature-worktree' | 'manager-worktree' | 'backlog' | 'archived';

/** One place the migration looked in, and how many feature directories it found there. */
export interface SearchedPlace {
  layout: LegacyLayout;
  /** The pattern, relative to the root: `.dagent-worktrees/<featureId>/.dagent/`. */
  pattern: string;
  /** Feature directories found there (0 when the base directory does not exist). */
  featureDirs: number;
}

/** Options of `migratePMChat`, `migrateDevSession` and `migrateAll`. */
export interface MigrationOptions {
  /**
   * The host's runtime for this root. One writer per root: a host that has a runtime open must
   * pass it, or the migration's own `createSessionRuntime` fails with `ROOT_LOCKED`.
   * Without it the migration opens a runtime (read-only for a dry run) and closes it at the end.
   */
  runtime?: SessionRuntime;
  /** Compactor of the runtime the migration opens (ignored when `runtime` is given). */
  compactor?: Compactor;
  /** Validate and report what would happen; write nothing. Default false. */
  dryRun?: boolean;
  /** Migrate the valid entries of a file that also has invalid ones, listing each skipped one. Default false. */
  skipInvalid?: boolean;
  /**
   * Give every migrated conversation its initial checkpoint (default true; the CLI's
   * `--no-checkpoint` turns it off): once its messages are appended, the session is compacted
   * once, keeping its most recent messages verbatim (`checkpointKeepTokens`, and at most half of
   * the conversation) and folding everything older into checkpoint version 1, with a DAGent
   * session's own checkpoint as its start.
   */
  checkpoint?: boolean;
  /**
   * Most tokens of recent messages kept verbatim by the initial checkpoint. Default 20,000 (the
   * default `keepRecentTokens`).
   */
  checkpointKeepTokens?: number;
  /** Legacy files larger than this are refused with a clear report. Default 256 MiB. */
  maxFileBytes?: number;
  /** Clock of migration ids, backup names and manifests. Default `() => new Date()`. */
  now?: () => Date;
  /** Called after each file, for progress bars. */
  onProgress?: (done: number, total: number, file: string) => void;
}

/** One entry of a legacy file that was not migrated, and why. */
export interface EntryProblem {
  /** Index of the entry in `entries` (PM chat) or `messages` (dev session). */
  index: number;
  /** The field that is wrong, as a path from the file's top (`entries[3].timestamp`), or the entry itself. */
  field: string;
  reason: string;
}

/**
 * What happened to one legacy file.
 * - `migrated` / `would-migrate` (dry run): its entries are (would be) messages of the session.
 * - `already-migrated`: an earlier migration took this very content (same sha256); nothing done.
 * - `invalid`: the file or some entries are invalid (and `skipInvalid` is off); nothing written.
 * - `conflict`: the session is in use, or the file changed since its migration; nothing written.
 * - `failed`: an error while writing; `reason` says how to undo the partial work.
 */
export type FileStatus =
  'migrated' | 'would-migrate' | 'already-migrated' | 'invalid' | 'conflict' | 'failed';

/** What the migration reports for one legacy file. */
export interface FileReport {
  /** The legacy file, relative to the root (POSIX separators); a DAGent session's `session_<id>.json`. */
  file: string;
  kind: LegacyKind;
  layout: LegacyLayout;
  /** Every file read for it: the file itself, and a DAGent session's `chat_`, `checkpoint_`... files. */
  parts: string[];
  featureId: string;
  /** The task of a dev session. */
  taskId?: string;
  /** The target session, or null when the file's ids cannot make one. */
  sessionId: string | null;
  status: FileStatus;
  /** Why the file was not (fully) migrated; what to do. */
  reason?: string;
  /** Entries in the file (0 when it could not be read as a list). */
  entries: number;
  /** Messages appended (or that a dry run would append). */
  messages: number;
  /**
   * Entries left out because another file of the same conversation, migrated just before in this
   * run, holds them already (same role, content and original time): DAGent copied its legacy
   * `chat.json` and `session.json` into its own sessions, and features moved between layouts.
   */
  duplicates: number;
  /** Entries left out with `skipInvalid`, each with its index and reason. */
  skipped: EntryProblem[];
  /** Every invalid entry found, when `status` is `invalid` because of entries. */
  problems: EntryProblem[];
  /** Whether the session is (would be) created by this migration, rather than existing empty. */
  sessionCreated: boolean;
  /** The backup written (or that would be written), relative to the root. */
  backup: string | null;
  /**
   * The initial checkpoint of its session: `made` (also a DAGent checkpoint kept with
   * `checkpoint: false`), `would-make` (dry run), `off` (`checkpoint: false`), `not-needed` (no
   * message to fold and no DAGent checkpoint to keep), `failed` (the messages are migrated; the
   * compaction failed and the session retries by itself).
   */
  checkpoint: 'made' | 'would-make' | 'off' | 'not-needed' | 'failed' | null;
  /** Seq of the first and last message appended. */
  seqRange: [number, number] | null;
  /** Facts worth knowing that did not stop the migration. */
  warnings: string[];
}

/** Totals of a migration, as the CLI prints them. */
export interface MigrationTotals {
  filesFound: number;
  /** Sessions given (or that would be given) their initial checkpoint. */
  checkpointsMade: number;
  sessionsCreated: number;
  messagesMigrated: number;
  entriesSkipped: number;
  /** Files backed up (each of a DAGent session's files counts). */
  backupsWritten: number;
  alreadyMigrated: number;
  /** Files `invalid`, `conflict` or `failed`. */
  filesWithProblems: number;
}

/** What `migratePMChat`, `migrateDevSession` and `migrateAll` return. */
export interface MigrationReport {
  /** Id of this migration (its manifest), or null when nothing was written (dry run, nothing to do). */
  migrationId: string | null;
  /** The manifest, relative to the root, or null. */
  manifest: string | null;
  root: string;
  dryRun: boolean;
  skipInvalid: boolean;
  files: FileReport[];
  /** Where it looked: every layout DAGent used, with the feature directories found in each. */
  searched: SearchedPlace[];
  totals: MigrationTotals;
  /** Every file is migrated, would be, or already was (also true when none was found). */
  ok: boolean;
}

/** @internal How far the migration of one file got, as the manifest records it. */
export type ManifestFileState = 'pending' | 'done' | 'failed';

/** One legacy file in a migration manifest. */
export interface ManifestFile {
  kind: LegacyKind;
  /** Relative to the root. */
  legacyPath: string;
  /** Relative to the root; a byte-identical copy of the original. */
  backupPath: string;
  /** sha256 (hex) of the original bytes (of a DAGent session: of its parts' names and bytes). */
  sha256: string;
  /** A DAGent session's files, each with its backup and sha256. */
  parts?: { legacyPath: string; backupPath: string; sha256: string }[];
  /**
   * The session was created by an earlier record of this same migration (another file of the
   * same conversation): undoing that record moves the session, with this file's messages.
   */
  joined?: boolean;
  sessionId: string;
  /** Whether this migration created the session (otherwise it existed, empty). */
  sessionCreated: boolean;
  /** Copy of a pre-existing (empty) session directory, restored by a rollback; relative to the root. */
  preExistingCopy: string | null;
  state: ManifestFileState;
  /** Seq range appended, null when no message was. */
  seqRange: [number, number] | null;
  messages: number;
  skipped: EntryProblem[];
  checkpoint: FileReport['checkpoint'];
}

/** `<root>/.dagent/migrations/<id>.json`: the record of one migration run. */
export interface MigrationManifest {
  version: 1;
  id: string;
  startedAt: string;
  completedAt: string | null;
  status: 'running' | 'completed' | 'rolled-back';
  rolledBackAt: string | null;
  skipInvalid: boolean;
  files: ManifestFile[];
}

/** Options of `rollbackMigration`. */
export interface RollbackOptions {
  /**
   * The migration to undo; default the latest unfinished one (its process died half-way), else
   * the latest one not rolled back yet.
   */
  migrationId?: string;
  /** Report what would be done; change nothing. */
  dryRun?: boolean;
  /** Clock of the rollback's timestamps. */
  now?: () => Date;
}

/** What `rollbackMigration` did (or would do). */
export interface RollbackReport {
  migrationId: string;
  dryRun: boolean;
  /** Sessions created by the migration, moved (never deleted) under the migration's `rolled-back/`. */
  sessionsRemoved: { sessionId: string; movedTo: string | null }[];
  /** Sessions that existed empty before the migration, put back as they were. */
  sessionsRestored: string[];
  /** Legacy files restored from their backup; a changed current file is kept aside first. */
  originalsRestored: { file: string; from: string; keptAsideAs: string | null }[];
  /** Legacy files still identical to their backup: left alone. */
  originalsUnchanged: string[];
  /** Facts worth knowing (a session already gone, ...). */
  warnings: string[];
}
