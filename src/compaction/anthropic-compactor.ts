/**
 * The compactor that asks a Claude model, through `@anthropic-ai/sdk`: a streamed Messages API
 * call forcing the `record_checkpoint` tool, validated against the checkpoint schema. The SDK
 * retries 408, 409, 429, 5xx and 529 with backoff; whatever still fails is translated at the edge
 * (`anthropic-errors.ts`) into a `SessionError` whose code says what the session should do. The
 * options and their checks are in `anthropic-options.ts`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ClientOptions } from '@anthropic-ai/sdk';
import type { Message as ApiMessage, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { loadAnthropicSdk, type AnthropicSdk } from './anthropic-sdk.js';
import { SessionError, describeError } from '../core/errors.js';
import { anthropicCancelled, translateAnthropicError } from './anthropic-errors.js';
import {
  resolveAnthropicOptions,
  type AnthropicCompactorOptions,
  type AnthropicUsage,
} from './anthropic-options.js';
import type { CheckpointSummary } from '../core/types.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import { buildCheckpointPrompt, type CheckpointPrompt } from './checkpoint-prompt.js';
import { CHECKPOINT_TOOL_NAME } from './checkpoint-schema.js';
import type { CompactOptions, CompactionInput, Compactor } from './compactor.js';
import { emptyLedger } from './ledger/ledger-builder.js';
import { fitCheckpoint } from './ledger/fit-checkpoint.js';
import { parseCheckpointResponse } from './parse-checkpoint.js';

// The options live in their own module; importers of this one keep finding them here.
export {
  DEFAULT_ANTHROPIC_MODEL,
  hasAnthropicApiKey,
  type AnthropicCompactorOptions,
  type AnthropicUsage,
} from './anthropic-options.js';

/** Output tokens between two progress reports while streaming. */
const PROGRESS_STEP = 32;

/**
 * A {@link Compactor} backed by a Claude model. Each call streams one Messages API request that
 * forces `record_checkpoint`; the tool input (or, as a fallback, a JSON answer) is validated and
 * then kept within `budgetTokens` by dropping the least important items, as the offline compactor
 * does. `lastUsage` holds the usage of the last answer.
 *
 * @example
 * ```ts
 * const runtime = await createSessionRuntime({
 *   root,
 *   compactor: new AnthropicCompactor({ model: 'claude-haiku-5-5' }),
 * });
 * ```
 */
export class AnthropicCompactor implements Compactor {
  readonly name: string;
  readonly model: string;
  /** Input tokens the fold may put in one call (messages + checkpoint); see the option. */
  readonly maxInputTokens: number;
  readonly maxTokens: number;
  readonly timeoutMs: number;
  /** Usage of the last answer received, or null before any. */
  lastUsage: AnthropicUsage | null = null;
  /** Made on the first compaction, when the SDK is loaded (importing this module does not load it). */
  #madeClient: Anthropic | null = null;
  readonly #clientOptions: ClientOptions | null;
  readonly #maxRetries: number | undefined;
  readonly #estimator: TokenEstimator;
  readonly #onUsage: ((usage: AnthropicUsage) => void) | undefined;

  /**
   * @param options - Client or key, model, limits; see {@link AnthropicCompactorOptions}.
   * @throws SessionError `INVALID_ARGUMENT` when there is no client, no `apiKey` and no key in the
   *   environment (set ANTHROPIC_API_KEY), when `client` is combined with `apiKey`/`baseURL`, when
   *   a number is out of range, or when a name is none of the options (a misspelt `modle`).
   */
  constructor(options: AnthropicCompactorOptions = {}) {
    const resolved = resolveAnthropicOptions(options);
    this.model = resolved.model;
    this.maxTokens = resolved.maxTokens;
    this.timeoutMs = resolved.timeoutMs;
    this.maxInputTokens = resolved.maxInputTokens;
    this.#maxRetries = resolved.maxRetries;
    this.#madeClient = resolved.client;
    this.#clientOptions = resolved.clientOptions;
    this.name = `anthropic:${this.model}`;
    this.#estimator = options.estimator ?? createTokenEstimator();
    this.#onUsage = options.onUsage;
  }

  /** @internal The client; only read once {@link AnthropicCompactor.#connect} has made it. */
  get #client(): Anthropic {
    if (this.#madeClient === null)
      throw new Error('AnthropicCompactor: the client is made on the first compaction');
    return this.#madeClient;
  }

