/**
 * The options of `AnthropicCompactor`: what a caller may pass, what the answer's usage
 * reports, and the one place the options are checked and turned into the client's settings.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ClientOptions } from '@anthropic-ai/sdk';
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';

/** The model used when none is given: a current Sonnet, not marked deprecated by SDK 1.13. */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';

/**
 * Options of `AnthropicCompactor`. A name that is none of these is refused with `INVALID_ARGUMENT`
 * naming it (a misspelt `modle` is not taken as the default model).
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

/**
 * Whether an Anthropic key is configured: `ANTHROPIC_API_KEY` or `ANTHROPIC_AUTH_TOKEN` is set
 * and not blank. The runtime uses it to choose its default compactor.
 *
 * @param env - The environment to look in. Default `process.env`.
 * @returns true when an `AnthropicCompactor` can be made without a key or client.
 * @example
 * ```ts
 * const compactor = hasAnthropicApiKey() ? new AnthropicCompactor() : new OfflineCompactor();
 * ```
 */
export function hasAnthropicApiKey(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return nonBlank(env.ANTHROPIC_API_KEY) !== undefined || nonBlank(env.ANTHROPIC_AUTH_TOKEN) !== undefined;
}

/** Every option of `AnthropicCompactor` (the compiler keeps this in step with the type). */
const OPTION_NAMES = optionNames({
  client: true,
  apiKey: true,
  baseURL: true,
  model: true,
  maxTokens: true,
  timeoutMs: true,
  maxRetries: true,
  maxInputTokens: true,
  estimator: true,
  clientOptions: true,
  env: true,
  onUsage: true,
} satisfies Record<keyof AnthropicCompactorOptions, true>);

/**
 * @internal {@link AnthropicCompactorOptions} checked, with their defaults: either a ready
 * `client` or the `clientOptions` to make one with.
 */
export interface ResolvedAnthropicOptions {
  model: string;
  maxTokens: number;
  timeoutMs: number;
  /** What the fold may send: the option less 20% and the prompt's 1,000 tokens. */
  maxInputTokens: number;
  maxRetries: number | undefined;
  client: Anthropic | null;
  clientOptions: ClientOptions | null;
}

/**
 * @internal Checks the options of an `AnthropicCompactor` and fills in their defaults.
 * @throws SessionError `INVALID_ARGUMENT` when there is no client, no `apiKey` and no key in the
 *   environment, when `client` is combined with `apiKey`/`baseURL`, when a number is out of range, or
 *   when a name is none of the options.
 * @example const { model, clientOptions } = resolveAnthropicOptions({ apiKey: 'sk-...' });
 */
export function resolveAnthropicOptions(options: AnthropicCompactorOptions): ResolvedAnthropicOptions {
  const invalid = (what: string) =>
    new SessionError('INVALID_ARGUMENT', 'compaction', `AnthropicCompactor: ${what}`);
  // A misspelt `modle` would otherwise send every compaction to the default model.
  checkOptionNames(options, OPTION_NAMES, invalid);
  const model = options.model ?? DEFAULT_ANTHROPIC_MODEL;
  if (typeof model !== 'string' || model.trim() === '') throw invalid('model must be a non-empty model id');
  const maxTokens = positiveInteger(options.maxTokens ?? 4_096, 'maxTokens', invalid);
  const timeoutMs = positiveInteger(options.timeoutMs ?? 120_000, 'timeoutMs', invalid);
  const maxInput = positiveInteger(options.maxInputTokens ?? 150_000, 'maxInputTokens', invalid);
  if (maxInput < 2_000) throw invalid(`maxInputTokens must be at least 2000, got ${maxInput}`);
  const maxInputTokens = Math.floor(maxInput * 0.8) - 1_000;
  if (
    options.maxRetries !== undefined &&
    !(Number.isInteger(options.maxRetries) && options.maxRetries >= 0)
  ) {
    throw invalid(`maxRetries must be an integer >= 0, got ${String(options.maxRetries)}`);
  }
  const maxRetries = options.maxRetries;
  const settings = { model, maxTokens, timeoutMs, maxInputTokens, maxRetries };
  if (options.client !== undefined) {
    if (
      options.apiKey !== undefined ||
      options.baseURL !== undefined ||
      options.clientOptions !== undefined
    ) {
      throw invalid('pass either { client } or { apiKey, baseURL, clientOptions }, not both');
    }
    return { ...settings, client: options.client, clientOptions: null };
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
  const clientOptions: ClientOptions = {
    ...options.clientOptions,
    apiKey: apiKey ?? null,
    authToken: authToken ?? null,
    ...(baseURL === undefined ? {} : { baseURL }),
    ...(maxRetries === undefined ? {} : { maxRetries }),
    timeout: timeoutMs,
  };
  return { ...settings, client: null, clientOptions };
}

function nonBlank(value: string | undefined): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function positiveInteger(value: unknown, name: string, invalid: (what: string) => SessionError): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw invalid(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}
