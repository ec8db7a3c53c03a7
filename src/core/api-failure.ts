/**
 * What a failed Anthropic API call means, in one place for the conversation turn and the
 * compactor: which answers are worth trying again later (the ones the SDK itself retries with
 * backoff), and which are a refusal that retrying will not change.
 */

/**
 * Whether an HTTP status from the API is transient: 408 (request timeout), 409 (conflict), 429
 * (rate limited), 5xx and 529 (overloaded). The SDK retries exactly these; once its retries are
 * spent the caller should try again later, and nothing about the request needs changing.
 *
 * @param status - the HTTP status of the API's answer.
 * @returns true for a status worth retrying later.
 * @example isTransientStatus(529) // true; isTransientStatus(401) // false
 */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Whether an `error` event inside an answer stream that had started is transient, by its type
 * (`overloaded_error`, `api_error`, `rate_limit_error`, or a bare `error`).
 *
 * @param type - the `error.type` of the event.
 * @returns true when trying again later may succeed.
 * @example isTransientStreamError('overloaded_error') // true
 */
export function isTransientStreamError(type: string): boolean {
  return TRANSIENT_STREAM_ERRORS.has(type);
}

const TRANSIENT_STREAM_ERRORS = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'error']);
