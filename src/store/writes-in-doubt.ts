/**
 * @internal What a session directory does after a write whose file went in place but not durably
 * (the rename worked, the directory's fsync failed: {@link inPlaceNotDurable}). The
 * disk then holds the new file and the session's memory the old one: a commit's checkpoint.json
 * says committed while memory says not. A write computed from that memory would be wrong (a retried
 * commit would replace a segment and a checkpoint version a load already shows as committed; a
 * checkpoint write would take the commit back), so every write but an append (chat.log does not
 * depend on what such a write changed) is refused until a load reads the files again.
 */
import path from 'node:path';
import { SessionError } from '../core/errors.js';
import { ioError } from './io-error.js';

/**
 * @internal `details.outcome` of the error of a write whose new file was renamed into place, after
 * which the fsync of its directory failed: see {@link inPlaceNotDurable}.
 */
export const IN_PLACE_NOT_DURABLE = 'in-place-not-durable';

/**
 * @internal The error of a write whose new file is in place (the rename worked) but whose
 * directory's fsync then failed (`fsyncDir`'s error): a read sees the new content now, but a power
 * loss may bring the old one back. Not retryable: the caller's memory of the file is the old one
 * while the disk holds the new one, and a retry as if nothing had been written is not that.
 */
export function inPlaceNotDurable(error: unknown, file: string): SessionError {
  const cause = error instanceof SessionError && error.cause !== undefined ? error.cause : error;
  return ioError(cause, path.dirname(file), 'sync the directory', {
    outcome:
      `${file} is in place with its new content (what a read sees now), but its directory entry is not ` +
      'durable: a power loss may bring the old content back',
    retryable: false,
    details: { outcome: IN_PLACE_NOT_DURABLE, installed: file },
  });
}

/**
 * What ends the doubt: a load of the session, which reads the files again. A runtime's actor keeps
 * the memory it loaded, so a runtime's host reopens it through the runtime, not the store.
 */
const REOPEN =
  'reopen the session: runtime.reopenSession(id) (reopen(id) of the SessionAPI over IPC or HTTP), ' +
  'or a restart of the runtime (with a store alone, load it again)';

/** @internal `details.outcome` of a write refused because an earlier one is in place but not durable. */
export const REFUSED_IN_DOUBT = 'refused-in-doubt';

/**
 * @internal The error of a write refused, nothing written, while an earlier one is in doubt:
 * `earlier` is that write's error ({@link IN_PLACE_NOT_DURABLE}), or a failure that kept its
 * `details` (a runtime's compaction refused before its compactor runs).
 */
export function refusedInDoubt(
  sessionId: string,
  what: string,
  earlier: { details?: Record<string, unknown> },
): SessionError {
  const details = earlier.details ?? {};
  return new SessionError(
    'IO_ERROR',
    'store',
    `session ${sessionId}: ${what} refused, nothing was written: an earlier write put ` +
      `${String(details.installed ?? 'a file')} in place, but its directory's fsync failed, so memory may ` +
      `not be what the files hold. Check the disk, then ${REOPEN}.`,
    { cause: earlier, retryable: false, details: { ...details, sessionId, outcome: REFUSED_IN_DOUBT } },
  );
}

/** @internal The in-doubt state of one session directory (see the module comment). */
export class WritesInDoubt {
  readonly #sessionId: string;
  #error: SessionError | null = null;

  constructor(sessionId: string) {
    this.#sessionId = sessionId;
  }

  /**
   * Runs `write` unless an earlier write is in doubt. A failure after `commitPoint` (the file that
   * makes the write count: checkpoint.json for a commit, session.json for a create) went in place
   * but not durably becomes the session's error saying so, and puts the session in doubt. A file
   * before it (an archive segment, a version's copy) in place but not durable is a leftover the
   * next write replaces: the write failed, nothing was committed.
   * @throws SessionError `IO_ERROR` with `details.outcome` {@link REFUSED_IN_DOUBT} (nothing
   *   written) or {@link IN_PLACE_NOT_DURABLE}; or what `write` throws.
   */
  async run<T>(what: string, commitPoint: string, write: () => Promise<T>): Promise<T> {
    this.assertNone(what);
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof SessionError) || error.details.outcome !== IN_PLACE_NOT_DURABLE) throw error;
      if (error.details.installed !== commitPoint) throw this.#beforeCommitPoint(what, commitPoint, error);
      this.#error = this.#inDoubt(what, error);
      throw this.#error;
    }
  }

  /** @throws SessionError `IO_ERROR` ({@link REFUSED_IN_DOUBT}) while an earlier write is in doubt. */
  assertNone(what: string): void {
    if (this.#error !== null) throw refusedInDoubt(this.#sessionId, what, this.#error);
  }

  /** A load read the files again: what memory holds is what they hold. */
  clear(): void {
    this.#error = null;
  }

  #beforeCommitPoint(what: string, commitPoint: string, error: SessionError): SessionError {
    const errno = typeof error.details.errno === 'string' ? error.details.errno : 'an I/O error';
    return new SessionError(
      'IO_ERROR',
      'store',
      `session ${this.#sessionId}: the ${what} failed, nothing was ${what === 'commit' ? 'committed' : 'written'}: ` +
        `the fsync of the directory of ${String(error.details.installed)} failed (${errno}) before ` +
        `${path.basename(commitPoint)} was written; that file is a leftover the next ${what} replaces. ` +
        'Check the disk and the system log (dmesg), then try again.',
      {
        cause: error,
        retryable: true,
        details: { ...error.details, outcome: 'not-written', sessionId: this.#sessionId },
      },
    );
  }

  #inDoubt(what: string, error: SessionError): SessionError {
    const installed = String(error.details.installed ?? 'the file');
    const errno = typeof error.details.errno === 'string' ? error.details.errno : 'an I/O error';
    const shows = what === 'commit' ? 'a load shows it committed' : 'a load reads it';
    const before = what === 'commit' ? ' (back to the session before it, every message still there)' : '';
    return new SessionError(
      'IO_ERROR',
      'store',
      `session ${this.#sessionId}: the ${what} is in the files: ${installed} is in place and ${shows}; ` +
        `but the fsync of its directory failed (${errno}), so a power loss may undo it${before}. Until the ` +
        `session is loaded again it takes appends only: check the disk and the system log (dmesg), then ${REOPEN}.`,
      { cause: error, retryable: false, details: { ...error.details, sessionId: this.#sessionId } },
    );
  }
}
