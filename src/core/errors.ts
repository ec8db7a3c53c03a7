/**
 * The one error class of dagent-sessions, with a stable `code` for programs and a message that
 * says where it comes from, what was wrong and what to do.
 */

/** Every code a {@link SessionError} can carry. */
export type SessionErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'INVALID_MESSAGE'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_UNAVAILABLE'
  | 'SESSION_ARCHIVED'
  | 'ROOT_LOCKED'
  | 'CORRUPT_FILE'
  | 'IO_ERROR'
  | 'COMPACTOR_FAILED'
  | 'COMPACTOR_UNAVAILABLE'
  | 'COMPACTOR_TIMEOUT'
  | 'COMPACTOR_MALFORMED'
  | 'COMPACTION_CANCELLED'
  | 'COMPACTION_NO_PROGRESS'
  | 'REQUEST_TOO_LARGE'
  | 'MODEL_UNAVAILABLE'
  | 'MODEL_FAILED'
  | 'MODEL_CANCELLED'
  | 'RUNTIME_CLOSED';

/** Where an error comes from; the message is prefixed with it: `[dagent-sessions] [store] ...`. */
export type ErrorOrigin = 'runtime' | 'store' | 'lock' | 'session' | 'compaction' | 'tokens' | 'ids' | 'cli';

/** Options of a {@link SessionError}. */
export interface SessionErrorOptions {
  cause?: unknown;
  /** Whether trying the same thing again later may succeed. */
  retryable?: boolean;
  /** Structured facts (file, session id, holder...) for programs and the inspector. */
  details?: Record<string, unknown>;
}

/**
 * Misuse and unrecoverable faults. Expected outcomes are values, not exceptions.
 *
 * @example
 * ```ts
 * try { await runtime.addMessage(id, msg) } catch (e) {
 *   if (e instanceof SessionError && e.code === 'SESSION_NOT_FOUND') { ... }
 * }
 * ```
 */
export class SessionError extends Error {
  override readonly name = 'SessionError';
  readonly code: SessionErrorCode;
  readonly origin: ErrorOrigin;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(
    code: SessionErrorCode,
    origin: ErrorOrigin,
    message: string,
    options: SessionErrorOptions = {},
  ) {
    super(
      `[dagent-sessions] [${origin}] ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.origin = origin;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }

  /** A plain object that crosses process and transport boundaries. */
  toJSON(): {
    name: string;
    code: SessionErrorCode;
    message: string;
    retryable: boolean;
    details: Record<string, unknown>;
  } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      details: this.details,
    };
  }
}

/** Whether `value` is a {@link SessionError}, optionally with the given code. */
export function isSessionError(value: unknown, code?: SessionErrorCode): value is SessionError {
  return value instanceof SessionError && (code === undefined || value.code === code);
}

/** @internal A short description of any thrown value, for messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
