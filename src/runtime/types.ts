/**
 * The public types of the runtime: its options, what it reports, and its API.
 */
import type { InspectionEvent } from 'xstate';
import type { CompactOutput } from '../../machines/session.machine.js';
import type { SupervisorInput } from '../../machines/supervisor.machine.js';
import type { Compactor } from '../compaction/compactor.js';
import type { CheckpointEdit, DecisionInput, IterationRecord } from '../core/checkpoint-change.js';
import type {
  AgentDescription,
  CheckResult,
  Checkpoint,
  ContentBlock,
  Limits,
  Message,
  MessageInput,
  SessionContext,
  SessionKey,
  SessionMachineState,
  SessionRecord,
  SessionStats,
} from '../core/types.js';
import type Anthropic from '@anthropic-ai/sdk';
import type { TokenCalibration } from '../tokens/calibration.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import type { RequestFormat } from '../request/build-request.js';
import type { SendOptions, SendResult, SessionRequest } from './conversation.js';
import type { SessionEventListener } from './events.js';
import type { AgentRegistry, AgentsOption } from './agent-profiles.js';
import type { InitialCheckpoint } from './initial-checkpoint.js';
import type { SessionStore } from '../store/contract.js';
import type { HistoryQuery } from './history.js';

export type { HistoryQuery } from './history.js';

/** A source of timers, as XState's actor options take it (`SimulatedClock` in tests). */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/**
 * Options of `createSessionRuntime`. A name that is none of these is refused with
 * `INVALID_ARGUMENT` naming it (a misspelt `limts` is not taken as the default limits).
 */
export interface SessionRuntimeOptions {
  /**
   * Directory whose `.dagent/sessions/` holds the sessions (created if missing): the JSON-file
   * store on it. Optional with `store` (then only a name for messages).
   */
  root?: string;
  /**
   * Where sessions are kept, instead of the JSON-file store on `root`: any {@link SessionStore}
   * (`createMemorySessionStore()`, a store of the host's own). The runtime does not close it;
   * `readOnly`, `durable`, `foldMinBytes` and `syncAppends` are the store's own then: given here
   * too, they are refused with `INVALID_ARGUMENT` (a `readOnly` equal to the store's is taken).
   */
  store?: SessionStore;
  /**
   * Limits of every session; defaults (`defaultLimits()`): 100,000 tokens, compaction at 90%, half the
   * window right after a compaction, a checkpoint of at most 25,000 tokens, 4,096 for the reply, and
   * the verbatim tail that reaches that half (20,904 tokens). A name that is no figure is refused.
   */
  limits?: Partial<Limits>;
  /**
   * Per agent type: description written into new sessions, limits over the runtime's, and task
   * states it serves. DAGent's five are always there; any other name registers an agent type of
   * the host's own (it needs a description): `{ researcher: { description, taskStates: ['researching'] } }`.
   */
  agents?: AgentsOption;
  /**
   * Summarises older messages. Default: an `AnthropicCompactor` when `ANTHROPIC_API_KEY` is set,
   * else the offline compactor (no network, no key). `getSession().compactor` says which.
   */
  compactor?: Compactor;
  /**
   * Client of `send` and `calibrate`. Default: one made from `ANTHROPIC_API_KEY` /
   * `ANTHROPIC_BASE_URL` on first use.
   */
  client?: Anthropic;
  /** Model of `send` and of the token correction that thresholds use. Default `DEFAULT_ANTHROPIC_MODEL`. */
  model?: string;
  /** Learned token correction per model; pass one to share it between runtimes. */
  calibration?: TokenCalibration;
  /** Counts tokens. Default: cl100k_base (gpt-tokenizer, with js-tiktoken's counts), loaded on first use. */
  estimator?: TokenEstimator;
  /**
   * XState inspection observer (a function, or an observer with `next`), for example
   * `createWebSocketInspector().inspect` of @statelyai/inspect. Only given one does the runtime
   * attach an inspector: every actor then builds an event per event, step and action (about 20-25
   * us of the main thread per append, docs/architecture.md "The runtime without inspection").
   */
  inspect?: ((event: InspectionEvent) => void) | { next?: (event: InspectionEvent) => void };
  /**
   * Clock for timers (retry backoff, compaction timeout, idle sweeps); tests pass a SimulatedClock.
   * Default: Node's timers, unref'd, so that they never keep the process alive.
   */
  clock?: Clock;
  /** Time of timestamps. Default: `() => new Date()`. */
  now?: () => Date;
  /** Open without the write lock: reads only. */
  readOnly?: boolean;
  /** fsync every write (default true). */
  durable?: boolean;
  /** Idle stopping and restarts of session actors. */
  supervisor?: SupervisorInput;
  /** Compaction timeout and retry backoff. */
  compaction?: { timeoutMs?: number; retryBaseMs?: number; retryMaxMs?: number };
  /** Log size past which chat.log is folded into chat.json (default 256 KiB). */
  foldMinBytes?: number;
  /**
   * Which thread waits for an append's fdatasync (the JSON-file store's option of that name).
   * `'thread-pool'` (default): the event loop runs meanwhile. `'calling-thread'`: an append of up
   * to 32 KiB is flushed with `fdatasyncSync`, then the event loop turns once: a lone append is
   * acknowledged sooner, but the event loop is blocked for every flush (a disk that stalls stalls
   * the host), and appends to many sessions at once flush one after another. Only for a process
   * that appends one message at a time with nothing else to serve (a CLI, a worker); never for an
   * Electron main process. Measured in docs/architecture.md, "The flush on the calling thread
   * (round 12)".
   */
  syncAppends?: 'thread-pool' | 'calling-thread';
  /**
   * Largest message `addMessage` and `send` accept, in UTF-8 bytes of its text (every string of
   * content and metadata, keys included): larger ones are refused with `MESSAGE_TOO_LARGE`.
   * Default 16 MiB, the HTTP transport's body limit; `Infinity` for none.
   */
  maxMessageBytes?: number;
}

