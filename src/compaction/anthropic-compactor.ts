/**
 * The compactor that asks a Claude model, through `@anthropic-ai/sdk`: a streamed Messages API
 * call forcing the `record_checkpoint` tool, validated against the checkpoint schema. The SDK
 * retries 408, 409, 429, 5xx and 529 with backoff; whatever still fails is translated here, at
 * the edge, into a `SessionError` whose code says what the session should do.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ClientOptions } from '@anthropic-ai/sdk';
import type { Message as ApiMessage, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { loadAnthropicSdk, type AnthropicSdk } from './anthropic-sdk.js';
import { isTransientStatus, isTransientStreamError } from '../core/api-failure.js';
import { SessionError, describeError } from '../core/errors.js';
import type { CheckpointSummary } from '../core/types.js';
import { createTokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';
import { buildCheckpointPrompt, type CheckpointPrompt } from './checkpoint-prompt.js';
import { CHECKPOINT_TOOL_NAME } from './checkpoint-schema.js';
import type { CompactOptions, CompactionInput, Compactor } from './compactor.js';
import { emptyLedger } from './ledger/ledger-builder.js';
import { fitCheckpoint } from './ledger/fit-checkpoint.js';
import { parseCheckpointResponse } from './parse-checkpoint.js';

/** The model used when none is given: a current Sonnet, not marked deprecated by SDK 1.13. */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';

/**
 * Options of {@link AnthropicCompactor}.
 *
 * @example
 * ```ts
 * new AnthropicCompactor({ model: 'claude-haiku-5-5', maxTokens: 4_096, timeoutMs: 60_000 });
 * ```
 */
export interface AnthropicCompactorOptions {
  /** A ready client; then `apiKey`, `baseURL` and `clientOptions` must not be given. */
  client?: Anthropic;
  /** Default: `ANTHROPIC_API_KEY` (or, failing that, `ANTHROPIC_AUTH_TOKEN` as a bearer token). */
  apiKey?: string;
  /** Default: `ANTHROPIC_BASE_URL`, else the SDK's (https://api.anthropic.com). */
  baseURL?: string;
  /** Model id. Default {@link DEFAULT_ANTHROPIC_MODEL}. */
  model?: string;
  /** Output tokens of one answer (`max_tokens`). Default 4,096. */
  maxTokens?: number;
  /**
   * Whole-call deadline in ms (retries and streaming included), also the SDK's per-attempt timeout.
   * Default 120,000.
   */
  timeoutMs?: number;
  /**
   * SDK retries of 408/409/429/5xx/529 and connection errors, with backoff and `retry-after`. Default:
   * the client's (2).
   */
  maxRetries?: number;
  /**
   * Largest request this compactor sends, in input tokens as the API counts them. Default 150,000.
   * The fold sees less (the `maxInputTokens` property): 20% less for the difference between the
   * local tokenizer and the model's, and 1,000 tokens less for the prompt's own text.
   */
  maxInputTokens?: number;
  /**
   * Measures summaries against their budget and the request for `lastUsage`. Pass the runtime's.
   * Default `createTokenEstimator()`.
   */
  estimator?: TokenEstimator;
  /** More options of the client it makes (`logLevel`, `fetch`, `defaultHeaders`...). */
  clientOptions?: Omit<ClientOptions, 'apiKey' | 'authToken' | 'baseURL'>;
  /** Where keys and the base URL are read from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Called with the usage of every answer received (well-formed or not). */
  onUsage?: (usage: AnthropicUsage) => void;
}

/** What an answer cost, and what the local estimator thought the request would: for calibration. */
export interface AnthropicUsage {
  /** The model that answered, as the API reports it. */
  model: string;
  /** `usage.input_tokens`: the model's own count of the request. */
  inputTokens: number;
  outputTokens: number;
  /** The estimator's count of the same request (system + user message + tool schema). */
  estimatedInputTokens: number;
  stopReason: string | null;
  requestId: string | null;
}

/** Output tokens between two progress reports while streaming. */
const PROGRESS_STEP = 32;

