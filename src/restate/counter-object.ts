/**
 * `dagentCounter`: a tiny virtual object (a count per key: an exclusive `add`, a shared `get`) that
 * `dagent-sessions restate dev|serve` serve until the session object exists, so that a setup can
 * be checked end to end with one call through the ingress.
 */
import * as restate from '@restatedev/restate-sdk';
import { ensurePromiseWithResolvers } from './promise-with-resolvers.js';

ensurePromiseWithResolvers();

/**
 * The counter object. `add(n)` (exclusive: one at a time per key) adds an integer and returns the
 * new count; `get()` (shared: runs beside a running `add`) returns it.
 *
 * @example
 * ```sh
 * curl -X POST http://127.0.0.1:8080/dagentCounter/demo/add -H 'content-type: application/json' -d 2
 * ```
 */
export const counterObject = restate.object({
  name: 'dagentCounter',
  handlers: {
    add: async (ctx: restate.ObjectContext, amount: number): Promise<number> => {
      if (!Number.isSafeInteger(amount)) {
        // Terminal: the same input would fail the same way on every retry.
        throw new restate.TerminalError(`dagentCounter.add takes an integer, got ${JSON.stringify(amount)}`, {
          errorCode: 400,
        });
      }
      const count = ((await ctx.get<number>('count')) ?? 0) + amount;
      ctx.set('count', count);
      return count;
    },
    get: restate.handlers.object.shared(
      async (ctx: restate.ObjectSharedContext): Promise<number> => (await ctx.get<number>('count')) ?? 0,
    ),
  },
});