/**
 * Options of `createSession`. Used only when the session is new; checked on every call (a misspelt
 * `contxt` is refused with `INVALID_ARGUMENT`, not dropped).
 */
export interface CreateSessionOptions {
  context?: SessionContext;
  /** The agent's description; default: the agent type's profile. Needs a non-empty `role`. */
  agentDescription?: AgentDescription;
  /**
   * The checkpoint the session starts with (version 0, nothing archived): what is known before the
   * first message, or the summary a migrated conversation kept of its older part. It must fit
   * the checkpoint budget (`limits.checkpointTokens`).
   */
  checkpoint?: InitialCheckpoint;
}

/** What `getSession` and `listSessions` report about a session. */
export interface SessionInfo {
  id: string;
  key: SessionKey;
  createdAt: string;
  updatedAt: string;
  status: SessionRecord['status'];
  /** The actor's state; `closed` when no actor is in memory for it. */
  state: SessionMachineState;
  /** Whether an actor is in memory for it. */
  active: boolean;
  stats: SessionStats;
  liveMessages: number;
  liveTokens: number;
  checkpointVersion: number;
  /** Seq of the last archived message (the compaction watermark), -1 before any. */
  archivedThroughSeq: number;
  compactor: string;
  limits: Limits;
  /**
   * Why the session is failed (compaction failure, a write in doubt, or a file that did not load),
   * or null. With `details.outcome` `'in-place-not-durable'` or `'refused-in-doubt'` (state
   * `failed`), a write (a compaction's commit, a clear, an edit, `setContext`...: `details.installed`
   * names its file) is in the files but not durable and memory may not be what they hold: the
   * session takes appends only until {@link SessionRuntime.reopenSession}, and `figures` says
   * `'unconfirmed'`.
   */
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
  /**
   * Whether the figures (`stats`, `liveMessages`, `liveTokens`, `checkpointVersion`,
   * `archivedThroughSeq`) are those of the session's files. `'unconfirmed'` while a write is in
   * doubt (see `error`): they are memory's, from before that write, and the files may hold the
   * write's (a commit's next version and fewer live messages) or, after a power loss, these; a
   * reload tells, so `reopenSession(id)` returns them `'confirmed'`. Also `'unconfirmed'` for a
   * session whose files did not load (`error` says why): its figures are not read from them.
   */
  figures: 'confirmed' | 'unconfirmed';
  lastCompaction: CompactOutput | null;
}

