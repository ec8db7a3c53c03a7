/**
 * The typed {@link SessionAPI} that the Electron preload, the HTTP client and the Restate client
 * all implement, with the options of the methods whose options differ from the runtime's.
 */
import type { CompactOutput } from '../../machines/session.machine.js';
import type { CheckpointEdit, DecisionInput } from '../core/checkpoint-change.js';
import type {
  AgentDescription,
  CheckResult,
  Checkpoint,
  ContentBlock,
  Message,
  MessageInput,
  SessionContext,
  SessionKey,
} from '../core/types.js';
import type { MigrationReport } from '../migration/types.js';
import type { RequestFormat } from '../request/build-request.js';
import type { SendResult, SessionRequest } from '../runtime/conversation.js';
import type { SessionEvent } from '../runtime/events.js';
import type { HistoryQuery } from '../runtime/history.js';
import type {
  ClearOptions,
  ClearResult,
  CreateSessionOptions,
  SessionExport,
  SessionInfo,
  SizeEstimate,
} from '../runtime/types.js';
import type { RuntimeMetrics, SessionMetrics } from './session-queries.js';

/**
 * What `send` may be told over a transport: the model and the reply's size. (A client and an
 * `AbortSignal` cannot cross one: the runtime's own client is used.)
 * @example const options: IpcSendOptions = { model: 'claude-sonnet-4-5', maxTokens: 2_000 };
 */
export interface IpcSendOptions {
  model?: string;
  /** `max_tokens` of the reply; default the session's `replyReserveTokens`. */
  maxTokens?: number;
  /** Prompt-caching breakpoints on the stable prefix (default true). */
  cache?: boolean;
  /** A retry with the same key returns the stored turn instead of storing it twice. */
  idempotencyKey?: string;
}

/**
 * What `migrate` may be told over a transport. The migration runs over the serving runtime's
 * root, with that runtime (see docs/migration.md).
 * @example const options: IpcMigrateOptions = { dryRun: true };
 */
export interface IpcMigrateOptions {
  /** Validate and report what would happen; write nothing. */
  dryRun?: boolean;
  /** Migrate the valid entries of a file with invalid ones, listing the skipped ones. */
  skipInvalid?: boolean;
  /** Give every migrated conversation its initial checkpoint (default true). */
  checkpoint?: boolean;
}

/**
 * What `getRecentMessages` may be told.
 * @example const options: RecentMessagesOptions = { includeInternal: true };
 */
export interface RecentMessagesOptions {
  /** Include the messages the host marked internal (`metadata.internal: true`); default false. */
  includeInternal?: boolean;
}

/**
 * The session runtime as a renderer or another process sees it: one Promise-returning method per
 * channel, JSON-safe arguments and results. Every method rejects with a {@link SessionIpcError}
 * whose `code` says what went wrong; argument errors are `INVALID_ARGUMENT`, `INVALID_KEY`
 * (ids and keys) or `INVALID_MESSAGE`, and nothing is written when an argument is refused.
 *
 * @example
 * ```ts
 * const api: SessionAPI = window.dagentSessions; // or createSessionClient(url)
 * const { id } = await api.create({ type: 'feature', agentType: 'pm', featureId: 'f1' });
 * await api.addMessage(id, { role: 'user', content: 'Plan the feature' });
 * const request = await api.buildRequest(id, 'What next?');
 * ```
 */
