/**
 * The TokenEstimator: how many tokens a string, a message, a list of stored messages or a
 * checkpoint costs in a request. Counting is exact for a js-tiktoken encoding (no local tokenizer
 * matches Claude's, so this is an estimate of the model's count either way), with a fast
 * approximate mode that loads nothing.
 */
import { SessionError } from '../core/errors.js';
import { BLOCK_OVERHEAD_TOKENS, MESSAGE_OVERHEAD_TOKENS, textTokenBound } from '../core/token-bound.js';
import type { Checkpoint, CheckpointSummary, ContentBlock, Message, Role } from '../core/types.js';
import { renderCheckpoint } from '../request/format.js';
import { approximateTokens } from './approximate.js';
import { blockCost } from './block-cost.js';
import { createCountBatcher, type CountBatcher } from './count-batcher.js';
import { sharedCountingWorker } from './counting-worker.js';
import { getEncoder, isEncoderLoaded, type TokenEncoding } from './encoding-cache.js';
import { countExact, countFloor } from './exact-count.js';
import { countByLines, type LineCounts } from './line-counts.js';
import type { LaterCountOptions, TokenEstimator } from './token-estimator-contract.js';
import { checkedOptions, type TokenEstimatorOptions } from './token-estimator-options.js';

export type { LaterCountOptions, TokenEstimator } from './token-estimator-contract.js';

export type { TokenEncoding } from './encoding-cache.js';
export { DEFAULT_OFF_THREAD_CHARS, type TokenEstimatorOptions } from './token-estimator-options.js';

// The framing constants live beside the upper bound that relies on them (one rule, one place).
export { BLOCK_OVERHEAD_TOKENS, MESSAGE_OVERHEAD_TOKENS } from '../core/token-bound.js';
/**
 * @internal While the counting worker loads its encoding, {@link TiktokenEstimator.estimateMessageLater}
 * counts a turn's first message on this thread, and others while the turn's texts add up to at
 * most this many characters (a few milliseconds of counting); the rest waits for the worker.
 */
export const LOADING_HERE_CHARS_PER_TURN = 16 * 1024;

/**
 * A {@link TokenEstimator} backed by js-tiktoken. The encoding is loaded synchronously on first
 * exact use and shared by every instance in the process. Exact counts equal js-tiktoken's, except
 * inside runs of more than 100 letters, punctuation or whitespace characters (a megabyte without
 * a space, base64 without separators), whose count is extrapolated to avoid js-tiktoken's
 * quadratic cost on them; special-token text such as `<|endoftext|>` counts as plain text.
 *
 * @example
 * ```ts
 * const estimator = new TiktokenEstimator({ encoding: 'o200k_base' });
 * estimator.estimate('hello world'); // 2
 * ```
 */
export class TiktokenEstimator implements TokenEstimator {
  readonly name: string;
  readonly mode: 'exact' | 'approximate';
  readonly encoding: TokenEncoding;
  readonly offThreadChars: number;
  #warnedFallback = false;
  #batcher: CountBatcher | null = null;
  /** Counts of checkpoint lines: a checkpoint's drafts and versions share most of their lines. */
  readonly #lines: LineCounts = new Map();
  /** Characters counted on this thread in this turn while the worker loads; -1 before the first. */
  #loadingTurnChars = -1;

  /**
   * @param options - Mode, encoding and off-thread threshold; see {@link TokenEstimatorOptions}.
   * @throws SessionError `INVALID_ARGUMENT` for an unknown mode or encoding, a bad threshold, or a
   *   name that is none of the options.
   */
  constructor(options: TokenEstimatorOptions = {}) {
    const { mode, encoding, offThreadChars } = checkedOptions(options);
    this.mode = mode;
    this.encoding = encoding;
    this.offThreadChars = offThreadChars;
    this.name = mode === 'exact' ? `tiktoken:${encoding}` : 'approximate';
  }

  /**
   * Loads the encoding now (200-400 ms the first time in a process) instead of on the first count.
   * Does nothing in approximate mode.
   */
  warmUp(): void {
    if (this.mode === 'exact') getEncoder(this.encoding);
  }

