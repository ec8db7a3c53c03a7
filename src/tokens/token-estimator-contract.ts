/**
 * The contract of a token estimator: what the runtime, the request builder and compaction ask of
 * one ({@link TokenEstimator}); `TiktokenEstimator` (token-estimator.ts) is the default.
 */
import type { Checkpoint, CheckpointSummary, ContentBlock, Message, Role } from '../core/types.js';

/**
 * Counts tokens of the pieces of a request. Messages are counted once, when appended
 * (`estimateMessage`), so that the estimate of a request is a sum (`estimateMessages`).
 *
 * @example
 * ```ts
 * const estimator: TokenEstimator = createTokenEstimator();
 * const tokens = estimator.estimateMessage({ role: 'user', content: 'Run the tests' });
 * const request = estimator.estimateCheckpoint(summary) + estimator.estimateMessages(liveMessages);
 * ```
 */
export interface TokenEstimator {
  /** What counts, for example `tiktoken:cl100k_base` or `approximate`. */
  readonly name: string;
  /** Tokens of a plain string. */
  estimate(text: string): number;
  /**
   * Optional: the same count as `estimate`, without blocking the event loop on a long text
   * (counted on another thread). The runtime uses it for a session's description and context.
   */
  estimateAsync?(text: string): Promise<number>;
  /**
   * Optional: a proven lower bound of `estimate(text)`, known without counting (0 when there is
   * none). The runtime refuses a description or context that is too large by it, uncounted.
   */
  estimateFloor?(text: string): number;
  /**
   * Tokens of a message's content, blocks as they are sent (tool_use: name + JSON of its input;
   * tool_result: its text; thinking: its text; images by their pixels and PDFs by their pages, as
   * Anthropic documents it, never their base64; see `blockCost`) plus
   * `BLOCK_OVERHEAD_TOKENS` per block.
   */
  estimateContent(content: string | ContentBlock[]): number;
  /** Tokens of a message: its content plus `MESSAGE_OVERHEAD_TOKENS`. */
  estimateMessage(message: { role: Role; content: string | ContentBlock[] }): number;
  /**
   * Optional: the same count as `estimateMessage`, without blocking the event loop on large texts
   * (counted on another thread). The runtime uses it to count appended messages when present.
   */
  estimateMessageAsync?(message: { role: Role; content: string | ContentBlock[] }): Promise<number>;
  /**
   * Optional, with `estimateMessageLater`: a proven upper bound of `estimateMessage(message)`,
   * known without counting, or null when this message has none. A runtime given both acknowledges
   * an append once it is durable and counts it exactly afterwards, using the bound meanwhile.
   */
  boundMessage?(message: { role: Role; content: string | ContentBlock[] }): number | null;
  /**
   * Optional: the count of `estimateMessage`, taken off the main thread and batched with the other
   * messages asked for in the same turn (for messages that have a bound). `countHere`: the caller's
   * write is in flight and the text is short, so the count may be taken on this thread meanwhile.
   */
  estimateMessageLater?(
    message: { role: Role; content: string | ContentBlock[] },
    options?: LaterCountOptions,
  ): Promise<number>;
  /** Sum of the stored `tokens` of messages: no re-tokenisation, O(n) additions. */
  estimateMessages(messages: readonly Pick<Message, 'tokens'>[]): number;
  /** Tokens of a checkpoint as `renderCheckpoint` renders it into a request (0 when empty). */
  estimateCheckpoint(checkpoint: Checkpoint | CheckpointSummary): number;
}

/**
 * Options of {@link TokenEstimator.estimateMessageLater}.
 *
 * @example
 * ```ts
 * await estimator.estimateMessageLater?.({ role: 'user', content: 'hi' }, { countHere: true });
 * ```
 */
export interface LaterCountOptions {
  /**
   * The text is short and its caller waits meanwhile (for its write's fdatasync): count it on this
   * thread, in that wait, if the encoding is loaded here already (it is never loaded for this).
   */
  countHere?: boolean;
}
