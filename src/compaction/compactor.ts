/**
 * The contract between a session and whatever summarises its older messages.
 */
import type { CheckpointSummary, Message, SessionLedger } from '../core/types.js';

/** What a compactor is asked to fold in. */
export interface CompactionInput {
  /** The current summary, or null before the first compaction. */
  checkpoint: CheckpointSummary | null;
  /** The messages to fold into it, oldest first. May be empty (re-compress the checkpoint only). */
  messages: Message[];
  /** Token budget of the summary the compactor returns. */
  budgetTokens: number;
  /**
   * The session's ledger with these messages already recorded (files, commands, open problems,
   * the user's words): facts the summary need not repeat. Read-only.
   */
  ledger?: SessionLedger | null;
}

/** Progress reported while a compactor runs (for example tokens streamed so far). */
export interface CompactionProgress {
  outputTokens?: number;
  chunk?: number;
  chunks?: number;
}

/** Per-call options. */
export interface CompactOptions {
  /** Aborted when the session cancels the compaction (timeout, close, reset). */
  signal: AbortSignal;
  onProgress?: (progress: CompactionProgress) => void;
}

/**
 * Folds messages into a checkpoint summary. Implementations: `OfflineCompactor` (deterministic,
 * no network) and `AnthropicCompactor` (Claude through the SDK); `createSessionRuntime` refuses a
 * compactor without a `name` or a `maxInputTokens` above 0 (`INVALID_ARGUMENT`).
 *
 * A compactor must not keep state between calls, must honour `signal`, and should throw a
 * `SessionError` (`COMPACTOR_*` codes) on failure. It never touches disk: the session writes
 * the result only when the whole compaction succeeded.
 */
export interface Compactor {
  /** Short name shown in session info and events, for example `offline` or `anthropic:claude-...`. */
  readonly name: string;
  /** Largest input (tokens of messages + checkpoint) accepted in one call; bigger inputs are folded in chunks. */
  readonly maxInputTokens: number;
  compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary>;
}