  /**
   * Tokens of a plain string.
   * @throws SessionError `INVALID_ARGUMENT` when `text` is not a string.
   */
  estimate(text: string): number {
    if (typeof text !== 'string') {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'tokens',
        `estimate() expects a string, got ${describeType(text)}`,
      );
    }
    if (text.length === 0) return 0;
    return this.mode === 'exact' ? countExact(getEncoder(this.encoding), text) : approximateTokens(text);
  }

  /**
   * The count of {@link estimate}, a text of at least `offThreadChars` characters counted on the
   * shared counting worker (see {@link estimateContentAsync}).
   * @throws SessionError `INVALID_ARGUMENT` when `text` is not a string.
   * @example
   * ```ts
   * await estimator.estimateAsync(renderedContext); // the host keeps answering meanwhile
   * ```
   */
  estimateAsync(text: string): Promise<number> {
    if (typeof text !== 'string') return Promise.resolve().then(() => this.estimate(text));
    return this.estimateContentAsync(text);
  }

  /**
   * A proven lower bound of {@link estimate}, known without counting: in exact mode the UTF-8
   * bytes of `text` over the most bytes a token of the encoding stands for (128), else 0.
   * @example
   * ```ts
   * estimator.estimateFloor('x'.repeat(1_000)); // 8 (the count is 125)
   * ```
   */
  estimateFloor(text: string): number {
    return this.mode === 'exact' && typeof text === 'string' ? countFloor(text) : 0;
  }

  /**
   * Tokens of a message's content (see {@link TokenEstimator.estimateContent}).
   * @throws SessionError `INVALID_ARGUMENT` when `content` is neither a string nor an array.
   */
  estimateContent(content: string | ContentBlock[]): number {
    if (typeof content === 'string') return this.estimate(content);
    if (!Array.isArray(content)) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'tokens',
        `content must be a string or an array of blocks, got ${describeType(content)}`,
      );
    }
    let total = 0;
    for (const block of content) {
      const cost = blockCost(block);
      total += this.estimate(cost.text) + cost.fixed + BLOCK_OVERHEAD_TOKENS;
    }
    return total;
  }

  /**
   * Tokens of a message: content plus {@link MESSAGE_OVERHEAD_TOKENS}.
   * @throws SessionError `INVALID_ARGUMENT` when `message` is not an object with valid content.
   */
  estimateMessage(message: { role: Role; content: string | ContentBlock[] }): number {
    if (message === null || typeof message !== 'object') {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'tokens',
        `estimateMessage() expects a message object, got ${describeType(message)}`,
      );
    }
    return this.estimateContent(message.content) + MESSAGE_OVERHEAD_TOKENS;
  }

  /**
   * The count of {@link estimateContent}, without blocking the event loop: content with at least
   * `offThreadChars` characters of text is counted on the shared counting worker (same encoding,
   * same code, identical count). Should the worker fail, it counts here instead.
   * @throws SessionError `INVALID_ARGUMENT` when `content` is neither a string nor an array.
   * @example
   * ```ts
   * await estimator.estimateContentAsync(fiveMegabytesOfLog); // the host keeps answering meanwhile
   * ```
   */
  async estimateContentAsync(content: string | ContentBlock[]): Promise<number> {
    if (this.mode !== 'exact' || (typeof content !== 'string' && !Array.isArray(content)))
      return this.estimateContent(content);
    const costs = typeof content === 'string' ? [{ text: content, fixed: 0 }] : content.map(blockCost);
    const texts = costs.map((cost) => cost.text);
    let chars = 0;
    for (const text of texts) chars += text.length;
    if (chars < this.offThreadChars) return this.estimateContent(content);
    let counts: number[];
    try {
      counts = await sharedCountingWorker().count(this.encoding, texts);
    } catch (error) {
      if (!this.#warnedFallback) {
        this.#warnedFallback = true;
        process.emitWarning(
          `[dagent-sessions] [tokens] the counting worker failed ` +
            `(${describeType(error)}: ${String(error)}); counting on the main thread`,
        );
      }
      return this.estimateContent(content);
    }
    let total = 0;
    for (const count of counts) total += count;
    for (const cost of costs) total += cost.fixed;
    return typeof content === 'string' ? total : total + BLOCK_OVERHEAD_TOKENS * texts.length;
  }

  /**
   * The count of {@link estimateMessage}, large texts counted off the main thread (see
   * {@link estimateContentAsync}).
   * @throws SessionError `INVALID_ARGUMENT` when `message` is not an object with valid content.
   */
  async estimateMessageAsync(message: { role: Role; content: string | ContentBlock[] }): Promise<number> {
    if (message === null || typeof message !== 'object') return this.estimateMessage(message);
    return (await this.estimateContentAsync(message.content)) + MESSAGE_OVERHEAD_TOKENS;
  }

  /**
   * The upper bound of an exact count of a message (the UTF-8 bytes of the text it is counted by,
   * plus framing, see `textTokenBound`), or null: in approximate mode, or for content with media.
   * @example
   * ```ts
   * estimator.boundMessage({ role: 'user', content: 'hi' }); // 6 (the exact count is 5)
   * ```
   */
  boundMessage(message: { role: Role; content: string | ContentBlock[] }): number | null {
    if (this.mode !== 'exact' || message === null || typeof message !== 'object') return null;
    return textTokenBound(message.content);
  }

  /**
   * The count of {@link estimateMessage}, its texts (those `blockCost` gives) counted on the shared
   * counting worker in one request with the others asked for in the same turn, and remembered by
   * their text; the fixed costs of media are added here. In approximate mode, as
   * {@link estimateMessageAsync}. With `countHere`, counted on this thread now if its encoder is
   * loaded (the same code and encoding: the same count).
   * @throws SessionError `INVALID_ARGUMENT` when `message` is not an object with valid content.
   * @example
   * ```ts
   * const tokens = await estimator.estimateMessageLater({ role: 'user', content: text });
   * ```
   */
  estimateMessageLater(
    message: { role: Role; content: string | ContentBlock[] },
    options?: LaterCountOptions,
  ): Promise<number> {
    const content = message?.content;
    if (
      typeof content === 'string' &&
      this.mode === 'exact' &&
      options?.countHere !== true &&
      (!isEncoderLoaded(this.encoding) ||
        content.length >= this.offThreadChars ||
        sharedCountingWorker().ready(this.encoding))
    ) {
      // A text, not counted here while the worker loads (see below): one count asked for with the
      // turn's others, and no async call of its own (a burst holds 200 of them until the answer).
      return this.#batcherOf().count(content).then(withMessageOverhead);
    }
    return this.#estimateMessageLater(message, options);
  }

  async #estimateMessageLater(
    message: { role: Role; content: string | ContentBlock[] },
    options?: LaterCountOptions,
  ): Promise<number> {
    const content = message?.content;
    if (this.mode !== 'exact' || (typeof content !== 'string' && !Array.isArray(content)))
      return this.estimateMessageAsync(message);
    // Blocks by their cost (blockCost): the text counted on the worker, plus the fixed part.
    const costs = typeof content === 'string' ? null : content.map(blockCost);
    const texts = costs === null ? [content as string] : costs.map((cost) => cost.text);
    let total = MESSAGE_OVERHEAD_TOKENS;
    if (costs !== null) for (const cost of costs) total += cost.fixed + BLOCK_OVERHEAD_TOKENS;
    const batcher = this.#batcherOf();
    if (options?.countHere === true && isEncoderLoaded(this.encoding)) {
      // A text the worker is counting now is waited for, not counted twice.
      const counts = texts.map((text) => batcher.countNow(text));
      for (const count of counts) total += typeof count === 'number' ? count : await count;
      return total;
    }
    const chars = charsOf(texts);
    if (
      isEncoderLoaded(this.encoding) &&
      chars < this.offThreadChars &&
      !sharedCountingWorker().ready(this.encoding) &&
      this.#hereWhileLoading(chars)
    ) {
      // The worker has not loaded its encoding yet (100-400 ms after it starts): a read would wait
      // for it, so counted here meanwhile, by the same code with the same encoding (the same count).
      for (const text of texts) total += this.estimate(text);
      return total;
    }
    const counts = await Promise.all(texts.map((text) => batcher.count(text)));
    for (const count of counts) total += count;
    return total;
  }

  #batcherOf(): CountBatcher {
    this.#batcher ??= createCountBatcher(this.encoding, (text) => this.estimate(text));
    return this.#batcher;
  }

  /**
   * Whether `chars` more may be counted on this thread in this turn while the worker loads: the
   * turn's first message, then others while the turn's texts add up to at most
   * {@link LOADING_HERE_CHARS_PER_TURN}. The rest waits for the worker: a burst made in a host's
   * first second would otherwise hold the event loop for all of its counts (200 x 1 KB: 30-40 ms).
   */
  #hereWhileLoading(chars: number): boolean {
    if (this.#loadingTurnChars < 0) {
      this.#loadingTurnChars = chars;
      setImmediate(() => (this.#loadingTurnChars = -1));
      return true;
    }
    if (this.#loadingTurnChars + chars > LOADING_HERE_CHARS_PER_TURN) return false;
    this.#loadingTurnChars += chars;
    return true;
  }

  /**
   * Sum of the stored `tokens` fields.
   * @throws SessionError `INVALID_ARGUMENT` when `messages` is not an array or a `tokens` is not a finite number >= 0.
   */
  estimateMessages(messages: readonly Pick<Message, 'tokens'>[]): number {
    if (!Array.isArray(messages)) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'tokens',
        `estimateMessages() expects an array, got ${describeType(messages)}`,
      );
    }
    let total = 0;
    for (let i = 0; i < messages.length; i++) {
      const tokens = (messages[i] as Pick<Message, 'tokens'> | undefined)?.tokens;
      if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'tokens',
          `message ${i} has no valid stored token count (got ${describeType(tokens)})`,
        );
      }
      total += tokens;
    }
    return total;
  }

  /**
   * Tokens of `renderCheckpoint(summary, checks, ledger)`. In exact mode the rendering is counted
   * line by line, each distinct line once (remembered by this instance, a bounded number of them):
   * the same count as the whole text, see `countByLines`.
   * @throws SessionError `INVALID_ARGUMENT` when `checkpoint` is not an object.
   */
  estimateCheckpoint(checkpoint: Checkpoint | CheckpointSummary): number {
    if (checkpoint === null || typeof checkpoint !== 'object') {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'tokens',
        `estimateCheckpoint() expects a checkpoint or a summary, got ${describeType(checkpoint)}`,
      );
    }
    const isCheckpoint =
      'summary' in checkpoint && checkpoint.summary !== null && typeof checkpoint.summary === 'object';
    const text = isCheckpoint
      ? renderCheckpoint(checkpoint.summary, checkpoint.checks, checkpoint.ledger)
      : renderCheckpoint(checkpoint as CheckpointSummary);
    return this.mode === 'exact'
      ? countByLines(text, (line) => this.estimate(line), this.#lines)
      : this.estimate(text);
  }
}

/**
 * Creates the default {@link TokenEstimator}: exact `cl100k_base` counting unless told otherwise.
 *
 * @param options - `mode` (`exact` | `approximate`) and `encoding` (`cl100k_base` | `o200k_base`).
 * @returns A {@link TiktokenEstimator}.
 * @throws SessionError `INVALID_ARGUMENT` for an unknown mode or encoding.
 * @example
 * ```ts
 * const estimator = createTokenEstimator({ mode: 'approximate' });
 * estimator.estimateMessage({ role: 'user', content: 'hi' }); // 5
 * ```
 */
export function createTokenEstimator(options: TokenEstimatorOptions = {}): TiktokenEstimator {
  return new TiktokenEstimator(options);
}

const withMessageOverhead = (tokens: number): number => tokens + MESSAGE_OVERHEAD_TOKENS;

function charsOf(texts: readonly string[]): number {
  let chars = 0;
  for (const text of texts) chars += text.length;
  return chars;
}

/** @internal A short description of a value's type, for error messages. */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'number' ? `the number ${value}` : typeof value;
}
