/**
 * The types of the session statechart: its context, events, emitted events and the inputs and
 * outputs of its effects.
 */
import type { CheckpointChange } from '../src/core/checkpoint-change.js';
import type { ArchiveSegment, Checkpoint, CompactionEscalation, Limits, Message } from '../src/core/types.js';

/** A message as the runtime hands it to the actor: everything but its seq, assigned here. */
export type NewMessage = Omit<Message, 'seq'>;

/** How an append ends for its caller. */
export type AppendReply = { ok: true; message: Message } | { ok: false; error: unknown };

/** The outcome of a compaction request, for `runtime.compact()`. */
export type CompactReply = { ok: true; result: CompactOutput } | { ok: false; error: unknown };

/** @internal An append waiting for the writer. */
export interface PendingAppend {
  message: Message;
  reply: (result: AppendReply) => void;
  /** Its `tokens` is an upper bound: the exact count comes with the write or later (`COUNTED`). */
  uncounted?: boolean;
  /** For an uncounted append: its exact count if known by now (see {@link AppendRequest.exact}). */
  exact?: () => number | undefined;
}

/** What the `persist` effect is given: one batch of the writer, and which of them are uncounted. */
export interface PersistInput {
  sessionId: string;
  messages: Message[];
  /** Seqs of messages whose `tokens` is an upper bound (see {@link PendingAppend.uncounted}). */
  uncounted?: number[];
  /** The exact count of an uncounted message of the batch if known by now (taken: `COUNTED` skips it). */
  exactOf?: (seq: number) => number | undefined;
  /**
   * Answers the batch's callers now, each with its stored message (with the counts taken while
   * it was written): for an effect that makes the batch durable and lets its callers go on before
   * the actor's bookkeeping (figures, `message.appended`). The effect then reports
   * `acknowledged: true`, and `PERSIST.DONE` answers nobody a second time. Call it only once the
   * batch is durable, at most once.
   */
  acknowledge?: (counted: PersistOutput['counted']) => void;
}

/** What the writer (the `persist` effect) is sent: one batch to make durable. */
export interface PersistRequest {
  type: 'PERSIST';
  input: PersistInput;
}

/**
 * What the `persist` effect reports: the exact counts of uncounted messages that were known once
 * the batch was durable (counted while it was written), held by the store already. The actor
 * takes them with the acknowledgement, so those appends need no `COUNTED` afterwards.
 */
export interface PersistOutput {
  counted: { seq: number; tokens: number }[];
  /** The effect answered the callers already (`PersistInput.acknowledge`). */
  acknowledged?: boolean;
}

/** What the `load` effect reports. */
export interface LoadOutput {
  liveTokens: number;
  liveCount: number;
  /** Seq of the last message on disk, -1 for an empty session. */
  lastSeq: number;
  archivedThroughSeq: number;
  descriptionTokens: number;
  contextTokens: number;
  checkpointTokens: number;
  checkpointVersion: number;
}

/** What the `compact` effect receives. */
export interface CompactInput {
  sessionId: string;
  /** Fold only messages with seq <= watermarkSeq (persisted when the compaction started). */
  watermarkSeq: number;
  limits: Limits;
  /** Tail budget for this compaction (limits.keepRecentTokens unless the caller set one). */
  keepRecentTokens: number;
  /** The caller of `compact` set the tail: it is kept as asked, not grown to the target. */
  tailRequested?: boolean;
  fixedTokens: number;
  /** The learned correction factor that request estimates are multiplied by. */
  correction: number;
  attempt: number;
  trigger: 'threshold' | 'manual';
  /**
   * A threshold compaction decided late, once exact counts came: it folds as if it had started
   * right after the first message from this seq on whose exact count brought the request to the
   * threshold, so that what it folds does not depend on when the counting worker answered.
   */
  decideFrom?: number;
}

/** What the `summarise` effect reports: the compaction's figures and what to commit (null: nothing). */
export interface SummariseOutput {
  output: CompactOutput;
  commit: CompactionCommit | null;
}

/** One compaction's writes, made by the `commit` effect as one atomic store commit. */
export interface CompactionCommit {
  sessionId: string;
  /** The messages archived (null when only the checkpoint changes). */
  segment: ArchiveSegment | null;
  checkpoint: Checkpoint;
}

/** What the `commit` effect receives: the writes, and the figures it reports once they are made. */
export interface CommitInput extends CompactionCommit {
  output: CompactOutput;
}