export interface SessionAPI {
  /**
   * Creates the session of `key`, or returns the existing one (idempotent).
   * @param key - `{ type: 'feature', agentType, featureId }` or
   *   `{ type: 'task', agentType, featureId, taskId, taskState }`.
   * @param options - `context` and `agentDescription` (plain JSON objects) and `checkpoint` (`{ summary, checks? }`),
   *   used only when the session is new.
   * @throws `INVALID_KEY` for a bad key; `INVALID_ARGUMENT` for bad options.
   */
  create(key: SessionKey, options?: CreateSessionOptions): Promise<SessionInfo>;
  /**
   * What the runtime knows of a session: state, stats, tokens, checkpoint version, limits.
   * @throws `INVALID_KEY` for an unsafe id; `SESSION_NOT_FOUND` when no such session exists.
   */
  get(id: string): Promise<SessionInfo>;
  /**
   * Loads the session again from its files, as a restart of the runtime would, leaving the other
   * sessions alone (the runtime's `reopenSession`): the way out of a write in place but not durable
   * (`get(id).error.details.outcome` `'in-place-not-durable'`, or a write refused `'refused-in-doubt'`).
   * Check the disk first; the session then takes every write again, with the figures of its files.
   * @returns The session as loaded again.
   * @throws `INVALID_KEY` for an unsafe id; `SESSION_NOT_FOUND`; `CORRUPT_FILE` when a file does not load.
   * @example if (info.error?.details?.outcome === 'in-place-not-durable') await api.reopen(info.id);
   */
  reopen(id: string): Promise<SessionInfo>;
  /** Every session under the runtime's root, loaded or not. */
  list(): Promise<SessionInfo[]>;
  /**
   * Appends a message; resolves once it is on disk. May start a compaction in the background.
   * @param message - `{ role, content, metadata?, timestamp? }`; content is a string or content blocks.
   * @throws `INVALID_MESSAGE` naming the wrong field; `SESSION_NOT_FOUND`; `SESSION_ARCHIVED`.
   */
  addMessage(id: string, message: MessageInput): Promise<Message>;
  /**
   * The live messages (those not yet folded into the checkpoint).
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getMessages(id: string): Promise<Message[]>;
  /**
   * Every message ever appended, archived then live, in order.
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getHistory(id: string): Promise<Message[]>;
  /**
   * A page of the history: messages with `after < seq < before`, at most `limit`, newest first
   * unless `order: 'asc'`. The next older page: `before` = the last seq of this one.
   * @throws `INVALID_ARGUMENT` for a bad query; `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getHistory(id: string, query: HistoryQuery): Promise<Message[]>;
  /**
   * The current checkpoint (null before the first), or the checkpoint version `version` (null
   * when that version is not kept: sessions older than kept versions have the current one only).
   * @throws `INVALID_ARGUMENT` for a bad version; `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getCheckpoint(id: string, options?: { version?: number }): Promise<Checkpoint | null>;
  /**
   * The checkpoint versions `getCheckpoint` can read, ascending (older sessions keep only the current one).
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getCheckpointVersions(id: string): Promise<number[]>;
  /**
   * Tokens of the session's next request, per component, against its limit and threshold.
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  estimateSize(id: string): Promise<SizeEstimate>;
  /**
   * The request for the next turn; past the threshold it compacts first. Never over the limit.
   * @param userMessage - The new user message: a string or content blocks (not appended).
   * @param options - `format`: `'flattened'` (default) or `'messages'`; `cache`: caching breakpoints (default true).
   * @throws `INVALID_MESSAGE`; `INVALID_ARGUMENT`; `REQUEST_TOO_LARGE` when even no message fits.
   */
  buildRequest(
    id: string,
    userMessage: string | ContentBlock[],
    options?: { format?: RequestFormat; cache?: boolean },
  ): Promise<SessionRequest>;
  /**
   * The same request with its breakdown, changing nothing (never compacts).
   * @param userMessage - Optional new user message; omit it (or pass null) for none.
   * @throws `INVALID_MESSAGE`; `INVALID_ARGUMENT`; `SESSION_NOT_FOUND`.
   */
  previewRequest(
    id: string,
    userMessage?: string | ContentBlock[] | null,
    options?: { format?: RequestFormat; cache?: boolean },
  ): Promise<SessionRequest>;
  /**
   * Folds older messages into the checkpoint now; resolves when the compaction is committed.
   * @param options - `keepRecentTokens`: token budget of the verbatim tail kept (integer >= 0).
   * @throws `INVALID_ARGUMENT`; `SESSION_ARCHIVED`; `COMPACTOR_*` when the compactor fails (every message is kept).
   */
  compact(id: string, options?: { keepRecentTokens?: number }): Promise<CompactOutput>;
  /**
   * Cancels a compaction that is still summarising: nothing is written, the session is ready again
   * with every message, and the `compact` call waiting for it rejects with `COMPACTION_CANCELLED`.
   * @returns true if a compaction was cancelled; false if none was running or its commit had started.
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  cancelCompaction(id: string): Promise<boolean>;
  /**
   * Moves every live message to the archive and keeps the checkpoint, with the facts of those
   * messages recorded in its ledger and, given in `options`, a task-loop iteration and decisions,
   * all in one new checkpoint version (the runtime's `clearMessages`).
   * @param options - `iteration` and `decisions` ({@link ClearOptions}).
   * @throws `INVALID_ARGUMENT` for a name none of its options, an iteration or a decision that is
   *   not one (nothing archived); `INVALID_KEY`; `SESSION_NOT_FOUND`; `SESSION_ARCHIVED`.
   * @example await api.clearMessages(id, { iteration: { iteration: 3, stopReason: 'checks passed' } });
   */
  clearMessages(id: string, options?: ClearOptions): Promise<ClearResult>;
  /**
   * Archives the live messages and empties the checkpoint; history stays readable.
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`; `SESSION_ARCHIVED`.
   */
  reset(id: string): Promise<ClearResult>;
  /**
   * The session, its checkpoint, context, description and full history as one JSON object.
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  export(id: string): Promise<SessionExport>;
  /**
   * Marks the session archived: still readable, no longer changed (`SESSION_ARCHIVED`).
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  archive(id: string): Promise<SessionInfo>;
  /**
   * Replaces the session's context (project, feature and task facts) with a plain JSON object.
   * @throws `INVALID_ARGUMENT`; `SESSION_NOT_FOUND`; `SESSION_ARCHIVED`.
   */
  setContext(id: string, context: SessionContext): Promise<void>;
  /**
   * Replaces the agent description; it needs a non-empty `role` string.
   * @throws `INVALID_ARGUMENT`; `SESSION_NOT_FOUND`; `SESSION_ARCHIVED`.
   */
  setAgentDescription(id: string, description: AgentDescription): Promise<void>;
  /**
   * The session's context (project, feature and task facts), or null when it has none.
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getContext(id: string): Promise<SessionContext | null>;
  /**
   * The session's agent description (role and tool instructions), or null.
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getAgentDescription(id: string): Promise<AgentDescription | null>;
  /**
   * Records verification checks in the checkpoint, replacing those with the same `checkId`.
   * @param checks - `[{ checkId, passed, error?, at? }]`.
   * @returns The checkpoint with the checks.
   * @throws `INVALID_ARGUMENT` naming the check and field; `SESSION_NOT_FOUND`; `SESSION_ARCHIVED`.
   */
  recordChecks(id: string, checks: CheckResult[]): Promise<Checkpoint>;
  /**
   * Edits the checkpoint by hand, as a new version (the old one is kept): the summary sections
   * and ledger fields given replace those; the rest stays. Written between compactions through
   * the normal checkpoint write path.
   * @param edit - `{ summary?: { goals?, inProgress?, pending?, decisions?, ... },
   *   ledger?: { problems?, files?, ... } }`.
   * @returns The new checkpoint.
   * @throws `INVALID_ARGUMENT` for an edit that is not a valid checkpoint or passes the checkpoint
   *   budget (nothing written); `SESSION_NOT_FOUND`; `SESSION_ARCHIVED`.
   */
  editCheckpoint(id: string, edit: CheckpointEdit): Promise<Checkpoint>;
  /**
   * Records a decision in the checkpoint's ledger, as a new version: a harness review
   * (`{ kind: 'review', subject, approved, reasons }`), a merge conflict resolution
   * (`{ kind: 'merge', subject, resolution, files?, reasons }`) or another choice
   * (`{ kind: 'decision', subject, text, reasons }`); it supersedes an earlier one of the same
   * kind and subject.
   * @returns The new checkpoint.
   * @throws `INVALID_ARGUMENT` naming the field; `SESSION_NOT_FOUND`; `SESSION_ARCHIVED`.
   */
  recordDecision(id: string, decision: DecisionInput): Promise<Checkpoint>;
  /**
   * A conversation turn with Claude through the runtime's client: appends the user message, builds
   * the request, calls the model, appends and returns the reply.
   * @param userMessage - A string or content blocks.
   * @param options - `model`, `maxTokens`, `cache`, `idempotencyKey` (see {@link IpcSendOptions}).
   * @throws `INVALID_MESSAGE`; `INVALID_ARGUMENT` (also when the runtime has no client or key);
   *   `MODEL_UNAVAILABLE` / `MODEL_FAILED` (the user message is kept); `SESSION_ARCHIVED`.
   */
  send(id: string, userMessage: string | ContentBlock[], options?: IpcSendOptions): Promise<SendResult>;
  /**
   * The last `limit` messages of the whole history (archived and live), oldest first; internal
   * ones (`metadata.internal`) only with `includeInternal`.
   * @param limit - An integer >= 1; default 10.
   * @param options - `includeInternal`.
   * @throws `INVALID_ARGUMENT`; `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getRecentMessages(id: string, limit?: number | null, options?: RecentMessagesOptions): Promise<Message[]>;
  /**
   * One session's metrics: state, message counts, tokens (total, live, checkpoint, next request
   * against limit and threshold), compactions and the last one.
   * @throws `INVALID_KEY`; `SESSION_NOT_FOUND`.
   */
  getMetrics(id: string): Promise<SessionMetrics>;
  /** The whole root's metrics: sessions per status, state and agent type, failed ones, and sums. */
  getRuntimeMetrics(): Promise<RuntimeMetrics>;
  /**
   * Migrates DAGent's conversations under the runtime's root into sessions (or, with `dryRun`,
   * reports what it would do), with the serving runtime. Rollback is a CLI command: it needs the
   * root to itself.
   * @param options - `dryRun`, `skipInvalid`, `checkpoint`.
   * @returns The report: every file, where it looked, the totals.
   * @throws `INVALID_ARGUMENT`; invalid files are reported, not thrown.
   */
  migrate(options?: IpcMigrateOptions): Promise<MigrationReport>;
  /**
   * Calls `listener` with every runtime event (`session.created`, `session.message.appended`,
   * `session.compaction.*`, ...) until the returned function is called. A listener that throws,
   * or an async one that rejects, does not disturb the others (the error is logged to
   * `console.error`). Events published while no stream is open are not replayed.
   */
  onEvent(listener: (event: SessionEvent) => void): () => void;
}
