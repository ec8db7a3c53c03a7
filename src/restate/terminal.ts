/**
 * @internal SessionErrors inside handlers that Restate would otherwise retry forever.
 */
import * as restate from '@restatedev/restate-sdk';
import { SessionError } from '../core/errors.js';

/**
 * Runs `work`, turning a SessionError into a terminal failure that carries its code (Restate
 * would retry any other error forever; a refused commit or no progress would fail the same way
 * again). Errors inside a `ctx.run` step were retried there already.
 */
export async function terminal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SessionError)) throw error;
    throw new restate.TerminalError(error.message, { errorCode: 409, metadata: { code: error.code } });
  }
}