  /**
   * @internal Loads the SDK (once per process) and makes the client (once per compactor).
   * @throws SessionError `COMPACTOR_FAILED` when the SDK cannot be loaded or refuses the options.
   */
  async #connect(): Promise<AnthropicSdk> {
    try {
      const sdk = await loadAnthropicSdk();
      this.#madeClient ??= new sdk.default(this.#clientOptions ?? {});
      return sdk;
    } catch (error) {
      throw new SessionError(
        'COMPACTOR_FAILED',
        'compaction',
        `${this.name}: cannot load @anthropic-ai/sdk or make its client (${describeError(error)}); ` +
          `check that the package is installed and the client options`,
        { cause: error, retryable: false },
      );
    }
  }

  /**
   * Folds `input.messages` into `input.checkpoint` with one streamed request. The model is given
   * the session's ledger (the facts code recorded) and asked only for goals, work in progress,
   * next steps and decisions with their reasons.
   *
   * @param input - The current summary (or null), the ledger, the messages (they must fit
   *   `maxInputTokens`; `foldInChunks` sees to it), and the summary's token budget.
   * @param options - `signal` cancels the HTTP request; `onProgress` hears `{ outputTokens }` as the answer streams.
   * @returns The new summary, within `budgetTokens` as the estimator counts.
   * @throws SessionError `COMPACTOR_UNAVAILABLE` (429, 529, 5xx, connection lost, stream cut; after
   *   the SDK's retries), `COMPACTOR_TIMEOUT` (no full answer within `timeoutMs`),
   *   `COMPACTION_CANCELLED` (signal aborted), `COMPACTOR_FAILED` (400/401/403/404/413: not
   *   retryable), `COMPACTOR_MALFORMED` (no valid checkpoint in the answer, cut at max_tokens,
   *   invalid JSON), `INVALID_ARGUMENT` (bad budget).
   */
  async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
    const signal = options?.signal;
    if (signal?.aborted === true) throw this.#cancelled(signal.reason);
    const budget = input?.budgetTokens;
    if (typeof budget !== 'number' || Number.isNaN(budget) || budget < 0) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'compaction',
        `budgetTokens must be a number >= 0, got ${String(budget)}`,
      );
    }
    const prompt = buildCheckpointPrompt({
      checkpoint: input.checkpoint ?? null,
      ledger: input.ledger ?? null,
      messages: Array.isArray(input.messages) ? input.messages : [],
      budgetTokens: budget,
    });
    const message = await this.#request(prompt, signal, options?.onProgress);
    const summary = parseCheckpointResponse(message);
    return fitCheckpoint({ summary, ledger: emptyLedger() }, budget, this.#estimator).summary;
  }

  /** @internal One streamed request; tool inputs are re-read strictly from the raw JSON streamed. */
  async #request(
    prompt: CheckpointPrompt,
    signal: AbortSignal | undefined,
    onProgress: CompactOptions['onProgress'],
  ): Promise<ApiMessage> {
    const sdk = await this.#connect();
    if (signal?.aborted === true) throw this.#cancelled(signal.reason); // while the SDK loaded
    const controller = new AbortController();
    let timedOut = false;
    const forward = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', forward, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timeout after ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    const raw = new Map<number, string>();
    let events = 0;
    let chars = 0;
    let reported = 0;
    let message: ApiMessage;
    let requestId: string | null = null;
    const report = (outputTokens: number) => {
      reported = outputTokens;
      try {
        onProgress?.({ outputTokens });
      } catch {
        // A listener's failure must not break the stream.
      }
    };
    try {
      const stream = this.#client.messages.stream(
        {
          model: this.model,
          max_tokens: this.maxTokens,
          system: prompt.system,
          messages: prompt.messages,
          tools: [prompt.tool],
          tool_choice: { type: 'tool', name: CHECKPOINT_TOOL_NAME, disable_parallel_tool_use: true },
        },
        {
          signal: controller.signal,
          timeout: this.timeoutMs,
          ...(this.#maxRetries === undefined ? {} : { maxRetries: this.#maxRetries }),
        },
      );
      stream.on('streamEvent', (event: RawMessageStreamEvent) => {
        events++;
        if (event.type === 'content_block_delta') {
          if (event.delta.type === 'input_json_delta') {
            raw.set(event.index, (raw.get(event.index) ?? '') + event.delta.partial_json);
            chars += event.delta.partial_json.length;
          } else if (event.delta.type === 'text_delta') chars += event.delta.text.length;
          // About 4 characters per token until message_delta says how many there were.
          const estimate = Math.ceil(chars / 4);
          if (estimate - reported >= PROGRESS_STEP) report(estimate);
        } else if (event.type === 'message_delta') {
          report(event.usage.output_tokens);
        }
      });
      message = await stream.finalMessage();
      requestId = stream.request_id ?? null;
    } catch (error) {
      throw translateAnthropicError(error, {
        name: this.name,
        model: this.model,
        timeoutMs: this.timeoutMs,
        retries: this.#maxRetries ?? this.#client.maxRetries,
        baseURL: this.#client.baseURL,
        signal,
        timedOut,
        events,
        sdk,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
    this.#recordUsage(message, prompt, requestId);
    const content = message.content.map((block, index) => {
      const json = raw.get(index);
      // Strictly parsed: the SDK's partial parse would make a cut answer look complete.
      return block.type === 'tool_use' && json !== undefined && json !== ''
        ? { type: 'tool_use', id: block.id, name: block.name, input: strictJson(json) }
        : block;
    });
    return { ...message, content } as ApiMessage;
  }

  /** @internal Keeps `lastUsage` and tells `onUsage`. */
  #recordUsage(message: ApiMessage, prompt: CheckpointPrompt, requestId: string | null): void {
    const usage: AnthropicUsage = {
      model: typeof message.model === 'string' ? message.model : this.model,
      inputTokens: message.usage?.input_tokens ?? 0,
      outputTokens: message.usage?.output_tokens ?? 0,
      estimatedInputTokens:
        this.#estimator.estimate(prompt.system) +
        this.#estimator.estimate(prompt.messages[0].content) +
        this.#estimator.estimate(JSON.stringify(prompt.tool)),
      stopReason: message.stop_reason ?? null,
      requestId,
    };
    this.lastUsage = usage;
    try {
      this.#onUsage?.(usage);
    } catch {
      // A listener's failure is not the compaction's.
    }
  }

  #cancelled(cause: unknown): SessionError {
    return anthropicCancelled(this.name, cause);
  }
}

/** @internal The parsed JSON, or the text itself when it is not complete JSON (the parser reports it). */
function strictJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
