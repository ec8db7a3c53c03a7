/**
 * The one error class of dagent-sessions, with a stable `code` for programs and a message that
 * says where it comes from, what was wrong and what to do.
 */

/**
 * Every code a {@link SessionError} can carry, as a list that programs can check a value against.
 * @example SESSION_ERROR_CODES.includes('IO_ERROR') // true
 */
export const SESSION_ERROR_CODES = [
  'INVALID_KEY',
  'INVALID_ARGUMENT',
  'INVALID_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'IDEMPOTENCY_CONFLICT',
  'SESSION_NOT_FOUND',
  'SESSION_UNAVAILABLE',
  'SESSION_ARCHIVED',
  'ROOT_LOCKED',
  'CORRUPT_FILE',
  'IO_ERROR',
  'COMPACTOR_FAILED',
  'COMPACTOR_UNAVAILABLE',
  'COMPACTOR_TIMEOUT',
  'COMPACTOR_MALFORMED',
  'COMPACTION_CANCELLED',
  'COMPACTION_NO_PROGRESS',
  'REQUEST_TOO_LARGE',
  'MODEL_UNAVAILABLE',
  'MODEL_FAILED',
  'MODEL_CANCELLED',
  'RUNTIME_CLOSED',
] as const;

/** Every code a {@link SessionError} can carry. */
export type SessionErrorCode = (typeof SESSION_ERROR_CODES)[number];

/**
 * Whether `value` is one of the {@link SESSION_ERROR_CODES}.
 * @example isSessionErrorCode('EIO') // false: an errno, not a code of ours
 */
export function isSessionErrorCode(value: unknown): value is SessionErrorCode {
  return typeof value === 'string' && (SESSION_ERROR_CODES as readonly string[]).includes(value);
}

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

/** @internal Whether a code is a Node errno (`EIO`, `ENOSPC`...), not one of ours. */
export function isErrnoCode(code: unknown): code is string {
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && !isSessionErrorCode(code);
}

/**
 * @internal The errno facts of a Node system error (`EIO`, `ENOSPC`, `EFBIG`, `EISDIR`...), or
 * null for anything else: what `IO_ERROR` carries in its `details`.
 */
export function errnoDetails(error: unknown): { errno: string; syscall?: string; path?: string } | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as { code?: unknown; syscall?: unknown; path?: unknown; errno?: unknown };
  if (!isErrnoCode(e.code)) return null;
  if (typeof e.syscall !== 'string' && typeof e.errno !== 'number') return null;
  return {
    errno: e.code,
    ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(typeof e.path === 'string' ? { path: e.path } : {}),
  };
}

/**
 * @internal A Node system error as `IO_ERROR` (the errno, syscall and path in `details`); any
 * other value unchanged. Errors are translated where they leave the library: runtime calls and
 * transports.
 * @example throw asIoError(error, 'runtime', 'session feature--f1--pm')
 */
export function asIoError(error: unknown, origin: ErrorOrigin, where: string): unknown {
  if (error instanceof SessionError) return error;
  const errno = errnoDetails(error);
  if (errno === null) return error;
  return new SessionError(
    'IO_ERROR',
    origin,
    `${where}: ${describeError(error)}; ${adviceFor(errno.errno)}`,
    {
      cause: error,
      retryable: TRANSIENT_ERRNOS.has(errno.errno),
      details: { ...errno },
    },
  );
}

/** Errnos after which the same call may succeed later without anyone changing a file. */
const TRANSIENT_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'EINTR']);

function adviceFor(errno: string): string {
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return 'free disk space, then try again';
  if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS')
    return 'check the permissions of the root and its files';
  if (errno === 'EFBIG') return 'a file passed the size limit (ulimit -f or the file system)';
  if (errno === 'EISDIR' || errno === 'ENOTDIR')
    return 'a directory stands where a file should be (or the reverse): move it out of the way';
  return `the file system refused (${errno}); check the disk, then try again`;
}
