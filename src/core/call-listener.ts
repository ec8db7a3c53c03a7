import { describeError } from './errors.js';

/**
 * @internal Calls an event listener with its failure kept away from the caller: thrown, or (an
 * async listener) rejected, the error goes to `onError`. A rejection left unhandled would end a
 * Node host's process.
 */
export function callListener<E>(
  listener: (event: E) => unknown,
  event: E,
  onError: (error: unknown, listener: (event: E) => unknown) => void,
): void {
  try {
    const result = listener(event);
    if (isThenable(result)) result.then(undefined, (error: unknown) => onError(error, listener));
  } catch (error) {
    onError(error, listener);
  }
}

/**
 * @internal Logs listeners' errors to `console.error` without flooding it: a listener's error
 * whole, with its stack; the same message again from the same listener only at its 10th, 100th,
 * 1,000th... time, as one line with the count. A listener that threw on every event logged one
 * stack per event: thousands for one long session.
 * @param who - what the listener is, for the log line ("an event listener").
 * @example const onError = listenerErrorLog('an event listener'); onError(error, listener);
 */
export function listenerErrorLog(who: string): (error: unknown, listener: object) => void {
  const last = new WeakMap<object, { message: string; times: number }>();
  return (error, listener) => {
    const message = describeError(error);
    const seen = last.get(listener);
    if (seen === undefined || seen.message !== message) {
      last.set(listener, { message, times: 1 });
      console.error(`[dagent-sessions] [runtime] ${who} threw:`, error);
      return;
    }
    seen.times += 1;
    if (Number.isInteger(Math.log10(seen.times))) {
      console.error(
        `[dagent-sessions] [runtime] ${who} threw the same error ${seen.times} times ` +
          `(repeats are logged at 10, 100, 1,000...): ${message}`,
      );
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
