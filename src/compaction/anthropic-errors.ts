/**
 * @internal The edge where the Anthropic SDK's failures become `SessionError`s: each error class
 * and status the SDK can raise (after its own retries) maps to the code that tells the session
 * what to do, retry later, give up, or report a cancel; a conversation turn's failures too.
 */
import type { AnthropicSdk } from './anthropic-sdk.js';
import { isTransientStatus, isTransientStreamError } from '../core/api-failure.js';
import { SessionError, describeError } from '../core/errors.js';

/** @internal What the translation needs to know about the compactor and the failed call. */
export interface AnthropicFailureContext {
  /** The compactor's name (`anthropic:<model>`), the messages' prefix. */
  name: string;
  model: string;
  timeoutMs: number;
  /** Retries the SDK made before giving up. */
  retries: number;
  baseURL: string;
  signal: AbortSignal | undefined;
  /** Whether the compactor's own whole-call deadline fired. */
  timedOut: boolean;
  /** Stream events received before the failure. */
  events: number;
  sdk: AnthropicSdk;
}

/**
 * @internal The `COMPACTION_CANCELLED` error of a compactor whose signal was aborted.
 * @example throw anthropicCancelled('anthropic:claude-sonnet-5-5', signal.reason);
 */
export function anthropicCancelled(name: string, cause: unknown): SessionError {
  return new SessionError(
    'COMPACTION_CANCELLED',
    'compaction',
    `${name}: the compaction was cancelled; its request was aborted and nothing changed`,
    { cause, retryable: true },
  );
}

/**
 * @internal A foreign error as the SessionError that says what to do about it; a SessionError
 * passes through unchanged.
 * @example throw translateAnthropicError(error, { name, model, timeoutMs, retries, baseURL, ... });
 */
export function translateAnthropicError(error: unknown, context: AnthropicFailureContext): SessionError {
  if (error instanceof SessionError) return error;
  const { AnthropicError, APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } =
    context.sdk;
  const { name, model, timeoutMs, retries, baseURL } = context;
  const retried = retries === 1 ? 'the SDK retried once' : `the SDK retried ${retries} times`;
  const make = (
    code: 'COMPACTOR_UNAVAILABLE' | 'COMPACTOR_TIMEOUT' | 'COMPACTOR_FAILED' | 'COMPACTOR_MALFORMED',
    message: string,
    retryable: boolean,
    details: Record<string, unknown> = {},
  ) =>
    new SessionError(code, 'compaction', `${name}: ${message}`, {
      cause: error,
      retryable,
      details: { baseURL, ...details },
    });
  if (context.timedOut) {
    return make(
      'COMPACTOR_TIMEOUT',
      `no complete answer within ${timeoutMs} ms (timeoutMs); the request was cancelled and nothing changed`,
      true,
    );
  }
  if (context.signal?.aborted === true || error instanceof APIUserAbortError)
    return anthropicCancelled(name, context.signal?.reason ?? error);
  if (error instanceof APIConnectionTimeoutError) {
    return make(
      'COMPACTOR_TIMEOUT',
      `the API did not answer within ${timeoutMs} ms (timeoutMs); ${retried}`,
      true,
    );
  }
  if (error instanceof APIConnectionError) {
    return make(
      'COMPACTOR_UNAVAILABLE',
      `could not reach ${baseURL} (${describeError(error.cause ?? error)}); ${retried}`,
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
          ? `check the model id "${model}" and the base URL`
          : status === 413
            ? 'the request is too large; lower maxInputTokens'
            : `check the model id "${model}", the API key and the request`;
    return make(
      'COMPACTOR_FAILED',
      `the API refused the request: ${status} ${type} (${said}); ${advice}`,
      false,
      details,
    );
  }
  if (isSyntaxError(error) || isSyntaxError((error as { cause?: unknown } | null)?.cause)) {
    return make('COMPACTOR_MALFORMED', `the API's answer is not valid JSON (${describeError(error)})`, true);
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

/**
 * @internal An SDK error of a conversation turn (`send`), as a SessionError: the same transient
 * rule as a compaction's ({@link isTransientStatus}), with the turn's codes, `MODEL_CANCELLED`,
 * `MODEL_UNAVAILABLE` (retryable) and `MODEL_FAILED`. It reads the error's name, not its class, so
 * a host's own copy of the SDK is understood too.
 * @example throw translateTurnError(error, sessionId);
 */
export function translateTurnError(error: unknown, id: string): SessionError {
  if (error instanceof SessionError) return error;
  const e = error as { status?: unknown; name?: unknown };
  const status = typeof e.status === 'number' ? e.status : null;
  if (e.name === 'APIUserAbortError')
    return new SessionError('MODEL_CANCELLED', 'runtime', `session ${id}: the model call was cancelled`, {
      cause: error,
    });
  if (
    (status !== null && isTransientStatus(status)) ||
    e.name === 'APIConnectionError' ||
    e.name === 'APIConnectionTimeoutError'
  ) {
    return new SessionError(
      'MODEL_UNAVAILABLE',
      'runtime',
      `session ${id}: the model is unavailable (${status ?? describeError(error)}) ` +
        `after the SDK's retries; the user message is kept, try again later`,
      { cause: error, retryable: true },
    );
  }
  return new SessionError(
    'MODEL_FAILED',
    'runtime',
    `session ${id}: the model call failed (${describeError(error)}); check the API key, the model name and the request`,
    { cause: error },
  );
}

function isSyntaxError(value: unknown): boolean {
  return value instanceof SyntaxError;
}
