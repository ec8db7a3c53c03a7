/**
 * @internal Calls an event listener with its failure kept away from the caller: thrown, or (an
 * async listener) rejected, the error goes to `onError`. A rejection left unhandled would end a
 * Node host's process.
 */
export function callListener<E>(
  listener: (event: E) => unknown,
  event: E,
  onError: (error: unknown) => void,
): void {
  try {
    const result = listener(event);
    if (isThenable(result)) result.then(undefined, onError);
  } catch (error) {
    onError(error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
