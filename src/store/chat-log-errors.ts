/**
 * @internal What chat.log's errors say: an append that failed (and was cut back, or could not be),
 * appends refused after an unknown outcome, and a damaged log with how to keep its good records.
 */
import { SessionError } from '../core/errors.js';
import type { Replay } from './chat-log-format.js';
import { corruptFileError, setAside } from './corrupt.js';
import { errnoOf, ioError } from './io-error.js';

/** @internal `details` of an append error that wrote nothing: retrying is safe. */
export const NOT_WRITTEN = { outcome: 'nothing was acknowledged', details: { outcome: 'not-written' } };

/** @internal An append failed and the log was cut back to where it started. */
export function appendFailed(cause: unknown, logFile: string): SessionError {
  return ioError(cause, logFile, 'append to', {
    outcome: 'nothing was acknowledged, and the log was cut back to its last acknowledged record',
    details: { outcome: 'not-written' },
  });
}

/** @internal An append failed, and cutting it back failed too: it may or may not be in the log. */
export function appendOutcomeUnknown(cause: unknown, cutError: unknown, logFile: string): SessionError {
  return ioError(cause, logFile, 'append to', {
    outcome:
      `cutting the failed append off failed too (${errnoOf(cutError) ?? String(cutError)}), so whether ` +
      'it is in the log is unknown: it was not acknowledged, and no append is accepted until the ' +
      'session is reopened (reads go on)',
    retryable: false,
    details: { outcome: 'unknown', cutErrno: errnoOf(cutError) ?? null },
  });
}

/** @internal An append refused because an earlier one's outcome is unknown. */
export function refusedAfterUnknown(earlier: SessionError, logFile: string): SessionError {
  return new SessionError(
    'IO_ERROR',
    'store',
    `cannot append to ${logFile}: the outcome of an earlier append is unknown (${earlier.message}); ` +
      'reopen the session (or restart the runtime) once the disk is healthy, and check its messages',
    { cause: earlier, retryable: false, details: { ...earlier.details, outcome: 'refused' } },
  );
}

/**
 * @internal The CORRUPT_FILE error of a damaged log, after setting it aside (unless read-only): it
 * says where the damage is, and how to keep the records before it.
 */
export async function logDamaged(replay: Replay, logFile: string, readOnly: boolean): Promise<SessionError> {
  const good = replay.goodBytes;
  const reason = `${replay.damage} at byte ${replay.damagedAtByte} (record ${replay.damagedAt})`;
  const extra = {
    details: { goodRecords: replay.records, goodBytes: good, damagedAtByte: replay.damagedAtByte },
    advice: (setAsideTo: string | null) =>
      `Its first ${replay.records} records (bytes 0 to ${good}) verify. To keep them and accept the loss ` +
      `of the rest, cut the file to ${good} bytes (truncate -s ${good} ${setAsideTo ?? logFile})` +
      `${setAsideTo ? ' and move it back as chat.log' : ''}; or repair it; then reopen the session.`,
  };
  return readOnly ? corruptFileError(logFile, reason, null, extra) : setAside(logFile, reason, extra);
}
