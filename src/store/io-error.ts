/**
 * @internal Where the store's system errors become `SessionError`s: a raw `ENOSPC` or `EIO` never
 * leaves the store. The errno and the file go into `details`, and the message says what to do.
 */
import { SessionError } from '../core/errors.js';

/** What a person can do about each errno the store may meet. */
const ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full: free space on it, then try again',
  EDQUOT: 'the disk quota is used up: free space or raise the quota, then try again',
  EFBIG:
    'the file reached a size limit (the process limit `ulimit -f`, or the largest file of the filesystem): ' +
    'raise the limit, then try again',
  EIO: 'the disk reported an I/O error: check the disk and the system log (dmesg) before trusting it again',
  EROFS: 'the filesystem is mounted read-only: remount it read-write, then try again',
  EACCES: 'permission denied: check the owner and mode of the file and of its directory',
  EPERM: 'operation not permitted: check the owner and mode of the file and of its directory',
  EISDIR: 'a directory is where a file should be: move the directory out of the way',
  ENOTDIR: 'a file is where a directory should be: move the file out of the way',
  EMFILE: 'the process has too many open files: close some, or raise the limit (`ulimit -n`)',
  ENFILE: 'the system has too many open files: close some, then try again',
  ENOMEM: 'the system is out of memory: free some, then try again',
};

/** Errnos after which the same call may succeed later without anyone repairing anything. */
const TRANSIENT = new Set([
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EAGAIN',
  'EBUSY',
  'EINTR',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'ETIMEDOUT',
]);

/** @internal The errno code of a Node.js system error, or undefined. */
export function errnoOf(error: unknown): string | undefined {
  const code =
    typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Options of {@link ioError}. */
export interface IoErrorOptions {
  /** What happened to the data, said after the cause: `nothing was acknowledged`. */
  outcome?: string;
  /** Overrides the default (true for transient errnos such as ENOSPC and EIO). */
  retryable?: boolean;
  /** More facts for `details`. */
  details?: Record<string, unknown>;
}

/**
 * @internal Translates an error of a filesystem call into `IO_ERROR`, with `details.errno` and
 * `details.file`. A `SessionError` passes through unchanged.
 *
 * @example
 * ```ts
 * try { await handle.datasync() } catch (e) { throw ioError(e, file, 'sync', { outcome: 'nothing was acknowledged' }) }
 * ```
 */
export function ioError(
  error: unknown,
  file: string,
  action: string,
  options: IoErrorOptions = {},
): SessionError {
  if (error instanceof SessionError) return error;
  const errno = errnoOf(error);
  const advice = (errno && ADVICE[errno]) ?? 'check the file and its disk, then try again';
  const what = errno ?? (error instanceof Error ? error.message : String(error));
  const outcome = options.outcome ? `; ${options.outcome}` : '';
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  return new SessionError('IO_ERROR', 'store', `cannot ${action} ${file} (${what})${outcome}; ${advice}`, {
    cause: error,
    retryable: options.retryable ?? (errno !== undefined && TRANSIENT.has(errno)),
    details: {
      ...options.details,
      file,
      errno: errno ?? null,
      // The system call that failed, as asIoError reports it for errors that reach a transport raw.
      ...(typeof syscall === 'string' ? { syscall } : {}),
    },
  });
}