/** What the `compact` effect reports. */
export interface CompactOutput {
  kind: 'compacted' | 'nothing-to-fold';
  reason: string;
  compactor: string;
  checkpointVersion: number;
  checkpointTokens: number;
  archivedThroughSeq: number;
  messagesCompacted: number;
  /** Tokens of the live messages removed from chat. */
  foldedTokens: number;
  tokensBefore: number;
  tokensAfter: number;
  durationMs: number;
  /** Whether the request (fixed parts + checkpoint + kept tail + reply room) is now under the threshold. */
  underThreshold: boolean;
  /** The step of the no-progress guard it took ({@link CompactionEscalation}). */
  escalation: CompactionEscalation;
}

/** What went wrong with the last compaction. */
export interface CompactionFailure {
  code: string;
  message: string;
  retryable: boolean;
  attempts: number;
  /** True when the compaction ran but could not bring the request under the threshold. */
  noProgress: boolean;
  /**
   * The error's `details.outcome` (and the file it names, `installed`), when it had one (the
   * store's: `in-place-not-durable` or `refused-in-doubt` say the session is in doubt until it is
   * loaded again, `reopenSession`).
   */
  details?: { outcome: string; installed?: string };
}

/** Settings fixed when the actor starts. */
export interface SessionMachineInput {
  sessionId: string;
  limits: Limits;
  /** Compact by itself at the threshold (default true; false for read-only runtimes). */
  autoCompact?: boolean;
  /** Learned factor between local estimates and the model's counts (default 1). */
  correction?: number;
  /** Deadline of one compaction on the actor's clock (default 150 s: longer than a compactor's own). */
  compactionTimeoutMs?: number;
  /** First retry delay after a failed compaction (default 1 s), doubled each time up to retryMaxMs (5 min). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** The actor's figures. Messages themselves stay in the store; the machine counts. */
export interface SessionMachineContext {
  sessionId: string;
  limits: Limits;
  autoCompact: boolean;
  /** Multiplies local estimates to predict the model's count (token calibration). */
  correction: number;
  compactionTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  liveTokens: number;
  liveCount: number;
  /**
   * Live messages counted in `liveTokens` by their upper bound, their exact count still coming:
   * a compaction the bound would start waits for them (the exact sum may be under the threshold).
   */
  uncounted: number;
  /**
   * Seq of the first message persisted with its count still coming, since the last threshold
   * decision taken on exact counts (null: none). The next threshold compaction decides from it.
   */
  undecidedFrom: number | null;
  /** The running threshold compaction's {@link CompactInput.decideFrom} (null: none). */
  decideFrom: number | null;
  /** Seq of the last persisted message. */
  lastSeq: number;
  /** Next seq to hand out (counts queued appends). */
  nextSeq: number;
  archivedThroughSeq: number;
  descriptionTokens: number;
  contextTokens: number;
  checkpointTokens: number;
  checkpointVersion: number;
  queue: PendingAppend[];
  inFlight: PendingAppend[];
  compactWaiters: ((reply: CompactReply) => void)[];
  /** Tail budget asked for by a manual COMPACT, used by the next compaction. */
  requestedKeepTokens: number | null;
  trigger: 'threshold' | 'manual';
  watermarkSeq: number;
  /** The writes of the compaction being committed (state `compacting.committing`). */
  committing: CommitInput | null;
  attempts: number;
  failure: CompactionFailure | null;
  /**
   * Set once a write of this actor's session is in place but not durable (`WRITE.IN_DOUBT`): memory
   * may not be what the files hold until a load reads them again, which only a new actor does. While
   * set, the compaction region stays `failed` with it as `failure`. Absent otherwise.
   */
  inDoubt?: CompactionFailure;
  /** After a no-progress failure: live tokens at that point; automatic retries wait for growth. */
  blockedAtLiveTokens: number | null;
  lastCompaction: CompactOutput | null;
  loadError: { code: string; message: string } | null;
  closeRequested: boolean;
  /**
   * A clear, reset or edit waiting for the compaction region to be free, with the checkpoint
   * changes to commit with it (in the order they were asked for) and its callers.
   */
  pendingClear: ClearJob | null;
  /** The clear, reset or edit running now (it left `pendingClear` when it started). */
  clearing: ClearJob | null;
}

/** One message to append and its caller's reply. */
export interface AppendRequest {
  message: NewMessage;
  reply: (result: AppendReply) => void;
  /** Its `tokens` is an upper bound (see {@link PendingAppend.uncounted}). */
  uncounted?: boolean;
  /**
   * For an uncounted append: returns its exact count once known, else undefined. The `persist`
   * effect asks it when the write is durable; a count it returns is the effect's to record (the
   * caller hands it over no other way).
   */
  exact?: () => number | undefined;
}

/** Events the actor accepts. */
export type SessionMachineEvent =
  | ({ type: 'APPEND' } & AppendRequest)
  /**
   * Appends handed over together (those of one event-loop turn): queued in this order and written
   * in one batch, each caller answered through its own `reply`.
   */
  | { type: 'APPEND.MANY'; appends: AppendRequest[] }
  /** Exact counts of `count` messages appended uncounted arrived: `delta` (<= 0) is exact - bound. */
  | { type: 'COUNTED'; delta: number; count: number }
  /** From the writer: the batch it was sent is durable (`output`: the counts taken meanwhile). */
  | { type: 'PERSIST.DONE'; output: PersistOutput | undefined }
  /** From the writer: the batch it was sent failed; nothing of it is acknowledged. */
  | { type: 'PERSIST.FAILED'; error: unknown }
  | { type: 'COMPACT'; keepRecentTokens?: number; reply?: (result: CompactReply) => void }
  | { type: 'FIXED.CHANGED'; descriptionTokens?: number; contextTokens?: number; checkpointTokens?: number }
  /** Stops a compaction that is still summarising (ignored once its commit started). */
  | { type: 'COMPACTION.CANCEL' }
  | { type: 'CALIBRATION.CHANGED'; correction: number }
  /**
   * A write of the session (a commit, clear, edit, `setContext`...) put its file in place but its
   * directory's fsync failed (`error`: the store's, `details.outcome` `'in-place-not-durable'`).
   */
  | { type: 'WRITE.IN_DOUBT'; error: unknown }
  | { type: 'CLEAR'; mode: ClearMode; change?: CheckpointChange; reply: (result: ClearReply) => void }
  | { type: 'CLOSE' };

/** Events the actor emits (the runtime republishes them as `session.*` events). */
export type SessionMachineEmitted =
  | { type: 'message.appended'; sessionId: string; messages: Message[]; liveTokens: number }
  | {
      type: 'compaction.started';
      sessionId: string;
      watermarkSeq: number;
      trigger: 'threshold' | 'manual';
      attempt: number;
      tokensBefore: number;
    }
  | { type: 'compaction.completed'; sessionId: string; result: CompactOutput }
  | { type: 'compaction.failed'; sessionId: string; failure: CompactionFailure; willRetryInMs: number | null }
  | { type: 'compaction.cancelled'; sessionId: string; watermarkSeq: number }
  | { type: 'cleared'; sessionId: string; result: ClearOutput }
  | { type: 'write.in-doubt'; sessionId: string; failure: CompactionFailure };

/**
 * What to do: `clear` archives the live messages and keeps the checkpoint (their facts recorded
 * in its ledger), `reset` archives them and empties it, `edit` archives nothing and only commits
 * the changes given (a hand edit, decisions).
 */
export type ClearMode = 'clear' | 'reset' | 'edit';

/** @internal A clear, reset or edit with its changes and its callers. */
export interface ClearJob {
  mode: ClearMode;
  changes: CheckpointChange[];
  waiters: ((reply: ClearReply) => void)[];
}

/** What the `clear` effect receives. */
export interface ClearInput {
  sessionId: string;
  /** Archive live messages with seq <= watermarkSeq (not for `edit`). */
  watermarkSeq: number;
  mode: ClearMode;
  /** Checkpoint changes to commit with it, in order (none after a reset queued later). */
  changes: CheckpointChange[];
  /** The session's limits: the checkpoint is fitted to `checkpointTokens`. */
  limits: Limits;
}

/** What a clear or reset did. */
export interface ClearOutput {
  mode: ClearMode;
  archivedMessages: number;
  /** What the live messages removed from chat counted in the request size (internal ones: 0). */
  foldedTokens: number;
  segment: number | null;
  checkpointVersion: number;
  checkpointTokens: number;
  archivedThroughSeq: number;
}

/** How a clear or reset ends for its caller. */
export type ClearReply = { ok: true; result: ClearOutput } | { ok: false; error: unknown };
