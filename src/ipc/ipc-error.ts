/**
 * How an error crosses a transport: the codes it can carry, the plain-data envelope every handler
 * answers with, and the error class the {@link SessionAPI} clients throw for an `{ ok: false }`.
 */
import type { SessionErrorCode } from '../core/errors.js';

/**
 * Codes a transport adds to the runtime's: a missing or wrong token (`UNAUTHORIZED`), an unknown
 * path or channel (`NOT_FOUND`), a wrong HTTP method, a body too large or not a JSON array
 * (`BAD_REQUEST`), a server that cannot be reached (`CONNECTION_FAILED`).
 * @example const code: TransportErrorCode = 'UNAUTHORIZED';
 */
export type TransportErrorCode =
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'BAD_REQUEST'
  | 'CONNECTION_FAILED';

/**
 * Every code an error crossing a transport can carry: a {@link SessionErrorCode}, `INTERNAL_ERROR`
 * for anything that is not a `SessionError` (a bug: please report it), or a transport's own code.
 * @example if (error.code === 'SESSION_NOT_FOUND') await api.create(key);
 */
export type IpcErrorCode = SessionErrorCode | 'INTERNAL_ERROR' | TransportErrorCode;

/**
 * An error as it crosses a transport: plain data, never a class instance.
 * @example
 * const e: IpcError = { code: 'INVALID_KEY', message: '[dagent-sessions] [ids] featureId ...', retryable: false };
 */
export interface IpcError {
  code: IpcErrorCode;
  /** What was wrong and what to do, prefixed with where it comes from. */
  message: string;
  /** Whether the same call may succeed later. */
  retryable: boolean;
  /** Structured facts of the error, when it has some (`IO_ERROR`: `errno`, `syscall`, `path`). */
  details?: Record<string, unknown>;
}

/**
 * What every handler answers: the value, or the error. Handlers never throw.
 * @example
 * ```ts
 * const result = (await ipcRenderer.invoke('session:get', id)) as IpcResult<SessionInfo>;
 * if (!result.ok) console.error(result.error.code, result.error.message);
 * ```
 */
export type IpcResult<T = unknown> = { ok: true; value: T } | { ok: false; error: IpcError };

/**
 * The error the {@link SessionAPI} implementations throw for an `{ ok: false }` answer. The
 * message starts with the code (`SESSION_NOT_FOUND: [dagent-sessions] ...`) because Electron's
 * `contextBridge` keeps only the message of an error it copies to the page; read the code with
 * {@link ipcErrorCodeOf}, which works on both sides of the bridge.
 *
 * @example
 * ```ts
 * try { await api.get('feature--f1--pm') } catch (e) { if (ipcErrorCodeOf(e) === 'SESSION_NOT_FOUND') ... }
 * ```
 */
export class SessionIpcError extends Error {
  override readonly name = 'SessionIpcError';
  readonly code: IpcErrorCode;
  readonly retryable: boolean;
  /** The error's structured facts (`{}` when it has none). */
  readonly details: Record<string, unknown>;

  constructor(error: IpcError, options?: { cause?: unknown }) {
    super(`${error.code}: ${error.message}`, options);
    this.code = error.code;
    this.retryable = error.retryable;
    this.details = error.details ?? {};
  }
}

/**
 * The code of an error thrown by a {@link SessionAPI} method: its `code` property, or the code at
 * the start of its message (after a trip through `contextBridge`); `null` for other errors.
 * @example
 * ipcErrorCodeOf(new SessionIpcError({ code: 'SESSION_NOT_FOUND', message: 'x', retryable: false }));
 * // 'SESSION_NOT_FOUND'
 */
export function ipcErrorCodeOf(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const message = (error as { message?: unknown }).message;
  const match = typeof message === 'string' ? /^([A-Z][A-Z_]+): /.exec(message) : null;
  return match?.[1] ?? null;
}
