/**
 * The data of dagent-sessions: keys, messages, checkpoints, limits and the on-disk shapes.
 * Pure types only; no I/O lives here. The content blocks of messages are in `content-blocks.ts`
 * and the ledger in `ledger-types.ts`; both are re-exported from here.
 */

/** DAGent's orchestrator roles: the agent types every runtime knows. */
export const AGENT_TYPES = ['pm', 'dev', 'qa', 'harness', 'merge'] as const;
/** One of DAGent's roles: `pm`, `dev`, `qa`, `harness`, `merge`. */
export type DefaultAgentType = (typeof AGENT_TYPES)[number];
/**
 * An agent type: one of DAGent's five (offered by autocompletion), or one a host registers with
 * `createSessionRuntime({ agents: { researcher: { description } } })`. Either is a safe id part.
 */
export type AgentType = DefaultAgentType | (string & {});

/** DAGent's task states that have sessions of their own: the task states every runtime knows. */
export const TASK_STATES = ['planning', 'in_dev', 'in_qa', 'in_review', 'merging'] as const;
/** One of DAGent's task states with sessions. */
export type DefaultTaskState = (typeof TASK_STATES)[number];
/**
 * A task state with sessions: one of DAGent's five, or one a host registers with the agent that
 * serves it (`agents: { researcher: { description, taskStates: ['researching'] } }`).
 */
export type TaskState = DefaultTaskState | (string & {});

/**
 * What identifies a session: one conversation of one agent about one feature, or about one task
 * in one task state. The session id is derived from it ({@link sessionIdOf}).
 */
export type SessionKey =
  | { type: 'feature'; agentType: AgentType; featureId: string }
  | { type: 'task'; agentType: AgentType; featureId: string; taskId: string; taskState: TaskState };

export type * from './content-blocks.js';
import type { ContentBlock } from './content-blocks.js';

/** Who said a message. */
export type Role = 'user' | 'assistant' | 'system';

/**
 * What a caller gives to `addMessage`: the runtime adds id, timestamp, seq and tokens. Other fields
 * are let be (a stored message or an SDK reply can be given as it is), but one a slip away from
 * an optional field (`idempotncyKey`, `metdata`, `timeStamp`) is refused with `INVALID_MESSAGE`.
 */
export interface MessageInput {
  role: Role;
  content: string | ContentBlock[];
  metadata?: Record<string, unknown>;
  /** ISO-8601; defaults to the runtime clock's now. Kept as given (migrations keep old times). */
  timestamp?: string;
  /**
   * A caller's key for this write (1 to 128 letters, digits, `.`, `_`, `:` or `-`): a retry with
   * the same key returns the message stored the first time instead of writing it again.
   */
  idempotencyKey?: string;
}

/**
 * A persisted message. `tokens` is counted once, when it is appended. The message `addMessage`
 * returns may hold an upper bound instead (an unkeyed text append is acknowledged before its exact
 * count is known); reads return the exact count.
 */
export interface Message {
  id: string;
  /** Position in the session's whole history, from 0; never reused, never moves. */
  seq: number;
  role: Role;
  content: string | ContentBlock[];
  timestamp: string;
  tokens: number;
  metadata?: Record<string, unknown>;
  /** The caller's idempotency key of the write that stored it, if it gave one. */
  idempotencyKey?: string;
}

/**
 * What a compactor writes on top of the ledger: short statements. A model is asked for goals,
 * in progress, next (`pending`) and decisions; `completed` and `blockers` come from older
 * checkpoints and custom compactors (the ledger holds files, commands and open problems).
 */
export interface CheckpointSummary {
  /** What the user is after, in the user's terms. */
  goals?: string[];
  completed: string[];
  inProgress: string[];
  pending: string[];
  decisions: string[];
  blockers: string[];
}

/** The outcome of one verification check (recorded by task loops). */
export interface CheckResult {
  checkId: string;
  passed: boolean;
  error?: string;
  at?: string;
}

/**
 * The step of the no-progress guard at which a compaction got the request under the threshold, or
 * stopped: `0` the session's verbatim tail kept (and every clear, reset or edit); `1` a quarter of
 * that tail kept; `2` no tail kept and, when even that was not enough, the checkpoint itself
 * re-compressed into half its budget. Stored in `checkpoint.json` (`compactionInfo.escalation`); a
 * load refuses any other value as `CORRUPT_FILE`.
 *
 * @example const step: CompactionEscalation = result.escalation; // 0 | 1 | 2
 */
export type CompactionEscalation = 0 | 1 | 2;