/**
 * Whether an Anthropic key is configured: `ANTHROPIC_API_KEY` or `ANTHROPIC_AUTH_TOKEN` is set
 * and not blank. The runtime uses it to choose its default compactor.
 *
 * @param env - The environment to look in. Default `process.env`.
 * @returns true when an {@link AnthropicCompactor} can be made without a key or client.
 * @example
 * ```ts
 * const compactor = hasAnthropicApiKey() ? new AnthropicCompactor() : new OfflineCompactor();
 * ```
 */
export function hasAnthropicApiKey(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return nonBlank(env.ANTHROPIC_API_KEY) !== undefined || nonBlank(env.ANTHROPIC_AUTH_TOKEN) !== undefined;
}

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
  readonly #clientOptions: ClientOptions | null = null;
  readonly #maxRetries: number | undefined;
  readonly #estimator: TokenEstimator;
  readonly #onUsage: ((usage: AnthropicUsage) => void) | undefined;

  /**
   * @param options - Client or key, model, limits; see {@link AnthropicCompactorOptions}.
   * @throws SessionError `INVALID_ARGUMENT` when there is no client, no `apiKey` and no key in the
   *   environment (set ANTHROPIC_API_KEY), when `client` is combined with `apiKey`/`baseURL`, or
   *   when a number is out of range.
   */
  constructor(options: AnthropicCompactorOptions = {}) {
    const invalid = (what: string) =>
      new SessionError('INVALID_ARGUMENT', 'compaction', `AnthropicCompactor: ${what}`);
    this.model = options.model ?? DEFAULT_ANTHROPIC_MODEL;
    if (typeof this.model !== 'string' || this.model.trim() === '')
      throw invalid('model must be a non-empty model id');
    this.maxTokens = positiveInteger(options.maxTokens ?? 4_096, 'maxTokens', invalid);
    this.timeoutMs = positiveInteger(options.timeoutMs ?? 120_000, 'timeoutMs', invalid);
    const maxInput = positiveInteger(options.maxInputTokens ?? 150_000, 'maxInputTokens', invalid);
    if (maxInput < 2_000) throw invalid(`maxInputTokens must be at least 2000, got ${maxInput}`);
    this.maxInputTokens = Math.floor(maxInput * 0.8) - 1_000;
    if (
      options.maxRetries !== undefined &&
      !(Number.isInteger(options.maxRetries) && options.maxRetries >= 0)
    ) {
      throw invalid(`maxRetries must be an integer >= 0, got ${String(options.maxRetries)}`);
    }
    this.#maxRetries = options.maxRetries;
    this.name = `anthropic:${this.model}`;
    this.#estimator = options.estimator ?? createTokenEstimator();
    this.#onUsage = options.onUsage;
    if (options.client !== undefined) {
      if (
        options.apiKey !== undefined ||
        options.baseURL !== undefined ||
        options.clientOptions !== undefined
      ) {
        throw invalid('pass either { client } or { apiKey, baseURL, clientOptions }, not both');
      }
      this.#madeClient = options.client;
      return;
    }
    const env = options.env ?? process.env;
    const apiKey = nonBlank(options.apiKey) ?? nonBlank(env.ANTHROPIC_API_KEY);
    const authToken = apiKey === undefined ? nonBlank(env.ANTHROPIC_AUTH_TOKEN) : undefined;
    if (apiKey === undefined && authToken === undefined) {
      throw invalid(
        'no API key: set ANTHROPIC_API_KEY, or pass { apiKey } or { client }; without a key, use the OfflineCompactor',
      );
    }
    const baseURL = options.baseURL ?? nonBlank(env.ANTHROPIC_BASE_URL);
    this.#clientOptions = {
      ...options.clientOptions,
      apiKey: apiKey ?? null,
      authToken: authToken ?? null,
      ...(baseURL === undefined ? {} : { baseURL }),
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
      timeout: this.timeoutMs,
    };
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
      throw this.#translate(error, { signal, timedOut, events, sdk });
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
    return new SessionError(
      'COMPACTION_CANCELLED',
      'compaction',
      `${this.name}: the compaction was cancelled; its request was aborted and nothing changed`,
      { cause, retryable: true },
    );
  }

  /** @internal A foreign error as the SessionError that says what to do about it. */
  #translate(
    error: unknown,
    context: { signal: AbortSignal | undefined; timedOut: boolean; events: number; sdk: AnthropicSdk },
  ): SessionError {
    if (error instanceof SessionError) return error;
    const { AnthropicError, APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } =
      context.sdk;
    const retries = this.#maxRetries ?? this.#client.maxRetries;
    const retried = retries === 1 ? 'the SDK retried once' : `the SDK retried ${retries} times`;
    const make = (
      code: 'COMPACTOR_UNAVAILABLE' | 'COMPACTOR_TIMEOUT' | 'COMPACTOR_FAILED' | 'COMPACTOR_MALFORMED',
      message: string,
      retryable: boolean,
      details: Record<string, unknown> = {},
    ) =>
      new SessionError(code, 'compaction', `${this.name}: ${message}`, {
        cause: error,
        retryable,
        details: { baseURL: this.#client.baseURL, ...details },
      });
    if (context.timedOut) {
      return make(
        'COMPACTOR_TIMEOUT',
        `no complete answer within ${this.timeoutMs} ms (timeoutMs); the request was cancelled and nothing changed`,
        true,
      );
    }
    if (context.signal?.aborted === true || error instanceof APIUserAbortError)
      return this.#cancelled(context.signal?.reason ?? error);
    if (error instanceof APIConnectionTimeoutError) {
      return make(
        'COMPACTOR_TIMEOUT',
        `the API did not answer within ${this.timeoutMs} ms (timeoutMs); ${retried}`,
        true,
      );
    }
    if (error instanceof APIConnectionError) {
      return make(
        'COMPACTOR_UNAVAILABLE',
        `could not reach ${this.#client.baseURL} (${describeError(error.cause ?? error)}); ${retried}`,
        true,
      );
    }
    if (error instanceof APIError) {
      const status = error.status;
      const type = error.type ?? 'error';
      const said = error.apiMessage ?? error.message;
      const details = { status: status ?? null, type, requestId: error.requestID ?? null };
      if (status === undefined) {
        // An `error` event inside a stream that had started: the API's own failure.
        const transient = isTransientStreamError(type);
        return make(
          transient ? 'COMPACTOR_UNAVAILABLE' : 'COMPACTOR_FAILED',
          `the answer stream reported ${type} (${said}) after ${context.events} events`,
          transient,
          details,
        );
      }
      if (isTransientStatus(status)) {
        return make(
          'COMPACTOR_UNAVAILABLE',
          `the API answered ${status} ${type} (${said}); ${retried} with backoff; the session retries later`,
          true,
          details,
        );
      }
      const advice =
        status === 401 || status === 403
          ? 'check the API key (ANTHROPIC_API_KEY or the apiKey option) and its permissions'
          : status === 404
            ? `check the model id "${this.model}" and the base URL`
            : status === 413
              ? 'the request is too large; lower maxInputTokens'
              : `check the model id "${this.model}", the API key and the request`;
      return make(
        'COMPACTOR_FAILED',
        `the API refused the request: ${status} ${type} (${said}); ${advice}`,
        false,
        details,
      );
    }
    if (isSyntaxError(error) || isSyntaxError((error as { cause?: unknown } | null)?.cause)) {
      return make(
        'COMPACTOR_MALFORMED',
        `the API's answer is not valid JSON (${describeError(error)})`,
        true,
      );
    }
    if (error instanceof AnthropicError || error instanceof TypeError) {
      return make(
        'COMPACTOR_UNAVAILABLE',
        `the answer stream was cut after ${context.events} events (${describeError(error)}); the session retries later`,
        true,
      );
    }
    return make('COMPACTOR_FAILED', `unexpected error: ${describeError(error)}`, false);
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

function isSyntaxError(value: unknown): boolean {
  return value instanceof SyntaxError;
}

function nonBlank(value: string | undefined): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function positiveInteger(value: unknown, name: string, invalid: (what: string) => SessionError): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw invalid(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}