/** What `exportSession` returns: everything about a session, as JSON. */
export interface SessionExport {
  exportedAt: string;
  session: SessionInfo;
  checkpoint: Checkpoint | null;
  context: SessionContext | null;
  agentDescription: AgentDescription | null;
  /** Every message ever appended: archived, then live, in order. */
  history: Message[];
}

/**
 * What `clearMessages` commits with the clear, in the same checkpoint version: a task-loop
 * iteration's outcome and decisions made in it.
 *
 * @example await runtime.clearMessages(id, { iteration: { iteration: 3, checks, stopReason: 'checks passed' } });
 */
export interface ClearOptions {
  /** Recorded in the ledger after the archived messages' facts ({@link IterationRecord}). */
  iteration?: IterationRecord;
  /** Reviews, merge resolutions and other decisions ({@link DecisionInput}). */
  decisions?: DecisionInput[];
}

/** What `clearMessages` and `reset` return. */
export interface ClearResult {
  /** Live messages moved to the archive. */
  archivedMessages: number;
  /** The archive segment written, or null when there were no live messages. */
  segment: number | null;
  checkpointVersion: number;
}

/** What `estimateSize` returns. */
export interface SizeEstimate {
  total: number;
  breakdown: {
    agentDescription: number;
    context: number;
    checkpoint: number;
    messages: number;
    replyReserve: number;
  };
  limit: number;
  threshold: number;
  needsCompaction: boolean;
  liveMessages: number;
}

/**
 * The runtime. Every method validates its arguments and throws `SessionError`; a name in an options
 * object that is none of that method's options is refused with `INVALID_ARGUMENT` naming it, not
 * ignored (one whose value is `undefined` is let be).
 */