/** How the checkpoint of a given version came to be. */
export interface CompactionInfo {
  compactor: string;
  /** Messages folded in by the compaction that produced this version. */
  messagesCompacted: number;
  /** Seq of the last message archived so far (the watermark); -1 before any. */
  archivedThroughSeq: number;
  /** Archive segment written by this compaction. */
  segment: number;
  tokensBefore: number;
  tokensAfter: number;
  durationMs: number;
  /** Number of compactor calls (more than one when the input was folded in chunks). */
  chunks: number;
  /** The escalation step of the compaction that produced this version ({@link CompactionEscalation}). */
  escalation: CompactionEscalation;
  /** Messages in the archive after this compaction (cumulative). */
  archivedMessages: number;
  /** Tokens of the archived messages (cumulative). */
  archivedTokens: number;
}

export type * from './ledger-types.js';
import type { SessionLedger } from './ledger-types.js';

/** The schema of checkpoint.json written now: 2 adds the ledger (1: summary only). */
export const CHECKPOINT_SCHEMA_VERSION = 2;

/** checkpoint.json */
export interface Checkpoint {
  /** {@link CHECKPOINT_SCHEMA_VERSION} when written; absent in schema 1 files, which are upgraded on read. */
  schemaVersion?: number;
  version: number;
  createdAt: string;
  updatedAt: string;
  summary: CheckpointSummary;
  /** What deterministic code recorded: files, commands, open problems, the user's words, status. */
  ledger?: SessionLedger;
  checks?: CheckResult[];
  compactionInfo: CompactionInfo;
  /** Tokens of the checkpoint as it appears in a request. */
  tokens: number;
}

/** context.json: what the agent needs to know about its project, feature and task. */
export interface SessionContext {
  featureName?: string;
  featureGoal?: string;
  taskTitle?: string;
  taskState?: string;
  dagSummary?: string;
  dependencies?: string[];
  dependents?: string[];
  projectNotes?: string;
  recentCommits?: string[];
  attachments?: string[];
  [extra: string]: unknown;
}

/** agent-description.json: the agent's role and tool instructions. */
export interface AgentDescription {
  role: string;
  instructions?: string;
  tools?: string[];
  [extra: string]: unknown;
}

/**
 * Token limits of a session. `compactAt` is a fraction of `maxTokens` (0 < compactAt <= 1).
 */
export interface Limits {
  /** The model's context budget for one request. Default 100,000. */
  maxTokens: number;
  /** Fraction of maxTokens at which compaction starts. Default 0.9. */
  compactAt: number;
  /**
   * Token budget of the verbatim tail kept after a compaction: at least this much, more when the
   * checkpoint leaves room to reach `targetAfterCompaction`. Default: what reaches the target with
   * a full checkpoint (20% of windows up to 80,000 tokens).
   */
  keepRecentTokens: number;
  /** Room kept for the model's reply in every request estimate. Default 4,096. */
  replyReserveTokens: number;
  /** Token budget of the checkpoint itself (ledger and summary). Default 25% of maxTokens. */
  checkpointTokens: number;
  /**
   * Share of maxTokens a request should have right after a compaction: the default
   * keepRecentTokens is what reaches it with a full checkpoint. Default 0.5.
   */
  targetAfterCompaction?: number;
}

/** Machine state of a session as reported to callers and the inspector. */
export type SessionMachineState = 'loading' | 'idle' | 'appending' | 'compacting' | 'failed' | 'closed';

/** Counters kept in session.json (derivable ones are recomputed, not written per append). */
export interface SessionStats {
  totalMessages: number;
  totalTokens: number;
  totalCompactions: number;
  lastCompactionAt: string | null;
  lastRequestTokens: number;
}

/** session.json */
export interface SessionRecord {
  schemaVersion: number;
  id: string;
  key: SessionKey;
  createdAt: string;
  updatedAt: string;
  status: 'active' | 'archived';
  stats: SessionStats;
}

/** chat.json as stored: live messages plus derived figures, and the log watermark. */
export interface ChatFile {
  messages: Message[];
  totalMessages: number;
  oldestMessageTimestamp: string | null;
  newestMessageTimestamp: string | null;
  /** Highest message seq folded into this snapshot; log records at or below it are skipped. */
  snapshotSeq: number;
}

/** archive/NNNNNN.json: one immutable segment per compaction. */
export interface ArchiveSegment {
  segment: number;
  checkpointVersion: number;
  createdAt: string;
  firstSeq: number;
  lastSeq: number;
  messages: Message[];
}

/** The current on-disk schema version of a session directory. */
export const SCHEMA_VERSION = 1;
