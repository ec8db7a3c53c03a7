/**
 * The limits of sessions on Restate, and their checks. Restate caps one journal entry (a state
 * value, a call's argument or answer) at 32 MiB (`message-size-limit`) and an ingress request at
 * 32 MiB too (docs/restate.md, fact 2): past it an invocation fails with RT0003 and is retried
 * until paused, which a caller would see as a hang. So the object refuses before that, with a
 * SessionError that says what to do.
 */
import { SessionError } from '../core/errors.js';
import type { Message } from '../core/types.js';

/** The largest message the object stores (its JSON in UTF-8 bytes), well under the 32 MiB cap. */
export const MAX_MESSAGE_BYTES = 24 * 1024 * 1024;

/** The most one append or one page carries (the client splits larger batches, pages are cut). */
export const PAGE_BYTES = 4 * 1024 * 1024;

/** @internal Refuses a message whose JSON is over {@link MAX_MESSAGE_BYTES}. */
export function assertMessageSize(id: string, message: Message, max = MAX_MESSAGE_BYTES): number {
  const size = Buffer.byteLength(JSON.stringify(message), 'utf8');
  if (size > max) {
    throw new SessionError(
      'MESSAGE_TOO_LARGE',
      'store',
      `session ${id}: message seq ${message.seq} is ${size} bytes as JSON, over the ${max} bytes one Restate ` +
        'state value may hold here (the server caps values at 32 MiB); split it or store large files elsewhere',
      { details: { sessionId: id, seq: message.seq, bytes: size, maxBytes: max } },
    );
  }
  return size;
}