export interface SessionRuntime {
  /** The root (or, with a store of the host's, its location). */
  readonly root: string;
  /** Where the sessions are kept. */
  readonly store: SessionStore;
  readonly compactor: Compactor;
  readonly estimator: TokenEstimator;
  /** The agent types and task states this runtime knows: DAGent's, and those its host registered. */
  readonly agents: AgentRegistry;
  /**
   * Creates the session of `key` with its context, agent description (the agent type's by
   * default) and initial checkpoint, or answers the one that exists (nothing is written then).
   * @throws SessionError `INVALID_KEY`; `INVALID_ARGUMENT` for a bad option, a context or
   *   description past `maxMessageBytes`, or a description and context whose tokens leave no room
   *   for a conversation in the session's limits (`fixedPartsRoom`; `details` give the counts);
   *   nothing is written; `IO_ERROR` `'in-place-not-durable'`: in doubt until retried or reopened.
   * @example const { id } = await runtime.createSession(key, { context: { featureName: 'Export' } })
   */
  createSession(key: SessionKey, options?: CreateSessionOptions): Promise<SessionInfo>;
  getSession(id: string): Promise<SessionInfo>;
  /**
   * Loads the session again from its files, as a restart of the runtime would, without touching
   * the other sessions: its actor stops once the writes it has taken are done (calls made meanwhile
   * go to the new one), and a new one reads every file. The way out of a write in place but not
   * durable (`IO_ERROR` with `details.outcome` `'in-place-not-durable'`, then `'refused-in-doubt'`):
   * after the disk is checked, the session takes every write again, with the figures of its files
   * (a creation in doubt: `session.created` is published then).
   * @returns the session as loaded again.
   * @throws SessionError `SESSION_NOT_FOUND`; `CORRUPT_FILE` when a file does not load (the
   *   session is then not kept in memory); `RUNTIME_CLOSED` after close.
   * @example await runtime.reopenSession(id) // after the disk was checked (dmesg)
   */
  reopenSession(id: string): Promise<SessionInfo>;
  listSessions(): Promise<SessionInfo[]>;
  /** Appends once durable; resolves with the stored message, deep-frozen (shared with reads, never copied). */
  addMessage(id: string, message: MessageInput): Promise<Message>;
  /** The live messages (a new array of deep-frozen messages). */
  getMessages(id: string): Promise<Message[]>;
  /** Every message ever appended, archived then live, oldest first (a new array of deep-frozen messages). */
  getHistory(id: string): Promise<Message[]>;
  /**
   * A page of the history: messages with `after < seq < before`, at most `limit`, newest first
   * unless `order: 'asc'`; archived pages are read from the store's (cached) segments only.
   * @example
   * ```ts
   * const newest = await runtime.getHistory(id, { limit: 50 })
   * const older = await runtime.getHistory(id, { before: newest.at(-1)!.seq, limit: 50 })
   * ```
   */
  getHistory(id: string, query: HistoryQuery): Promise<Message[]>;
  /** The current checkpoint, or version `version` of it (null when that version is not kept). */
  getCheckpoint(id: string, options?: { version?: number }): Promise<Checkpoint | null>;
  /** The checkpoint versions `getCheckpoint` can read, ascending (older sessions keep only the current one). */
  getCheckpointVersions(id: string): Promise<number[]>;
  getContext(id: string): Promise<SessionContext | null>;
  getAgentDescription(id: string): Promise<AgentDescription | null>;
  estimateSize(id: string): Promise<SizeEstimate>;
  compact(id: string, options?: { keepRecentTokens?: number }): Promise<CompactOutput>;
  /**
   * Cancels the session's compaction while it is summarising: the compactor's AbortSignal fires,
   * nothing is written, the session is ready again with every message (appends made meanwhile
   * included), and callers of `compact` get `COMPACTION_CANCELLED`. It does not restart by itself
   * until the live messages grow by `keepRecentTokens` (or `compact` is called).
   * @returns true if a compaction was cancelled; false if none was running, or if its commit had
   * already started (a commit is never cut: that compaction completes).
   * @throws SessionError `SESSION_NOT_FOUND` for an unknown session, `RUNTIME_CLOSED` after close.
   * @example if (!(await runtime.cancelCompaction(id))) console.log('nothing to cancel');
   */
  cancelCompaction(id: string): Promise<boolean>;
  /**
   * Replaces the session's context (and its count); the next request renders it.
   * @throws SessionError `INVALID_ARGUMENT` for a value that is not a plain JSON object, one past
   *   `maxMessageBytes`, or one that with the description would leave no room for a conversation
   *   in the session's limits (`fixedPartsRoom`; a change that does not make them larger is taken);
   *   nothing is written then. `SESSION_NOT_FOUND`, `SESSION_ARCHIVED`.
   * @example await runtime.setContext(id, { featureName: 'Export', taskTitle: 'CSV exporter' })
   */
  setContext(id: string, context: SessionContext): Promise<void>;
  /**
   * Replaces the session's agent description (a non-empty `role`), under the same rules as
   * {@link SessionRuntime.setContext}.
   * @example await runtime.setAgentDescription(id, { role: 'Developer agent', tools: ['Bash'] })
   */
  setAgentDescription(id: string, description: AgentDescription): Promise<void>;
  /**
   * The request for the next turn: system prompt (description, context, checkpoint) and the live
   * messages (`flattened` into the system prompt, or a Messages API list). Past the threshold it
   * waits for or starts a compaction; if that is impossible it leaves the oldest messages out of
   * this request only. Never over the limit; `REQUEST_TOO_LARGE` when even no message fits.
   */
  buildRequest(
    id: string,
    userMessage: string | ContentBlock[],
    options?: { format?: RequestFormat; cache?: boolean },
  ): Promise<SessionRequest>;
  /** The same request with its per-component breakdown, changing nothing (no compaction). */
  previewRequest(
    id: string,
    userMessage?: string | ContentBlock[],
    options?: { format?: RequestFormat; cache?: boolean },
  ): Promise<SessionRequest>;
  /** A conversation turn with Claude: append the user message, build, stream the call, append and return the reply. */
  send(id: string, userMessage: string | ContentBlock[], options?: SendOptions): Promise<SendResult>;
  /** Counts the session's current request with the API (`count_tokens`) and learns the correction. */
  calibrate(
    id: string,
    options?: { client?: Anthropic; model?: string },
  ): Promise<{ model: string; factor: number; samples: number; estimated: number; counted: number }>;
  /** The learned token corrections. */
  readonly calibration: TokenCalibration;
  /**
   * Moves every live message to the archive (it stays in history) and keeps the checkpoint, with
   * the facts of those messages recorded in its ledger and, given in `options`, a task-loop
   * iteration and decisions, all in one new checkpoint version: the next request starts from
   * description + context + checkpoint alone, and knows what was done.
   */
  clearMessages(id: string, options?: ClearOptions): Promise<ClearResult>;
  /**
   * Edits the checkpoint by hand: the summary sections and ledger fields given replace those; the
   * result is written as a new version through the normal checkpoint write path, between
   * compactions. Refused (`INVALID_ARGUMENT`, nothing written) when it is not a valid checkpoint or
   * passes `limits.checkpointTokens`; `SESSION_ARCHIVED` for an archived session.
   */
  editCheckpoint(id: string, edit: CheckpointEdit): Promise<Checkpoint>;
  /**
   * Records a decision (a harness review, a merge conflict resolution...) in the checkpoint's
   * ledger, as a new version; it supersedes an earlier decision of the same kind and subject.
   */
  recordDecision(id: string, decision: DecisionInput): Promise<Checkpoint>;
  /** Archives the live messages and empties the checkpoint (summary and checks); history stays readable. */
  reset(id: string): Promise<ClearResult>;
  /** Session info, checkpoint, context, description and full history, as one JSON-safe object. */
  exportSession(id: string): Promise<SessionExport>;
  /** Marks the session archived: it stays readable; appends and compactions are refused (`SESSION_ARCHIVED`). */
  archiveSession(id: string): Promise<SessionInfo>;
  /**
   * Records verification checks (`{ checkId, passed, error? }`) in the checkpoint, replacing those
   * with the same id.
   */
  recordChecks(id: string, checks: CheckResult[]): Promise<Checkpoint>;
  /**
   * Calls `listener` with every `session.*` event; returns the function that removes it. A listener
   * that throws (or, async, rejects) disturbs neither the call that published the event nor the
   * other listeners: its error goes to `console.error`, whole the first time, then the same error
   * from the same listener only at its 10th, 100th, 1,000th... time, as one line with the count.
   */
  subscribe(listener: SessionEventListener): () => void;
  /** Session actors in memory now (bounded by the supervisor). */
  activeSessionIds(): string[];
  /**
   * Lets the calls already made finish, stops every session actor and releases the root's lock.
   * A script that never calls it still exits (the runtime's timers do not hold the process).
   */
  close(): Promise<void>;
  /**
   * `close()`, for `await using runtime = await createSessionRuntime({ root })`, which closes the
   * runtime when the block ends (TypeScript 5.2 or later; Node 20 has `Symbol.asyncDispose`).
   */
  [Symbol.asyncDispose](): Promise<void>;
}
